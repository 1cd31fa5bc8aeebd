// The service's NATS connections: creds from a file (a data dir or a mounted Secret) or from
// memory, an inbox prefix of their own, and for long-lived ones reconnects forever with an
// exponential backoff plus jitter, logging every state change.
import { readFile } from "node:fs/promises";
import type { NatsConnection } from "@nats-io/nats-core";
import { connectWithCreds } from "@natschat/trust";
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
  let nc: NatsConnection;
  try {
    nc = await connectWithCreds(creds, "path" in opts.creds ? opts.creds.path : "the given creds", {
      servers: opts.servers,
      inboxOwner: opts.inboxOwner,
      name: opts.name,
      reconnectForever: opts.forever,
      tlsCaFile: opts.tlsCaFile,
      // a service's errors carry their code and message; the request's stack is not worth
      // two Error objects per request on the hot path
      asyncTraces: false,
    });
  } catch (err) {
    throw new AccessServiceError("CONNECT_FAILED", (err as Error).message, { cause: err });
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
