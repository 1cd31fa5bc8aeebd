// Connects a role to NATS from Node with its creds file and its own inbox prefix.
import { readFile } from "node:fs/promises";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { inboxPrefixFor } from "@natschat/protocol";
import { TrustError } from "./errors.ts";

export interface RoleConnectOptions {
  servers: string | string[];
  credsPath: string;
  /** the role (or user key) whose inbox prefix the permissions allow. */
  inboxOwner: string;
  name?: string;
  /** reconnect forever (services) instead of failing fast (CLI verbs). */
  reconnectForever?: boolean;
  timeoutMs?: number;
  tlsCaFile?: string;
}

/** Opens a NATS connection for a role; errors name the server and the creds used. */
export async function connectRole(opts: RoleConnectOptions): Promise<NatsConnection> {
  let creds: Uint8Array;
  try {
    creds = await readFile(opts.credsPath);
  } catch (err) {
    throw new TrustError(
      "CREDS_UNREADABLE",
      `cannot read creds ${opts.credsPath} (${(err as NodeJS.ErrnoException).code}); pass --creds FILE or run \`natschat init\``,
    );
  }
  try {
    return await connect({
      servers: opts.servers,
      authenticator: credsAuthenticator(creds),
      inboxPrefix: inboxPrefixFor(opts.inboxOwner),
      name: opts.name ?? `natschat-${opts.inboxOwner}`,
      timeout: opts.timeoutMs ?? 5000,
      maxReconnectAttempts: opts.reconnectForever ? -1 : 10,
      reconnectTimeWait: 1000,
      tls: opts.tlsCaFile ? { caFile: opts.tlsCaFile } : undefined,
    });
  } catch (err) {
    throw new TrustError(
      "CONNECT_FAILED",
      `cannot connect to ${[opts.servers].flat().join(",")} with ${opts.credsPath}: ${(err as Error).message}`,
    );
  }
}
