// The session's NATS connection: how it is opened (the current JWT on every reconnect, our own
// inbox prefix, reconnecting forever), and what its errors mean for the session. Errors are
// told apart by the classes nats-core gives them, not by their text.
import {
  type ConnectionOptions,
  errors,
  jwtAuthenticator,
  type NatsConnection,
} from "@nats-io/nats-core";
import { inboxPrefixFor } from "@natschat/protocol";
import { ChatError } from "./errors.ts";

/** Opens a NATS connection: `connect` (Node) or `wsconnect` (browser). */
export type ConnectFn = (opts: ConnectionOptions) => Promise<NatsConnection>;

/** What opening the session's connection needs. */
export interface OpenOptions {
  connect: ConnectFn;
  servers: string | string[];
  /** Our user key (its inbox prefix is the only one our permissions allow). */
  userKey: string;
  /** The user JWT of the moment: a renewed one is presented on the next reconnect. */
  jwt: () => string;
  seed: string;
  name: string;
  timeoutMs: number;
  extra?: Partial<ConnectionOptions>;
}

/** Connects; a failure is a ChatError (CHAT_CREDS_REFUSED or CHAT_CONNECT_FAILED) with its cause. */
export async function openConnection(o: OpenOptions): Promise<NatsConnection> {
  const seed = new TextEncoder().encode(o.seed);
  try {
    return await o.connect({
      ...o.extra,
      servers: o.servers,
      authenticator: jwtAuthenticator(o.jwt, () => seed),
      inboxPrefix: inboxPrefixFor(o.userKey),
      name: o.name,
      timeout: o.timeoutMs,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    });
  } catch (err) {
    const servers = [o.servers].flat().join(",");
    const text = err instanceof Error ? err.message : String(err);
    if (isAuthRefusal(err)) {
      throw new ChatError(
        "CHAT_CREDS_REFUSED",
        `cannot connect to ${servers}: ${text}; the server refused these creds (revoked, expired or for another operator)`,
        { cause: err },
      );
    }
    throw new ChatError(
      "CHAT_CONNECT_FAILED",
      `cannot connect to ${servers}: ${text}; is the server running? check --server`,
      { cause: err },
    );
  }
}

/** Whether `err` (or one of its causes) is the server refusing the credentials. */
function isAuthRefusal(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof errors.AuthorizationError) return true;
    if (e instanceof errors.UserAuthenticationExpiredError) return true;
  }
  return false;
}

/**
 * The server's text for a revoked user. nats-core has no class for it (it arrives as a
 * ProtocolError), so this one -ERR is recognised by its exact text, and only on that class.
 */
const REVOKED_ERR = "user authentication revoked";

/** What an error on the status stream means for the session. */
export type StatusVerdict =
  | { kind: "revoked" | "expired"; reason: string }
  | { kind: "notice"; text: string };

/** Reads an error of a connection's status stream (`everConnected`: we were in before). */
export function statusVerdict(err: Error, everConnected: boolean): StatusVerdict {
  if (err instanceof errors.ProtocolError && err.message.toLowerCase().includes(REVOKED_ERR)) {
    return {
      kind: "revoked",
      reason: "your access was revoked by an administrator (User Authentication Revoked)",
    };
  }
  if (err instanceof errors.UserAuthenticationExpiredError) {
    return {
      kind: "expired",
      reason:
        "your credentials expired (User Authentication Expired); renew them or register again",
    };
  }
  if (err instanceof errors.AuthorizationError && everConnected) {
    // nats-core puts "account authentication expired" into this class too
    const expired = err.message.toLowerCase().includes("expired");
    return {
      kind: expired ? "expired" : "revoked",
      reason: `the server no longer accepts these credentials (${err.message}); they were revoked or expired`,
    };
  }
  if (err instanceof errors.PermissionViolationError) {
    return { kind: "notice", text: `the server denied ${err.operation} on ${err.subject}` };
  }
  return { kind: "notice", text: err.message };
}
