// The history readers: chat.svc.history.posts, .dms and .thread, endpoints of the micro
// service natschat-history on the ADMIN connection (chat users reach them through CHAT's
// share:true import). Who asks is taken ONLY from the Nats-Request-Info header the server sets
// on an imported request; a request that did not come through CHAT's import has no trustworthy
// header (inside ADMIN nobody but the services may publish on chat.svc.>) and is refused. A page
// is the index's last N sequences before `before`, whose bodies are fetched by sequence (direct
// get, pipelined, from any replica), converted back to their live subjects. Each message carries
// its state (issue 13) when it has one — fetched only for the sequences the state bucket's watch
// says have one, alongside the bodies — and a deleted message is a tombstone: its body is
// withheld (no token), its state says by whom. A thread is the root and a page of the index's
// `t <rootId>` list; a DM thread is served to its participants only.
import type { DirectStreamAPI, StoredMsg } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import type { ServiceMsg } from "@nats-io/services";
import {
  encodeHistoryPage,
  encodeThreadPage,
  ForgedRequestInfoError,
  type HistoryErrorCode,
  type HistoryMessage,
  HistoryWireError,
  historyLimit,
  isPublicKey,
  liveSubject,
  type MessageState,
  type MessageStore,
  parseChatSubject,
  parseHistoryDmsRequest,
  parseHistoryPostsRequest,
  parseRequestInfo,
  parseThreadRequest,
  relayedByLeafnode,
  requestInfoText,
  serviceErrorHeaders,
} from "@natschat/protocol";
import {
  type ConversationIndex,
  channelKey,
  keysOf,
  pairDmsKey,
  threadKey,
  userDmsKey,
} from "./index.ts";
import type { Logger } from "./log.ts";
import type { MessageStates } from "./state.ts";

/** What the server says about an imported request's sender. */
export interface Requester {
  account: string;
  user: string;
  /**
   * The request reached the import over a leafnode connection (from an edge server): then
   * `user` is the edge's leaf binding, not the person asking (nats-server 2.10 applies the
   * import at the hub), so it names nobody's DMs.
   */
  viaLeafnode: boolean;
}

/** A reader's outcome. */
export type ReadOutcome =
  | { ok: true; body: string }
  | { ok: false; code: HistoryErrorCode; message: string };

