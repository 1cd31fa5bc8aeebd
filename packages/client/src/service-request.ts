// One request to a natschat service endpoint (history writer events, read state, thread, search)
// on the connection of the moment, with the reply parsed at the edge. A refusal becomes a
// ChatError whose code is the service's own (FORBIDDEN, NOT_FOUND, LIMIT, …); no answer in time,
// or no responder, is UNAVAILABLE (judged by the error's class, never its text).
import { errors, type NatsConnection } from "@nats-io/nats-core";
import type { Parsed, WireMsg } from "@natschat/protocol";
import { ChatError } from "./errors.ts";

/** How long a service request waits for its answer. */
export const SERVICE_TIMEOUT_MS = 5000;

/** Sends `body` to `subject`, parses the answer; `what` names the request in errors. */
export async function requestService<T>(
  nc: () => NatsConnection | undefined,
  subject: string,
  body: string,
  parse: (m: WireMsg) => Parsed<T>,
  what: string,
  timeoutMs = SERVICE_TIMEOUT_MS,
): Promise<T> {
  const conn = nc();
  if (!conn || conn.isClosed()) {
    throw new ChatError("CHAT_STOPPED", `${what}: the session is not connected`);
  }
  let reply: WireMsg;
  try {
    const m = await conn.request(subject, body, { timeout: timeoutMs });
    reply = { data: m.data, header: (h) => m.headers?.get(h) || undefined };
  } catch (err) {
    const noAnswer =
      err instanceof errors.TimeoutError ||
      err instanceof errors.NoRespondersError ||
      (err instanceof errors.RequestError && err.isNoResponders());
    if (!noAnswer) throw err;
    throw new ChatError(
      "UNAVAILABLE",
      `${what}: the history service did not answer in time; try again`,
      { cause: err, serviceCode: "UNAVAILABLE" },
    );
  }
  const r = parse(reply);
  if (r.ok) return r.value;
  throw new ChatError(r.code, `${what}: ${r.message}`, { serviceCode: r.code });
}
