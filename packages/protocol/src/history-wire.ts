// Wire format of the history service (protocol v3): the read requests on chat.svc.history.posts
// and chat.svc.history.dms and their paged replies, the writer's reply to a stored post or DM
// (a JetStream PubAck, or an error), and the error headers every natschat service sets.
// Encoders and parsers only, no I/O: the service and the clients share them, and every parser
// rejects what it cannot type at the edge.
import { HistoryWireError } from "./errors.ts";
import { type MessageState, parseMessageState } from "./message-state.ts";
import { isPublicKey } from "./nkey.ts";
import { isValidChannel, parseChatSubject, SERVICE_ERROR_HEADER } from "./subjects.ts";
import { bad, jsonObject, onlyKeys, optSeq } from "./wire-json.ts";

/** Messages in a page when the request names no limit. */
export const HISTORY_DEFAULT_LIMIT = 100;
/** Most messages in one page. */
export const HISTORY_MAX_LIMIT = 200;
/** Largest accepted history request, bytes (they are a few dozen). */
export const HISTORY_REQUEST_MAX_BYTES = 1024;
/** The micro-protocol status header of an error reply (a number such as 400 or 429). */
export const SERVICE_STATUS_HEADER = "Nats-Service-Error-Code";
/** The micro-protocol description header of an error reply. */
export const SERVICE_DESCRIPTION_HEADER = "Nats-Service-Error";

/** Stable codes of the history service's error replies (header `Natschat-Error`). */
export const HistoryErrorCodes = {
  /** The request body is not what the endpoint takes. */
  BAD_REQUEST: "BAD_REQUEST",
  /** A post or DM failed the writer's checks (subject, signature, signer, type). */
  BAD_MESSAGE: "BAD_MESSAGE",
  /** The message's iat is older than the de-duplication window: sign it again. */
  STALE: "STALE",
  /** The sender's daily byte quota is spent; it resets at 00:00 UTC. */
  QUOTA: "QUOTA",
  /** The server did not say who asks (no Nats-Request-Info): the request did not come through CHAT's import. */
  NO_IDENTITY: "NO_IDENTITY",
  /** The stream refused the message (full, or its limits): nothing was stored. */
  STORE_FULL: "STORE_FULL",
  /** The service cannot serve now (starting, stopping, JetStream unavailable): retry later. */
  UNAVAILABLE: "UNAVAILABLE",
  /** A fault of the service; details are in its log. */
  INTERNAL: "INTERNAL",
  /** The event's target (or a reply's) is not a stored message of that conversation. */
  NOT_FOUND: "NOT_FOUND",
  /** The sender may not do that to the target (edit or delete another's message, react in another's DM). */
  FORBIDDEN: "FORBIDDEN",
  /** The target holds as many reactions as it may (distinct emoji or in all). */
  LIMIT: "LIMIT",
} as const;

/** One of HistoryErrorCodes. */
export type HistoryErrorCode = (typeof HistoryErrorCodes)[keyof typeof HistoryErrorCodes];

/** The status number each code travels with. */
export const HISTORY_ERROR_STATUS: Record<HistoryErrorCode, number> = {
  BAD_REQUEST: 400,
  BAD_MESSAGE: 400,
  STALE: 409,
  QUOTA: 429,
  NO_IDENTITY: 403,
  STORE_FULL: 507,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  NOT_FOUND: 404,
  FORBIDDEN: 403,
  LIMIT: 422,
};

/** Request of chat.svc.history.posts: the newest `limit` posts of `channel` before seq `before`. */
export interface HistoryPostsRequest {
  channel: string;
  before?: number;
  limit?: number;
}

/** Request of chat.svc.history.dms: the requester's own DMs (with `peer` only, if given). */
export interface HistoryDmsRequest {
  peer?: string;
  before?: number;
  limit?: number;
}

/** One stored message as a page carries it. */
export interface HistoryMessage {
  /** Stream sequence: pass the first one of a page as `before` to page backward. */
  seq: number;
  /** The LIVE subject (`chat.KUBECON.…`), so a client verifies it as a live message. */
  subject: string;
  /**
   * The signed envelope, as the sender published it; absent only for a deleted message (a
   * tombstone: `state.deleted` says by whom), whose body the service withholds.
   */
  token?: string;
  /** When the stream stored it (ISO 8601). */
  time: string;
  /** Its current state (edit, deletion, reactions, replies), when it has one. */
  state?: MessageState;
}

