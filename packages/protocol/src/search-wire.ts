// Wire format of chat.svc.history.search (issue 13): a case-insensitive substring search over the
// current text of the messages a user may read (every channel, and the user's own DMs), newest
// first, paged with an opaque cursor. Request `{q, conv?, cursor?, limit?}`; reply
// `{hits: [HistoryMessage + conv (+ state)], cursor?}`: no cursor means nothing older is left.
// The service scans a bounded number of stored messages per request, so a page may hold fewer
// hits than asked (even none) and still carry a cursor: ask again with it to go on.
import { parseConversationName } from "./conversation-name.ts";
import { HistoryWireError } from "./errors.ts";
import {
  type HistoryMessage,
  type Parsed,
  parseHistoryMessage,
  parseServiceError,
  type WireMsg,
} from "./history-wire.ts";
import { bad, jsonObject, onlyKeys } from "./wire-json.ts";

/** Longest query, characters. */
export const SEARCH_QUERY_MAX_LENGTH = 100;
/** Hits in a page when the request names no limit. */
export const SEARCH_DEFAULT_LIMIT = 20;
/** Most hits in one page. */
export const SEARCH_MAX_LIMIT = 50;
/** Most stored messages the service looks at for one request. */
export const SEARCH_SCAN_MAX = 2000;
/** Longest cursor, characters. */
export const SEARCH_CURSOR_MAX_LENGTH = 64;
/** Largest search request, bytes. */
export const SEARCH_REQUEST_MAX_BYTES = 1024;

const CURSOR = /^[A-Za-z0-9._-]+$/;

/** A search request. */
export interface SearchRequest {
  /** The text to find (case-insensitive), 1 to 100 characters. */
  q: string;
  /** Only this conversation: `#<channel>` or `@<peerKey>` (the user's own DM with that peer). */
  conv?: string;
  /** The previous page's cursor: go on from there. */
  cursor?: string;
  /** Most hits, 1 to 50 (default 20). */
  limit?: number;
}

/**
 * One hit: a stored message as a history page carries it (with its state when it has one: an
 * edited message matched by its edit's text) and its conversation. A deleted message never
 * matches, so a hit always has its token.
 */
export interface SearchHit extends HistoryMessage {
  token: string;
  /** `#<channel>`, or `@<peerKey>` for a DM (the other side, seen from the requester). */
  conv: string;
}

/** A page of hits, newest first. */
export interface SearchPage {
  hits: SearchHit[];
  /** Pass it back to continue; absent when every message has been looked at. */
  cursor?: string;
}

/** Encodes a search request (checked as the service will check it). */
export function encodeSearchRequest(req: SearchRequest): string {
  return JSON.stringify(parseSearchRequest(JSON.stringify(req)));
}

/** Parses a search request; throws HistoryWireError (BAD_REQUEST) with a clear message. */
export function parseSearchRequest(data: Uint8Array | string): SearchRequest {
  const o = jsonObject(data, SEARCH_REQUEST_MAX_BYTES, "a search request");
  onlyKeys(o, ["q", "conv", "cursor", "limit"], "a search request");
  if (typeof o.q !== "string" || o.q.trim().length === 0)
    bad("q must be the text to search for (1 to 100 characters)");
  if (o.q.length > SEARCH_QUERY_MAX_LENGTH)
    bad(`q is ${o.q.length} characters long, the maximum is ${SEARCH_QUERY_MAX_LENGTH}`);
  if (o.conv !== undefined && parseConversationName(o.conv) === undefined)
    bad("conv must be '#<channel>' or '@<user public key>'");
  if (
    o.cursor !== undefined &&
    (typeof o.cursor !== "string" ||
      o.cursor.length > SEARCH_CURSOR_MAX_LENGTH ||
      !CURSOR.test(o.cursor))
  )
    bad("cursor must be the cursor of a previous search reply, unchanged");
  if (
    o.limit !== undefined &&
    (typeof o.limit !== "number" ||
      !Number.isSafeInteger(o.limit) ||
      o.limit < 1 ||
      o.limit > SEARCH_MAX_LIMIT)
  )
    bad(`limit must be a whole number from 1 to ${SEARCH_MAX_LIMIT}`);
  return {
    q: o.q,
    ...(o.conv === undefined ? {} : { conv: o.conv as string }),
    ...(o.cursor === undefined ? {} : { cursor: o.cursor as string }),
    ...(o.limit === undefined ? {} : { limit: o.limit as number }),
  };
}

/** Encodes a page of hits (the service side). */
export function encodeSearchPage(page: SearchPage): string {
  return JSON.stringify(page.cursor === undefined ? { hits: page.hits } : page);
}

/** Largest page a client accepts: 50 envelopes and states of at most ~16 KiB each, plus framing. */
const PAGE_MAX_BYTES = SEARCH_MAX_LIMIT * 2 * (16_384 + 512);

function parseHit(m: unknown): SearchHit {
  const msg = parseHistoryMessage(m);
  const conv = (m as Record<string, unknown>).conv;
  if (parseConversationName(conv) === undefined || msg.token === undefined)
    bad("a search hit needs seq, a chat subject, token, time and conv");
  return { ...msg, token: msg.token, conv: conv as string };
}

/** Parses a search reply: a page, or the service's error. Never throws for a bad reply. */
export function parseSearchReply(msg: WireMsg): Parsed<SearchPage> {
  const err = parseServiceError(msg);
  if (err) return { ok: false, ...err };
  try {
    const o = jsonObject(msg.data, PAGE_MAX_BYTES, "a search page");
    if (!Array.isArray(o.hits)) bad("a search page has hits[]");
    if (o.cursor !== undefined && (typeof o.cursor !== "string" || !CURSOR.test(o.cursor)))
      bad("a search page's cursor is not one");
    const hits = (o.hits as unknown[]).map(parseHit);
    return {
      ok: true,
      value: { hits, ...(typeof o.cursor === "string" ? { cursor: o.cursor } : {}) },
    };
  } catch (e) {
    if (!(e instanceof HistoryWireError)) throw e;
    return {
      ok: false,
      code: "UNKNOWN",
      status: 0,
      message: `unreadable search reply: ${e.message}`,
    };
  }
}
