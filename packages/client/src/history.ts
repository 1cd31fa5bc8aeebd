// Reads the last N messages of a channel, or of our own DMs, from the history service
// (chat.svc.history.posts / .dms, reached through CHAT's share:true import: the service learns
// who asks from the server, and a chat user has no JetStream API at all). Pages come oldest
// first; `before` pages backward until N messages are read or there are no more.
import { errors, type NatsConnection } from "@nats-io/nats-core";
import {
  encodeHistoryDmsRequest,
  encodeHistoryPostsRequest,
  HISTORY_DMS_SUBJECT,
  HISTORY_MAX_LIMIT,
  HISTORY_POSTS_SUBJECT,
  type HistoryMessage,
  type HistoryPage,
  parseHistoryReply,
} from "@natschat/protocol";
import { ChatError } from "./errors.ts";

/** What a history read asks for: a channel's posts, or our DMs. */
export type HistoryQuery = { channel: string } | { dms: true; peer?: string };

/** Fetches one page of history (`before`: a stream sequence to page backward from). */
export type HistoryFetch = (
  q: HistoryQuery,
  page: { before?: number; limit: number },
) => Promise<HistoryPage>;

/** Service codes a read may meet for a moment (the service starting, or stopping). */
const TRANSIENT_CODES = new Set(["UNAVAILABLE"]);

/** A fetch on the connection of the moment: one request per page. */
export function natsHistoryFetch(
  nc: () => NatsConnection | undefined,
  timeoutMs = 5000,
): HistoryFetch {
  return async (q, page) => {
    const conn = nc();
    if (!conn || conn.isClosed()) throw new errors.ClosedConnectionError();
    const [subject, body] =
      "channel" in q
        ? [HISTORY_POSTS_SUBJECT, encodeHistoryPostsRequest({ channel: q.channel, ...page })]
        : [
            HISTORY_DMS_SUBJECT,
            encodeHistoryDmsRequest({ ...(q.peer === undefined ? {} : { peer: q.peer }), ...page }),
          ];
    const m = await conn.request(subject, body, { timeout: timeoutMs });
    const r = parseHistoryReply({ data: m.data, header: (h) => m.headers?.get(h) || undefined });
    if (!r.ok) {
      throw new ChatError("CHAT_HISTORY_FAILED", `the history service refused: ${r.message}`, {
        serviceCode: r.code,
      });
    }
    return r.value;
  };
}

/** The last `n` messages of `q`, oldest first (several pages when n is above a page). */
export async function readLast(
  fetch: HistoryFetch,
  q: HistoryQuery,
  n: number,
): Promise<HistoryMessage[]> {
  const out: HistoryMessage[] = [];
  let before: number | undefined;
  while (out.length < n) {
    const limit = Math.min(n - out.length, HISTORY_MAX_LIMIT);
    const page = await fetch(q, { ...(before === undefined ? {} : { before }), limit });
    out.unshift(...page.messages);
    const first = page.messages[0];
    if (!page.more || first === undefined) break;
    before = first.seq;
  }
  return out.slice(-n);
}

/**
 * Whether a read met an error that goes away by itself, judged by its class (and its causes'):
 * no responders (the service is starting, or its import not yet propagated), a timeout, or the
 * service saying it is unavailable for now.
 */
export function isTransient(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof errors.NoRespondersError || e instanceof errors.TimeoutError) return true;
    if (e instanceof errors.RequestError && e.isNoResponders()) return true;
    if (e instanceof ChatError && e.serviceCode !== undefined) {
      return TRANSIENT_CODES.has(e.serviceCode);
    }
  }
  return false;
}

/** readLast, retried with backoff (about 6 s in all) while the error is a transient one. */
export async function readLastRetrying(
  fetch: HistoryFetch,
  q: HistoryQuery,
  n: number,
): Promise<HistoryMessage[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await readLast(fetch, q, n);
    } catch (err) {
      if (attempt >= 5 || !isTransient(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2000, 200 * 2 ** attempt)));
    }
  }
}