/** Thrown inside a reader for a refusal with a code; anything else is INTERNAL. */
export class ReadRefusal extends Error {
  override name = "ReadRefusal";
  constructor(
    readonly code: HistoryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The requester named by Nats-Request-Info, if the request came from a user of `chatAccount`
 * through the import. The header is the server's: a CHAT user's own copy is replaced on import.
 */
export function requesterOf(
  header: string | undefined,
  chatAccount: string,
): Requester | undefined {
  const info = parseRequestInfo(header);
  const user = info?.user;
  if (info?.acc !== chatAccount || user === undefined || !isPublicKey(user, "U")) return undefined;
  return { account: info.acc, user, viaLeafnode: relayedByLeafnode(info) };
}

/** Answers a service request with an outcome: the body, or the error headers. */
export function respondWith(msg: ServiceMsg, outcome: ReadOutcome): void {
  if (!msg.reply) return;
  if (outcome.ok) {
    msg.respond(outcome.body);
    return;
  }
  const h = headers();
  const pairs = serviceErrorHeaders(outcome.code, outcome.message);
  for (const [k, v] of pairs.slice(2)) h.set(k, v);
  const [[, status], [, description]] = pairs as [[string, string], [string, string]];
  msg.respondError(Number(status), description, "", { headers: h });
}

/** One history store as the readers see it. */
export interface ReadStore {
  stream: string;
  index: ConversationIndex;
  /** Waits until the index holds what the stream held when called (at most a moment). */
  caughtUp?: () => Promise<void>;
}

/** The read endpoints. */
export type ReadEndpoint = "posts" | "dms" | "thread";

/** Options of the readers. */
export interface ReaderOptions {
  chatAccount: string;
  direct: DirectStreamAPI;
  posts: ReadStore;
  dms: ReadStore;
  /** The message states (without: pages carry none). */
  states?: MessageStates;
  /** Largest reply, bytes (the server's max_payload less room for headers). */
  maxReplyBytes: number;
  /** Reads served at once (default 64); beyond, UNAVAILABLE. */
  maxInFlight?: number;
  /** Reads of one requester served at once (default 4). */
  maxInFlightPerUser?: number;
  log: Logger;
}

/** Figures per endpoint. */
export interface ReaderStats {
  ok: number;
  errors: Partial<Record<HistoryErrorCode, number>>;
}

/** The two read endpoints' logic, independent of NATS plumbing so tests can drive it. */
export class HistoryReaders {
  readonly stats: Record<ReadEndpoint, ReaderStats> = {
    posts: { ok: 0, errors: {} },
    dms: { ok: 0, errors: {} },
    thread: { ok: 0, errors: {} },
  };

  #inFlight = 0;
  /** Reads in flight per requester; an entry lives only while it has some. */
  readonly #perUser = new Map<string, number>();

  constructor(readonly opts: ReaderOptions) {}

  /** Handles one request; every outcome is a reply. */
  async handle(endpoint: ReadEndpoint, msg: ServiceMsg): Promise<void> {
    let outcome: ReadOutcome;
    try {
      outcome = await this.read(endpoint, msg.data, requestInfoText(msg.headers));
    } catch (err) {
      if (err instanceof ForgedRequestInfoError) {
        outcome = { ok: false, code: "NO_IDENTITY", message: err.message };
      } else {
        this.opts.log.error("history read failed", { endpoint, err });
        outcome = { ok: false, code: "INTERNAL", message: "internal error in the history service" };
      }
    }
    const s = this.stats[endpoint];
    if (outcome.ok) s.ok++;
    else s.errors[outcome.code] = (s.errors[outcome.code] ?? 0) + 1;
    respondWith(msg, outcome);
  }

  /** Reads one page; refusals are outcomes, never exceptions. */
  async read(
    endpoint: ReadEndpoint,
    data: Uint8Array,
    requestInfo: string | undefined,
  ): Promise<ReadOutcome> {
    try {
      const who = requesterOf(requestInfo, this.opts.chatAccount);
      if (!who) {
        throw new ReadRefusal(
          "NO_IDENTITY",
          "the request did not come from a chat user through the CHAT account's import",
        );
      }
      const mine = this.#perUser.get(who.user) ?? 0;
      if (
        this.#inFlight >= (this.opts.maxInFlight ?? 64) ||
        mine >= (this.opts.maxInFlightPerUser ?? 4)
      ) {
        throw new ReadRefusal("UNAVAILABLE", "too many history reads at once; retry shortly");
      }
      this.#inFlight++;
      this.#perUser.set(who.user, mine + 1);
      try {
        if (endpoint === "posts") {
          const req = parseHistoryPostsRequest(data);
          const page = await this.#page("posts", channelKey(req.channel), req);
          return { ok: true, body: encodeHistoryPage(page) };
        }
        if (endpoint === "thread") return await this.#thread(data, who);
        const req = parseHistoryDmsRequest(data);
        if (who.viaLeafnode) {
          throw new ReadRefusal(
            "NO_IDENTITY",
            "DM history cannot tell who asks through an edge server yet: connect to a hub server",
          );
        }
        const key = req.peer ? pairDmsKey(who.user, req.peer) : userDmsKey(who.user);
        const page = await this.#page("dms", key, req, who.user);
        return { ok: true, body: encodeHistoryPage(page) };
      } finally {
        this.#inFlight--;
        const left = (this.#perUser.get(who.user) ?? 1) - 1;
        if (left > 0) this.#perUser.set(who.user, left);
        else this.#perUser.delete(who.user);
      }
    } catch (err) {
      if (err instanceof HistoryWireError)
        return { ok: false, code: "BAD_REQUEST", message: err.message };
      if (err instanceof ReadRefusal) return { ok: false, code: err.code, message: err.message };
      throw err;
    }
  }

  /**
   * A thread: its root (posts first, then DMs) and a page of its replies. A DM thread is its
   * participants' only: anyone else gets an empty page, whatever the root is.
   */
  async #thread(data: Uint8Array, who: Requester): Promise<ReadOutcome> {
    const req = parseThreadRequest(data);
    const key = threadKey(req.root);
    const holds = (store: MessageStore) => {
      const index = this.opts[store].index;
      return index.seqOf(req.root) !== undefined || index.page(key, undefined, 1).seqs.length > 0;
    };
    let store: MessageStore | undefined = (["posts", "dms"] as const).find(holds);
    if (!store) {
      // a root or reply stored a moment ago, perhaps by another replica
      await Promise.all([this.opts.posts.caughtUp?.(), this.opts.dms.caughtUp?.()]);
      store = (["posts", "dms"] as const).find(holds);
    }
    const empty = { ok: true as const, body: encodeThreadPage({ messages: [], more: false }) };
    if (!store) return empty;
    let participant: string | undefined;
    if (store === "dms") {
      if (who.viaLeafnode) {
        throw new ReadRefusal(
          "NO_IDENTITY",
          "DM threads cannot tell who asks through an edge server yet: connect to a hub server",
        );
      }
      participant = who.user;
    }
    const rootSeq = this.opts[store].index.seqOf(req.root);
    let root: HistoryMessage | undefined;
    if (rootSeq !== undefined) {
      const sm = await this.#get(this.opts[store].stream, rootSeq);
      const m = sm ? this.#toMessage(sm, participant) : undefined;
      if (sm && !m && participant) return empty; // someone else's DM
      if (m) root = (await this.#withStates(store, [m]))[0];
    }
    const page = await this.#page(store, key, req, participant);
    // a DM thread all of whose messages are someone else's says nothing, not even "more"
    if (participant && !root && page.messages.length === 0) return empty;
    return { ok: true, body: encodeThreadPage({ ...(root ? { root } : {}), ...page }) };
  }

  async #page(
    storeName: MessageStore,
    key: string,
    req: { before?: number; limit?: number },
    participant?: string,
  ): Promise<{ messages: HistoryMessage[]; more: boolean }> {
    const store = this.opts[storeName];
    const limit = historyLimit(req);
    // the newest page includes everything acked before the request (older pages are settled)
    if (req.before === undefined) await store.caughtUp?.();
    const messages: HistoryMessage[] = [];
    let before = req.before;
    let more = false;
    // Messages the stream no longer has are dropped from the index and the page refilled; a
    // bounded number of rounds keeps one request's work bounded.
    for (let round = 0; round < 4 && messages.length < limit; round++) {
      const want = limit - messages.length;
      const page = store.index.page(key, before, want);
      more = page.more;
      if (page.seqs.length === 0) break;
      // bodies and states in parallel; states only for the sequences that have one
      const [got, states] = await Promise.all([
        Promise.all(page.seqs.map((seq) => this.#get(store.stream, seq))),
        this.#states(storeName, page.seqs),
      ]);
      const found: HistoryMessage[] = [];
      for (const [i, sm] of got.entries()) {
        const seq = page.seqs[i] as number;
        if (!sm) {
          store.index.remove(key, seq); // aged out; its other keys are cleaned when read
          continue;
        }
        const m = this.#toMessage(sm, participant, states.get(seq));
        if (m) found.push(m);
      }
      messages.unshift(...found);
      before = page.seqs[0];
      if (!more) break;
    }
    // keep the reply under the payload limit: drop the oldest, and say there are more
    const size = (m: HistoryMessage) =>
      (m.token?.length ?? 0) +
      m.subject.length +
      80 +
      (m.state ? JSON.stringify(m.state).length : 0);
    while (messages.length > 0) {
      const bytes = 64 + messages.reduce((n, m) => n + size(m), 0);
      if (bytes <= this.opts.maxReplyBytes) break;
      messages.shift();
      more = true;
    }
    return { messages, more };
  }

  #states(store: MessageStore, seqs: number[]): Promise<Map<number, MessageState>> {
    return this.opts.states?.readMany(store, seqs) ?? Promise.resolve(new Map());
  }

  async #withStates(store: MessageStore, messages: HistoryMessage[]): Promise<HistoryMessage[]> {
    const states = await this.#states(
      store,
      messages.map((m) => m.seq),
    );
    return messages.map((m) => withState(m, states.get(m.seq)));
  }

  /** The stored message, or null when the stream no longer has it (direct get's "not found"). */
  #get(stream: string, seq: number): Promise<StoredMsg | null> {
    return this.opts.direct.getMessage(stream, { seq });
  }

  #toMessage(
    sm: StoredMsg,
    participant: string | undefined,
    state?: MessageState,
  ): HistoryMessage | undefined {
    const s = parseChatSubject(sm.subject, { stored: true });
    if (!s || s.kind === "presence") return undefined;
    // defence in depth: a DM page holds only the requester's own conversations
    if (participant && s.kind === "dm" && s.recipient !== participant && s.sender !== participant)
      return undefined;
    if (keysOf(sm.subject).length === 0) return undefined;
    const m = {
      seq: sm.seq,
      subject: liveSubject(s),
      token: new TextDecoder().decode(sm.data),
      time: sm.time.toISOString(),
    };
    return withState(m, state);
  }
}

/** The message with its state; a deleted one is a tombstone (its body withheld). */
function withState(m: HistoryMessage, state: MessageState | undefined): HistoryMessage {
  if (!state) return m;
  if (state.deleted) return { seq: m.seq, subject: m.subject, time: m.time, state };
  return { ...m, state };
}
