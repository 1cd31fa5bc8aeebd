// Wire format of a thread (issue 13): the request on chat.svc.history.thread — a root message id
// and a page position — and its reply: the root (when the stream still has it) and a page of
// the replies, oldest first. A reply is stored with the header Natschat-Thread: <rootId> (the
// root of its target's thread), which is how the service's index lists a thread. Encoders and
// parsers only, no I/O.

import { HistoryWireError } from "./errors.ts";
import {
  HISTORY_MAX_LIMIT,
  HISTORY_REQUEST_MAX_BYTES,
  type HistoryMessage,
  PAGE_MAX_BYTES,
  type Parsed,
  parseHistoryMessage,
  parseServiceError,
  type WireMsg,
} from "./history-wire.ts";
import { isMessageId } from "./message-id.ts";
import { bad, jsonObject, onlyKeys, optSeq } from "./wire-json.ts";

/** Header of a stored reply: the message id of its thread's root. */
export const THREAD_HEADER = "Natschat-Thread";

/** Request of chat.svc.history.thread: the replies of `root` before seq `before`. */
export interface ThreadRequest {
  /** The root's message id, `<authorKey>.<jti>`. */
  root: string;
  before?: number;
  limit?: number;
}

/** A page of a thread: its root (absent when no longer stored) and replies, oldest first. */
export interface ThreadPage {
  root?: HistoryMessage;
  messages: HistoryMessage[];
  /** Older replies exist before the first. */
  more: boolean;
}

/** Encodes a thread request. */
export function encodeThreadRequest(req: ThreadRequest): string {
  return JSON.stringify(parseThreadRequest(JSON.stringify(req)));
}

/** Parses a thread request; throws HistoryWireError (BAD_REQUEST) with a clear message. */
export function parseThreadRequest(data: Uint8Array | string): ThreadRequest {
  const o = jsonObject(data, HISTORY_REQUEST_MAX_BYTES, "a thread request");
  onlyKeys(o, ["root", "before", "limit"], "a thread request");
  if (!isMessageId(o.root)) bad("root must be a message id: <author key>.<jti>");
  const before = optSeq(o, "before");
  const limit = o.limit === undefined || o.limit === null ? undefined : checkLimit(o.limit);
  return {
    root: o.root,
    ...(before === undefined ? {} : { before }),
    ...(limit === undefined ? {} : { limit }),
  };
}

function checkLimit(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > HISTORY_MAX_LIMIT)
    bad(`limit must be a whole number from 1 to ${HISTORY_MAX_LIMIT}`);
  return v;
}

/** Encodes a thread page (the service side). */
export function encodeThreadPage(page: ThreadPage): string {
  return JSON.stringify(page);
}

/** Parses a thread reply: a page, or the service's error. Never throws for a bad reply. */
export function parseThreadReply(msg: WireMsg): Parsed<ThreadPage> {
  const err = parseServiceError(msg);
  if (err) return { ok: false, ...err };
  try {
    const o = jsonObject(msg.data, PAGE_MAX_BYTES, "a thread page");
    if (!Array.isArray(o.messages) || typeof o.more !== "boolean")
      bad("a thread page has messages[] and more");
    const root = o.root === undefined ? undefined : parseHistoryMessage(o.root);
    const messages = (o.messages as unknown[]).map(parseHistoryMessage);
    return { ok: true, value: { ...(root ? { root } : {}), messages, more: o.more as boolean } };
  } catch (e) {
    if (!(e instanceof HistoryWireError)) throw e;
    return {
      ok: false,
      code: "UNKNOWN",
      status: 0,
      message: `unreadable thread reply: ${e.message}`,
    };
  }
}
