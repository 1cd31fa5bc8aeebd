// Search (issue 13): chat.svc.history.search finds a case-insensitive substring in the current
// text of the messages a user may read — every channel, and the user's own DMs (the user is the
// server's word, never the request's) — newest first, paged with a cursor.
//
// Bounded work per request: it looks at most SEARCH_SCAN_MAX stored messages, fetched by sequence
// (direct get, pipelined in batches), then answers with what it found and a cursor to go on. The
// sequences come from the history index for one conversation or the user's DMs; for "every
// channel" they are the posts stream's own sequence range (every stored post is a channel post,
// so the range is exactly the set to search; a sequence the stream no longer has costs one empty
// get and counts as looked at). Two stores (posts, DMs) have unrelated sequences: their hits are
// merged by stored time, and the cursor holds a position in each (`<posts>.<dms>`, 0 when done).
//
// A message's current text is its latest edit's; a deleted message never matches. Both come from
// the message states (state.ts, bucket natschat-state) through the `states` lookup, which reads
// only the messages the bucket's watch says have a state.
import type { DirectStreamAPI, StoredMsg } from "@nats-io/jetstream";
import type { ServiceMsg } from "@nats-io/services";
import {
  conversationName,
  decodeJwtUnverified,
  encodeSearchPage,
  liveSubject,
  type MessageState,
  parseChatSubject,
  parseConversationName,
  parseSearchRequest,
  SEARCH_DEFAULT_LIMIT,
  SEARCH_SCAN_MAX,
  type SearchHit,
  type SearchPage,
  type SearchRequest,
} from "@natschat/protocol";
import { InFlightLimit } from "./in-flight.ts";
import { type ConversationIndex, channelKey, pairDmsKey, userDmsKey } from "./index.ts";
import type { Logger } from "./log.ts";
import { type ReaderStats, ReadRefusal } from "./readers.ts";
import { answerUser } from "./user-endpoint.ts";

/** Stored messages fetched at once from one store (the first batch: twice the hits asked for). */
const BATCH = 250;
/** The position of a store not started yet. */
const NEWEST = Number.MAX_SAFE_INTEGER;

/** The current state of some stored messages (edits, deletions), by sequence. */
export type StateLookup = (
  store: "posts" | "dms",
  seqs: number[],
) => Promise<Map<number, MessageState>>;

/** Options of the search endpoint. */
export interface SearchOptions {
  chatAccount: string;
  direct: DirectStreamAPI;
  posts: {
    stream: string;
    index: ConversationIndex;
    /** The posts stream's first and last sequence now. */
    bounds(): Promise<{ first: number; last: number }>;
    /** Resolves once the index holds what the stream held when asked (≤ 2 s). */
    caughtUp(): Promise<void>;
  };
  dms: { stream: string; index: ConversationIndex; caughtUp(): Promise<void> };
  /** The message states (MessageStates.readMany). Without: the text as sent, nothing deleted. */
  states?: StateLookup;
  /** Largest reply, bytes. */
  maxReplyBytes: number;
  log: Logger;
}

/** One store's part of a search: where it stands and what it fetched but has not used yet. */
interface Source {
  store: "posts" | "dms";
  stream: string;
  /** Everything at or above it was looked at and used: the cursor's position. 0 when done. */
  before: number;
  /** The next fetch starts below it. */
  fetchBefore: number;
  /** The next up to `n` sequences below `below`, newest first. */
  seqsBelow(below: number, n: number): number[];
  /** Fetched hits not yet used, newest first. */
  hits: { seq: number; time: number; hit: SearchHit; bytes: number }[];
  drained: boolean;
  /** Whether it fetched before (a first batch is smaller: most searches want one page). */
  fetched: boolean;
}