/** A page of history: oldest first; `more` when older messages exist before the first. */
export interface HistoryPage {
  messages: HistoryMessage[];
  more: boolean;
}

/** The writer's reply to a stored post or DM: the JetStream PubAck of the stored copy. */
export interface StoreAck {
  stream: string;
  seq: number;
  /** True when this message (sender key + jti) was stored before: a replay or a resend. */
  duplicate?: boolean;
}

/** An error reply of a natschat service, parsed. */
export interface ServiceErrorReply {
  code: HistoryErrorCode | "UNKNOWN";
  status: number;
  message: string;
}

/** A reply parsed: the value, or the service's error. */
export type Parsed<T> = { ok: true; value: T } | ({ ok: false } & ServiceErrorReply);

/** What a parser needs of a NATS message: its data and a header lookup (nats.js `msg.headers?.get`). */
export interface WireMsg {
  data: Uint8Array | string;
  header?: (name: string) => string | undefined;
}

function optLimit(o: Record<string, unknown>): number | undefined {
  const v = o.limit;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > HISTORY_MAX_LIMIT)
    bad(`limit must be a whole number from 1 to ${HISTORY_MAX_LIMIT}`);
  return v;
}

/** The page size a request asks for, defaulted and capped. */
export function historyLimit(req: { limit?: number }): number {
  return Math.min(req.limit ?? HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT);
}

/** Encodes a channel history request. */
export function encodeHistoryPostsRequest(req: HistoryPostsRequest): string {
  return JSON.stringify(parseHistoryPostsRequest(JSON.stringify(req)));
}

/** Parses a channel history request; throws HistoryWireError (BAD_REQUEST) with a clear message. */
export function parseHistoryPostsRequest(data: Uint8Array | string): HistoryPostsRequest {
  const o = jsonObject(data, HISTORY_REQUEST_MAX_BYTES, "a history request");
  onlyKeys(o, ["channel", "before", "limit"], "a history request");
  if (typeof o.channel !== "string" || !isValidChannel(o.channel))
    bad("channel must be a channel name of 1 to 32 letters, digits, '-' or '_'");
  const before = optSeq(o, "before");
  const limit = optLimit(o);
  return {
    channel: o.channel,
    ...(before === undefined ? {} : { before }),
    ...(limit === undefined ? {} : { limit }),
  };
}

/** Encodes a DM history request. */
export function encodeHistoryDmsRequest(req: HistoryDmsRequest = {}): string {
  return JSON.stringify(parseHistoryDmsRequest(JSON.stringify(req)));
}

/** Parses a DM history request; throws HistoryWireError (BAD_REQUEST) with a clear message. */
export function parseHistoryDmsRequest(data: Uint8Array | string): HistoryDmsRequest {
  const o = jsonObject(data, HISTORY_REQUEST_MAX_BYTES, "a DM history request");
  onlyKeys(o, ["peer", "before", "limit"], "a DM history request");
  if (o.peer !== undefined && (typeof o.peer !== "string" || !isPublicKey(o.peer, "U")))
    bad("peer must be a user public key (56 characters starting with 'U')");
  const before = optSeq(o, "before");
  const limit = optLimit(o);
  return {
    ...(typeof o.peer === "string" ? { peer: o.peer } : {}),
    ...(before === undefined ? {} : { before }),
    ...(limit === undefined ? {} : { limit }),
  };
}

/** Encodes a page (the service side). */
export function encodeHistoryPage(page: HistoryPage): string {
  return JSON.stringify(page);
}

/** Largest page (history or thread) a client accepts: 200 envelopes of at most 16 KiB, plus framing. */
export const PAGE_MAX_BYTES = HISTORY_MAX_LIMIT * (16_384 + 512);

