// NATS connections of the browser, over websocket (wsconnect of @nats-io/nats-core; the old
// nats.ws package is deprecated). Each identity uses its own inbox prefix, the only one its
// permissions allow: `_INBOX_bootstrap` to register, `_INBOX_admin` for the admin page, and
// `_INBOX_<user key>` for a chat session (set by ChatSession itself).
import {
  type ConnectionOptions,
  credsAuthenticator,
  errors,
  type NatsConnection,
  wsconnect,
} from "@nats-io/nats-core";
import { inboxPrefixFor } from "@natschat/protocol";

/** wsconnect, typed as the ConnectFn that ChatSession takes. */
export const connectWebSocket = (opts: ConnectionOptions): Promise<NatsConnection> =>
  wsconnect(opts);

/** Connects with a creds file's text as a role ("bootstrap", "admin") with its inbox prefix. */
export async function connectRoleWs(
  servers: string[],
  credsText: string,
  role: "bootstrap" | "admin",
  opts: Partial<ConnectionOptions> = {},
): Promise<NatsConnection> {
  try {
    return await wsconnect({
      servers,
      authenticator: credsAuthenticator(new TextEncoder().encode(credsText)),
      inboxPrefix: inboxPrefixFor(role),
      name: `natschat-web-${role}`,
      timeout: 5000,
      ...opts,
    });
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const refused =
      err instanceof errors.AuthorizationError ||
      err instanceof errors.UserAuthenticationExpiredError;
    const hint = refused ? "the server refused these creds" : "is `natschat up` running?";
    throw new Error(`cannot connect to ${servers.join(", ")}: ${text} (${hint})`, { cause: err });
  }
}