/** Parses `<posts>.<dms>`; BAD_REQUEST for anything else. */
function parseCursor(cursor: string | undefined): [number, number] {
  if (cursor === undefined) return [NEWEST, NEWEST];
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(cursor);
  const pair = m ? [Number(m[1]), Number(m[2])] : [];
  if (pair.length !== 2 || pair.some((n) => !Number.isSafeInteger(n)))
    throw new ReadRefusal(
      "BAD_REQUEST",
      "cursor must be the cursor of a previous search reply, unchanged",
    );
  return pair as [number, number];
}

function messageText(token: string): string | undefined {
  try {
    const nats = decodeJwtUnverified(token, 32_768).payload.nats as { msg?: unknown } | undefined;
    return typeof nats?.msg === "string" ? nats.msg : undefined;
  } catch {
    return undefined; // not an envelope (the writer stores only verified ones): never a hit
  }
}

/** The search endpoint's logic. */
export class Search {
  readonly stats: ReaderStats = { ok: 0, errors: {} };
  readonly #limit = new InFlightLimit(8, 2);

  constructor(readonly opts: SearchOptions) {}

  /** Handles one request on chat.svc.history.search; every outcome is a reply. */
  handle(msg: ServiceMsg): Promise<void> {
    return answerUser(
      {
        chatAccount: this.opts.chatAccount,
        limit: this.#limit,
        stats: this.stats,
        log: this.opts.log,
        endpoint: "search",
      },
      msg,
      async (who, data) => encodeSearchPage(await this.search(who.user, parseSearchRequest(data))),
    );
  }

  /** One page of `user`'s search. */
  async search(user: string, req: SearchRequest): Promise<SearchPage> {
    const [postsAt, dmsAt] = parseCursor(req.cursor);
    const conv = req.conv === undefined ? undefined : parseConversationName(req.conv);
    const sources: Source[] = [];
    if (conv?.kind !== "dm" && postsAt > 0) {
      if (conv?.kind === "post") {
        if (req.cursor === undefined) await this.opts.posts.caughtUp(); // read-your-writes
        sources.push(this.#indexed("posts", this.opts.posts, channelKey(conv.channel), postsAt));
      } else {
        const { first, last } = await this.opts.posts.bounds();
        sources.push({
          ...this.#source("posts", this.opts.posts.stream, Math.min(postsAt, last + 1)),
          seqsBelow: (below, n) => {
            const out: number[] = [];
            for (let s = below - 1; s >= first && out.length < n; s--) out.push(s);
            return out;
          },
        });
      }
    }
    if (conv?.kind !== "post" && dmsAt > 0) {
      if (req.cursor === undefined) await this.opts.dms.caughtUp(); // read-your-writes
      const key = conv?.kind === "dm" ? pairDmsKey(user, conv.peer) : userDmsKey(user);
      sources.push(this.#indexed("dms", this.opts.dms, key, dmsAt));
    }
    const hits = await this.#merge(sources, user, req);
    const at = (store: "posts" | "dms") => sources.find((s) => s.store === store)?.before ?? 0;
    const done = sources.every((s) => s.before === 0);
    return { hits, ...(done ? {} : { cursor: `${at("posts")}.${at("dms")}` }) };
  }

  #source(store: "posts" | "dms", stream: string, before: number) {
    return { store, stream, before, fetchBefore: before, hits: [], drained: false, fetched: false };
  }

  #indexed(
    store: "posts" | "dms",
    where: { stream: string; index: ConversationIndex },
    key: string,
    before: number,
  ): Source {
    return {
      ...this.#source(store, where.stream, before),
      seqsBelow: (below, n) => where.index.page(key, below, n).seqs.reverse(),
    };
  }

