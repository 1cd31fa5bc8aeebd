// The options of a ChatSession and the creds it runs on.
import type { ConnectionOptions } from "@nats-io/nats-core";
import type { ConnectFn } from "./connection.ts";

/** The credentials of a chat user: its issued user JWT and its own user seed. */
export interface ChatCreds {
  jwt: string;
  seed: string;
}

/** Options of ChatSession. */
export interface ChatSessionOptions {
  servers: string | string[];
  connect: ConnectFn;
  /** The CHAT account public key. */
  chatAccount: string;
  /** The CHAT account's signing keys: only user JWTs they signed name anyone. */
  chatSigningKeys: readonly string[];
  /** Channels to join (default DEFAULT_CHANNELS). */
  channels?: readonly string[];
  /** Posts of history per channel, and DMs of history (default 100). */
  historySize?: number;
  /** Most messages kept per conversation (default 1000). */
  maxMessages?: number;
  /**
   * Heartbeat interval, ms (default 30 s); also the period of the directory's ticks we expect
   * (the access service's presencePeriodMs).
   */
  presenceIntervalMs?: number;
  /** Heartbeat lifetime, s (default 60). */
  presenceTtlSeconds?: number;
  /** Connection name shown by the server (default "natschat-chat"). */
  name?: string;
  /** First connect timeout, ms (default 5000). */
  connectTimeoutMs?: number;
  /** Extra connection options (e.g. tls), merged under the session's own. */
  connectionOptions?: Partial<ConnectionOptions>;
  /**
   * Called with the new creds after the session renewed its user JWT (see renewAt): a UI that
   * keeps the creds (a file, the browser's storage) saves them here. The seed is unchanged.
   */
  onRenewed?: (creds: ChatCreds) => void;
  /** Clock, ms since the epoch (default Date.now). */
  now?: () => number;
}
