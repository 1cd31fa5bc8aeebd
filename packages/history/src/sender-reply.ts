// The one way the history writers (posts and events) answer a sender: only into the sender's own
// inbox (`_INBOX_<senderKey>.…`), because the service may answer any request once and must not be
// made to publish into a third party's inbox; with the body, or with the error headers and an
// empty body. A connection that is closing cannot answer: the sender retries.
import { headers, type Msg } from "@nats-io/nats-core";
import { type HistoryErrorCode, serviceErrorHeaders } from "@natschat/protocol";
import type { Logger } from "./log.ts";

/** What to answer: a body, or an error. */
export type SenderReply =
  | { ok: true; body: string }
  | { ok: false; code: HistoryErrorCode; message: string };

/**
 * Answers `msg` from `sender` (the key its subject names) with `reply`; false when the answer was
 * withheld because the reply subject is not in the sender's own inbox.
 */
export function answerSender(
  msg: Msg,
  sender: string | undefined,
  reply: SenderReply,
  log: Logger,
): boolean {
  if (!sender || !msg.reply?.startsWith(`_INBOX_${sender}.`)) return false;
  try {
    if (reply.ok) msg.respond(reply.body);
    else {
      const h = headers();
      for (const [k, v] of serviceErrorHeaders(reply.code, reply.message)) h.set(k, v);
      msg.respond("", { headers: h });
    }
  } catch (err) {
    log.debug("cannot answer", { err });
  }
  return true;
}