  /** Takes hits newest first from every source, within the scan and reply budgets. */
  async #merge(sources: Source[], user: string, req: SearchRequest): Promise<SearchHit[]> {
    const limit = req.limit ?? SEARCH_DEFAULT_LIMIT;
    const needle = req.q.toLowerCase();
    const hits: SearchHit[] = [];
    let scanned = 0;
    let bytes = 64;
    for (;;) {
      // every source must show its newest unused hit (or be drained) before one is taken
      const refill = sources.filter((s) => s.hits.length === 0 && !s.drained);
      if (refill.length > 0) {
        if (scanned >= SEARCH_SCAN_MAX) break;
        // the sources' batches are fetched at once
        const batches: [Source, number[]][] = [];
        for (const s of refill) {
          if (scanned >= SEARCH_SCAN_MAX) break;
          const batch = s.fetched ? BATCH : Math.min(BATCH, 2 * limit);
          const seqs = s.seqsBelow(s.fetchBefore, Math.min(batch, SEARCH_SCAN_MAX - scanned));
          s.fetched = true;
          scanned += seqs.length;
          if (seqs.length === 0) s.drained = true;
          else batches.push([s, seqs]);
        }
        await Promise.all(
          batches.map(async ([s, seqs]) => {
            s.fetchBefore = seqs[seqs.length - 1] as number;
            s.hits = await this.#fetch(s, seqs, user, needle);
            // everything fetched above the first hit is used up (it did not match)
            s.before = s.hits[0] ? s.hits[0].seq + 1 : s.fetchBefore;
          }),
        );
        continue;
      }
      const live = sources.filter((s) => s.hits.length > 0);
      if (live.length === 0) {
        for (const s of sources) s.before = 0; // every source drained and used up
        break;
      }
      const newest = live.reduce((a, b) =>
        (b.hits[0]?.time ?? 0) > (a.hits[0]?.time ?? 0) ? b : a,
      );
      const next = newest.hits[0] as Source["hits"][number];
      if (bytes + next.bytes > this.opts.maxReplyBytes) break;
      newest.hits.shift();
      hits.push(next.hit);
      bytes += next.bytes;
      // used up to this hit; the unused hits below it are looked at again next time
      newest.before = newest.hits[0] ? newest.hits[0].seq + 1 : newest.fetchBefore;
      if (hits.length >= limit) break;
    }
    // a drained source with nothing left is done
    for (const s of sources) if (s.drained && s.hits.length === 0) s.before = 0;
    return hits;
  }

  /** Fetches `seqs` of a source and keeps its hits, newest first. */
  async #fetch(s: Source, seqs: number[], user: string, needle: string): Promise<Source["hits"]> {
    const got = await Promise.all(
      seqs.map((seq) => this.opts.direct.getMessage(s.stream, { seq })),
    );
    const present = got.filter((m): m is StoredMsg => m !== null);
    const states = this.opts.states
      ? await this.opts.states(
          s.store,
          present.map((m) => m.seq),
        )
      : new Map<number, MessageState>();
    const out: Source["hits"] = [];
    for (const sm of present) {
      const hit = this.#hit(sm, user, needle, states.get(sm.seq));
      if (!hit) continue;
      const bytes =
        hit.token.length +
        hit.subject.length +
        hit.conv.length +
        96 +
        (hit.state ? JSON.stringify(hit.state).length : 0);
      out.push({ seq: sm.seq, time: sm.time.getTime(), hit, bytes });
    }
    return out;
  }

  /** The hit a stored message makes for `user`, or undefined. */
  #hit(
    sm: StoredMsg,
    user: string,
    needle: string,
    state: MessageState | undefined,
  ): SearchHit | undefined {
    const s = parseChatSubject(sm.subject, { stored: true });
    if (!s || s.kind === "presence") return undefined;
    // defence in depth: only the requester's own DMs, whatever the index said
    if (s.kind === "dm" && s.recipient !== user && s.sender !== user) return undefined;
    if (state?.deleted) return undefined;
    const token = new TextDecoder().decode(sm.data);
    const text = messageText(state?.edit ?? token);
    if (text === undefined || !text.toLowerCase().includes(needle)) return undefined;
    const conv =
      s.kind === "post"
        ? conversationName({ kind: "post", channel: s.channel })
        : conversationName({ kind: "dm", peer: s.sender === user ? s.recipient : s.sender });
    return {
      seq: sm.seq,
      subject: liveSubject(s),
      token,
      time: sm.time.toISOString(),
      conv,
      ...(state ? { state } : {}),
    };
  }
}
