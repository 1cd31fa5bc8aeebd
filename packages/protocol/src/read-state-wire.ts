// Wire format of chat.svc.history.readstate (issue 13): a user's last-read position per
// conversation and its muted conversations, kept by the history service (KV natschat-read) and
// shared by all of the user's sessions. Requests: {"op":"get"}, {"op":"read","conv","seq"} (moves
// forward only), {"op":"mute","conv","muted"}. Every answer, and every change the service
// publishes on the user's private feed (chat.KUBECON.user.<key>.read), is the whole state:
// {rev, read: {conv: seq}, muted: [conv], unread: {conv: n}} (rev: the stored revision). Who the user is comes from the server
// (Nats-Request-Info), never from the request. Parsers of replies never throw.
import { parseConversationName } from "./conversation-name.ts";
import { HistoryWireError } from "./errors.ts";
import { type Parsed, parseServiceError, type WireMsg } from "./history-wire.ts";
import { bad, jsonObject, onlyKeys } from "./wire-json.ts";

/**
 * Most conversations one user's read state holds (read positions and mutes together): with a
 * position and a mute each (~130 bytes with a peer's key), 400 fit the bucket's 64 KiB values.
 */
export const READ_STATE_MAX_CONVERSATIONS = 400;
/** Unread counts stop here: the UI shows "999+". */
export const UNREAD_CAP = 999;
/** Largest read-state request, bytes. */
export const READ_STATE_REQUEST_MAX_BYTES = 512;
/** Largest read-state reply: 400 conversations three times (position, count, mute), and room. */
export const READ_STATE_REPLY_MAX_BYTES = 128 * 1024;

/** A request of chat.svc.history.readstate. */
export type ReadStateRequest =
  | { op: "get" }
  | { op: "read"; conv: string; seq: number }
  | { op: "mute"; conv: string; muted: boolean };

/** A user's read state: positions (stream sequences) and muted conversations. */
export interface ReadPositions {
  /**
   * The stored state's revision (0 before the first change): feed messages of two changes may
   * arrive in either order, so a session keeps the state with the highest.
   */
  rev: number;
  /** Conversation (`#chan`, `@peer`) → the last stream sequence read there. */
  read: Record<string, number>;
  /** Muted conversations. */
  muted: string[];
}

/** The service's answer (and feed message): positions, mutes and unread counts. */
export interface ReadState extends ReadPositions {
  /** Conversation → messages after its position not sent by the user (at most UNREAD_CAP). */
  unread: Record<string, number>;
}

function conv(o: Record<string, unknown>): string {
  if (parseConversationName(o.conv) === undefined)
    bad("conv must be '#<channel>' or '@<user public key>'");
  return o.conv as string;
}

/** Encodes a read-state request (checked as the service will check it). */
export function encodeReadStateRequest(req: ReadStateRequest): string {
  return JSON.stringify(parseReadStateRequest(JSON.stringify(req)));
}

/** Parses a read-state request; throws HistoryWireError (BAD_REQUEST) with a clear message. */
export function parseReadStateRequest(data: Uint8Array | string): ReadStateRequest {
  const o = jsonObject(data, READ_STATE_REQUEST_MAX_BYTES, "a read-state request");
  if (o.op === "get") {
    onlyKeys(o, ["op"], "a read-state get");
    return { op: "get" };
  }
  if (o.op === "read") {
    onlyKeys(o, ["op", "conv", "seq"], "a read-state read");
    const c = conv(o);
    if (typeof o.seq !== "number" || !Number.isSafeInteger(o.seq) || o.seq < 1)
      bad("seq must be the stream sequence of the last message read (a whole number ≥ 1)");
    return { op: "read", conv: c, seq: o.seq };
  }
  if (o.op === "mute") {
    onlyKeys(o, ["op", "conv", "muted"], "a read-state mute");
    const c = conv(o);
    if (typeof o.muted !== "boolean") bad("muted must be true or false");
    return { op: "mute", conv: c, muted: o.muted };
  }
  return bad('op must be "get", "read" or "mute"');
}

/** Encodes a read state (the service side). */
export function encodeReadState(s: ReadState): string {
  return JSON.stringify({ rev: s.rev, read: s.read, muted: s.muted, unread: s.unread });
}

function countMap(v: unknown, what: string): Record<string, number> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) bad(`${what} must be an object`);
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(v as Record<string, unknown>)) {
    if (parseConversationName(k) === undefined || typeof n !== "number" || !Number.isSafeInteger(n))
      bad(`${what} maps conversations to whole numbers`);
    out[k] = n as number;
  }
  return out;
}

/** Parses a read state (a reply body or a feed message); undefined when it is not one. */
export function parseReadState(data: Uint8Array | string): ReadState | undefined {
  try {
    const o = jsonObject(data, READ_STATE_REPLY_MAX_BYTES, "a read state");
    onlyKeys(o, ["rev", "read", "muted", "unread"], "a read state");
    if (typeof o.rev !== "number" || !Number.isSafeInteger(o.rev) || o.rev < 0)
      bad("rev must be a whole number");
    const read = countMap(o.read, "read");
    const unread = countMap(o.unread, "unread");
    if (!Array.isArray(o.muted) || o.muted.some((c) => parseConversationName(c) === undefined))
      bad("muted must be a list of conversations");
    return { rev: o.rev as number, read, muted: o.muted as string[], unread };
  } catch (e) {
    if (e instanceof HistoryWireError) return undefined;
    throw e;
  }
}

/** Parses the service's reply to a read-state request: the state, or its error. Never throws. */
export function parseReadStateReply(msg: WireMsg): Parsed<ReadState> {
  const err = parseServiceError(msg);
  if (err) return { ok: false, ...err };
  const value = parseReadState(msg.data);
  if (!value)
    return {
      ok: false,
      code: "UNKNOWN",
      status: 0,
      message: "unreadable read-state reply: not {rev, read, muted, unread}",
    };
  return { ok: true, value };
}
