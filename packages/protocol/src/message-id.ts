// A message's id: `<authorKey>.<jti>`, the JetStream Nats-Msg-Id the history writer stores it
// under. Message events (reply, edit, react, delete, moderation) name their target by it, so a
// client can refer to a message it received live, before it knows the stream sequence.
import { isPublicKey } from "./nkey.ts";

const JTI = /^[A-Za-z0-9_-]{1,128}$/;

/** The id of the message `jti` signed by `author`. */
export function messageId(author: string, jti: string): string {
  return `${author}.${jti}`;
}

/** The author and jti of a message id, or undefined when it is not one. */
export function parseMessageId(id: unknown): { author: string; jti: string } | undefined {
  if (typeof id !== "string" || id.length > 56 + 1 + 128) return undefined;
  const dot = id.indexOf(".");
  if (dot !== 56) return undefined;
  const author = id.slice(0, dot);
  const jti = id.slice(dot + 1);
  if (!isPublicKey(author, "U") || !JTI.test(jti)) return undefined;
  return { author, jti };
}

/** Whether `id` is a message id. */
export function isMessageId(id: unknown): id is string {
  return parseMessageId(id) !== undefined;
}