/** Parses a history reply: a page, or the service's error. Never throws for a bad reply. */
export function parseHistoryReply(msg: WireMsg): Parsed<HistoryPage> {
  const err = parseServiceError(msg);
  if (err) return { ok: false, ...err };
  try {
    const o = jsonObject(msg.data, PAGE_MAX_BYTES, "a history page");
    if (!Array.isArray(o.messages) || typeof o.more !== "boolean")
      bad("a history page has messages[] and more");
    const messages = (o.messages as unknown[]).map(parseHistoryMessage);
    return { ok: true, value: { messages, more: o.more as boolean } };
  } catch (e) {
    if (!(e instanceof HistoryWireError)) throw e;
    return {
      ok: false,
      code: "UNKNOWN",
      status: 0,
      message: `unreadable history reply: ${e.message}`,
    };
  }
}

/**
 * Parses one message of a page (history or thread); throws HistoryWireError. A message without
 * a token must be a tombstone (its state says it was deleted).
 */
export function parseHistoryMessage(m: unknown): HistoryMessage {
  if (typeof m !== "object" || m === null) bad("a history message is not an object");
  const r = m as Record<string, unknown>;
  if (
    typeof r.seq !== "number" ||
    !Number.isSafeInteger(r.seq) ||
    typeof r.subject !== "string" ||
    parseChatSubject(r.subject) === undefined ||
    typeof r.time !== "string"
  )
    bad("a history message needs seq, a chat subject and time");
  const state = r.state === undefined ? undefined : parseMessageState(r.state);
  if (r.state !== undefined && state === undefined) bad("a history message's state is not one");
  if (typeof r.token !== "string" && (r.token !== undefined || !state?.deleted))
    bad("a history message needs a token unless it was deleted");
  return {
    seq: r.seq,
    subject: r.subject,
    ...(typeof r.token === "string" ? { token: r.token } : {}),
    time: r.time,
    ...(state ? { state } : {}),
  };
}

/** Encodes the writer's ack (the service side). */
export function encodeStoreAck(ack: StoreAck): string {
  return JSON.stringify(ack.duplicate ? ack : { stream: ack.stream, seq: ack.seq });
}

/** Parses the writer's reply to a post or DM request: the ack, or the error. Never throws. */
export function parseStoreReply(msg: WireMsg): Parsed<StoreAck> {
  const err = parseServiceError(msg);
  if (err) return { ok: false, ...err };
  try {
    const o = jsonObject(msg.data, 1024, "a store ack");
    if (typeof o.stream !== "string" || typeof o.seq !== "number" || !Number.isSafeInteger(o.seq))
      bad("a store ack has stream and seq");
    return {
      ok: true,
      value: { stream: o.stream, seq: o.seq, ...(o.duplicate === true ? { duplicate: true } : {}) },
    };
  } catch (e) {
    if (!(e instanceof HistoryWireError)) throw e;
    return { ok: false, code: "UNKNOWN", status: 0, message: `unreadable store ack: ${e.message}` };
  }
}

/**
 * Headers of an error reply: the micro-protocol status and description, and our stable code.
 * Set each on the reply's headers (nats.js `headers()`); the body may stay empty.
 */
export function serviceErrorHeaders(code: HistoryErrorCode, message: string): [string, string][] {
  const clean = message
    .replace(/\s*[\r\n]+\s*/g, " ")
    .trim()
    .slice(0, 400);
  return [
    [SERVICE_STATUS_HEADER, String(HISTORY_ERROR_STATUS[code])],
    [SERVICE_DESCRIPTION_HEADER, clean],
    [SERVICE_ERROR_HEADER, code],
  ];
}

/** The error a reply carries in its headers, or undefined if it is not an error reply. */
export function parseServiceError(msg: WireMsg): ServiceErrorReply | undefined {
  const get = msg.header;
  if (!get) return undefined;
  const status = get(SERVICE_STATUS_HEADER);
  const code = get(SERVICE_ERROR_HEADER);
  if (!status && !code) return undefined;
  const known = Object.values(HistoryErrorCodes) as string[];
  return {
    code: code && known.includes(code) ? (code as HistoryErrorCode) : "UNKNOWN",
    status: Number(status) || 0,
    message: get(SERVICE_DESCRIPTION_HEADER) ?? code ?? `error ${status}`,
  };
}
