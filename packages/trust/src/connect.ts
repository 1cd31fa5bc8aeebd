// Connects a role to NATS from Node with its creds and its own inbox prefix. Services reconnect
// forever with backoff; CLI verbs fail fast.
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
  /** reconnect forever with backoff, also waiting for a first server (services). */
  reconnectForever?: boolean;
  timeoutMs?: number;
  tlsCaFile?: string;
  /**
   * Capture the caller's stack in every request (nats.js `noAsyncTraces` off, its default).
   * Services turn it off: two Error objects per request were 7% of the access service's CPU.
   */
  asyncTraces?: boolean;
}

/** Backoff of the n-th reconnect attempt: 250 ms doubling to 10 s, ±20% jitter. */
function reconnectDelay(attempt: number): number {
  const base = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6));
  return Math.round(base * (0.8 + Math.random() * 0.4));
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
  return connectWithCreds(creds, opts.credsPath, opts);
}

/** Like connectRole, with creds already in hand (e.g. from a mounted Secret); label names them. */
export async function connectWithCreds(
  creds: Uint8Array,
  label: string,
  opts: Omit<RoleConnectOptions, "credsPath">,
): Promise<NatsConnection> {
  let attempt = 0;
  try {
    const nc = await connect({
      servers: opts.servers,
      authenticator: credsAuthenticator(creds),
      inboxPrefix: inboxPrefixFor(opts.inboxOwner),
      name: opts.name ?? `natschat-${opts.inboxOwner}`,
      timeout: opts.timeoutMs ?? 5000,
      maxReconnectAttempts: opts.reconnectForever ? -1 : 10,
      waitOnFirstConnect: opts.reconnectForever === true,
      reconnectDelayHandler: () => reconnectDelay(attempt++),
      tls: opts.tlsCaFile ? { caFile: opts.tlsCaFile } : undefined,
      noAsyncTraces: opts.asyncTraces === false,
    });
    void (async () => {
      for await (const s of nc.status()) if (s.type === "reconnect") attempt = 0;
    })();
    return nc;
  } catch (err) {
    throw new TrustError(
      "CONNECT_FAILED",
      `cannot connect to ${[opts.servers].flat().join(",")} with ${label}: ${(err as Error).message}`,
    );
  }
}
