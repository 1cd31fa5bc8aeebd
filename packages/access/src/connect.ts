// The service's NATS connections: creds from a file (a data dir or a mounted Secret) or from
// memory, an inbox prefix of their own, and for long-lived ones reconnects forever with an
// exponential backoff plus jitter, logging every state change.
import { readFile } from "node:fs/promises";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { inboxPrefixFor } from "@natschat/protocol";
import { AccessServiceError } from "./errors.ts";
import type { Logger } from "./log.ts";

/** Options of connectService. */
export interface ServiceConnectOptions {
  servers: string[];
  /** A creds file path, or the creds text itself. */
  creds: { path: string } | { text: string };
  /** Role or user key whose inbox prefix the permissions allow. */
  inboxOwner: string;
  name: string;
  /** Reconnect forever with backoff (the service's own connections). */
  forever?: boolean;
  tlsCaFile?: string;
  log: Logger;
}

/** Backoff of the n-th reconnect attempt: 250 ms doubling to 10 s, ±20% jitter. */
export function reconnectDelay(attempt: number): number {
  const base = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Reads a creds file, with an error that names it. */
export async function readCredsFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new AccessServiceError(
      "KEY_UNREADABLE",
      `cannot read creds ${path} (${(err as NodeJS.ErrnoException).code}); pass the right path or run \`natschat init\``,
    );
  }
}

/** Connects and logs disconnects, reconnects and errors. */
export async function connectService(opts: ServiceConnectOptions): Promise<NatsConnection> {
  const creds =
    "path" in opts.creds
      ? await readCredsFile(opts.creds.path)
      : new TextEncoder().encode(opts.creds.text);
  let attempt = 0;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: opts.servers,
      authenticator: credsAuthenticator(creds),
      inboxPrefix: inboxPrefixFor(opts.inboxOwner),
      name: opts.name,
      timeout: 5000,
      maxReconnectAttempts: opts.forever ? -1 : 3,
      waitOnFirstConnect: opts.forever === true,
      reconnectDelayHandler: () => reconnectDelay(attempt++),
      tls: opts.tlsCaFile ? { caFile: opts.tlsCaFile } : undefined,
    });
  } catch (err) {
    throw new AccessServiceError(
      "CONNECT_FAILED",
      `cannot connect ${opts.name} to ${opts.servers.join(",")}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const log = opts.log.child({ conn: opts.name });
  log.info("connected", { server: nc.getServer() });
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case "disconnect":
          log.warn("disconnected", { server: s.server });
          break;
        case "reconnecting":
          break;
        case "reconnect":
          attempt = 0;
          log.info("reconnected", { server: s.server });
          break;
        case "error":
          log.warn("connection error", { err: s.error });
          break;
        default:
          log.debug("connection status", { type: s.type });
      }
    }
  })();
  return nc;
}
