// The in-memory index of the history streams: for each conversation, the stream sequences of its
// messages, ascending. It answers "the last N before seq X" in O(log n) without touching the
// stream; the bodies are then fetched by sequence. It is built at start from an ordered consumer
// that delivers headers only (subject and sequence, not the bodies) and kept live by the same
// consumer, so it costs a few numbers per stored message and nothing per request or per user.
// It holds what the stream holds: a sender's message evicted by its subject's limit is removed
// when the one that evicted it arrives, messages aged out are pruned below the stream's first
// sequence every minute, and a read that still finds one gone drops it.
// It also knows each message by its id (the Nats-Msg-Id `<authorKey>.<jti>` the writer stores it
// under), so a message event or a reply finds its target's sequence, and the thread a reply
// belongs to (its Natschat-Thread header): a thread is one more sequence list, `t <rootId>`.
import type { ConsumerMessages, JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { isMessageId, MSG_ID_HEADER, parseChatSubject, THREAD_HEADER } from "@natschat/protocol";
import type { Logger } from "./log.ts";

/** Conversation keys: a channel, one user's DMs (both directions), or one pair's DMs. */
export const channelKey = (channel: string) => `p ${channel}`;
export const userDmsKey = (user: string) => `u ${user}`;
export const pairDmsKey = (a: string, b: string) => (a < b ? `d ${a} ${b}` : `d ${b} ${a}`);
/** The replies of the thread whose root is the message `root` (a message id). */
export const threadKey = (root: string) => `t ${root}`;

/** What the index knows of one stored message besides its conversations. */
export interface StoredMeta {
  /** Its message id, `<authorKey>.<jti>`. */
  id: string;
  /** A reply: the message id of its thread's root. */
  thread?: string;
}

/** Sequence lists per conversation, ascending, and each message's id and thread. */
export class ConversationIndex {
  readonly #lists = new Map<string, number[]>();
  #size = 0;
  /** Message id → sequence. */
  readonly #ids = new Map<string, number>();
  /** Sequence → id and thread; insertion order is stream order. */
  readonly #meta = new Map<number, StoredMeta>();

  /** Records the id (and thread) of the message at `seq`; a reply joins its thread's list. */
  describe(seq: number, meta: StoredMeta): void {
    this.#ids.set(meta.id, seq);
    this.#meta.set(seq, meta);
    if (meta.thread) this.add(threadKey(meta.thread), seq);
  }

  /** The sequence of the message `id`, if the index holds it. */
  seqOf(id: string): number | undefined {
    return this.#ids.get(id);
  }

  /** The id and thread of the message at `seq`, if known. */
  metaOf(seq: number): StoredMeta | undefined {
    return this.#meta.get(seq);
  }

  /** Forgets the id and thread of the message at `seq` (the stream no longer has it). */
  forget(seq: number): void {
    const meta = this.#meta.get(seq);
    if (!meta) return;
    this.#meta.delete(seq);
    if (this.#ids.get(meta.id) === seq) this.#ids.delete(meta.id);
    if (meta.thread) this.remove(threadKey(meta.thread), seq);
  }

  /** Sequences held, over all conversations. */
  get size(): number {
    return this.#size;
  }

  /** Records `seq` under `key`; sequences normally arrive in order (appended). */
  add(key: string, seq: number): void {
    let list = this.#lists.get(key);
    if (!list) {
      list = [];
      this.#lists.set(key, list);
    }
    const last = list[list.length - 1];
    if (last === undefined || seq > last) list.push(seq);
    else {
      const i = lowerBound(list, seq);
      if (list[i] === seq) return;
      list.splice(i, 0, seq);
    }
    this.#size++;
  }

  /**
   * Up to `n` sequences of `key` before `before` (all when undefined), ascending, and whether
   * older ones exist.
   */
  page(key: string, before: number | undefined, n: number): { seqs: number[]; more: boolean } {
    const list = this.#lists.get(key);
    if (!list) return { seqs: [], more: false };
    const end = before === undefined ? list.length : lowerBound(list, before);
    const start = Math.max(0, end - n);
    return { seqs: list.slice(start, end), more: start > 0 };
  }

  /** How many sequences of `key` are above `after` (unread counts). */
  countAfter(key: string, after: number): number {
    const list = this.#lists.get(key);
    return list ? list.length - lowerBound(list, after + 1) : 0;
  }

  /** The newest sequence of `key`, or 0 when it has none. */
  last(key: string): number {
    const list = this.#lists.get(key);
    return list?.[list.length - 1] ?? 0;
  }

  /** Forgets every sequence below `first` (the stream's first sequence: older ones aged out). */
  pruneBefore(first: number): void {
    for (const seq of this.#meta.keys()) {
      if (seq >= first) break;
      this.forget(seq);
    }
    for (const [key, list] of this.#lists) {
      const i = lowerBound(list, first);
      if (i === 0) continue;
      list.splice(0, i);
      this.#size -= i;
      if (list.length === 0) this.#lists.delete(key);
    }
  }

  /** Forgets `seq` under `key` (the stream no longer has it). */
  remove(key: string, seq: number): void {
    const list = this.#lists.get(key);
    if (!list) return;
    const i = lowerBound(list, seq);
    if (list[i] !== seq) return;
    list.splice(i, 1);
    this.#size--;
    if (list.length === 0) this.#lists.delete(key);
  }
}

/** First index whose value is ≥ x. */
function lowerBound(list: number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The conversation keys a stored message belongs to, from its stored subject. */
export function keysOf(storedSubject: string): string[] {
  const s = parseChatSubject(storedSubject, { stored: true });
  if (!s || s.kind === "presence") return [];
  if (s.kind === "post") return [channelKey(s.channel)];
  return s.recipient === s.sender
    ? [userDmsKey(s.sender), pairDmsKey(s.sender, s.recipient)]
    : [userDmsKey(s.recipient), userDmsKey(s.sender), pairDmsKey(s.sender, s.recipient)];
}

/**
 * Feeds an index from a stream's (stored subject, sequence) pairs in order, and mirrors the
 * stream's per-subject limit: when a subject holds more than `perSubject`, the stream dropped its
 * oldest, and so does the index. Pure, so the bookkeeping is unit-tested.
 */
export class IndexBuilder {
  /** Sequences per stored subject, ascending (one (conversation, sender) pair each). */
  readonly #subjects = new Map<string, number[]>();
  /** User → the users it has DMs with (stale peers are dropped when asked for). */
  readonly #peers = new Map<string, Set<string>>();

  constructor(
    readonly index: ConversationIndex,
    readonly perSubject: number,
  ) {}

  /** Records one stored message (with its id and thread, from its headers, when it has them). */
  add(subject: string, seq: number, meta?: StoredMeta): void {
    const keys = keysOf(subject);
    if (keys.length === 0) return; // not a v3 stored subject (e.g. a v2 message): never served
    for (const key of keys) this.index.add(key, seq);
    if (keys.length === 3) this.#addPeers(subject);
    if (meta) this.index.describe(seq, meta);
    let q = this.#subjects.get(subject);
    if (!q) {
      q = [];
      this.#subjects.set(subject, q);
    }
    q.push(seq);
    while (q.length > this.perSubject) {
      const evicted = q.shift() as number;
      for (const key of keys) this.index.remove(key, evicted);
      this.index.forget(evicted);
    }
  }

  #addPeers(storedDm: string): void {
    const [recipient, sender] = storedDm.split(".").slice(-2) as [string, string];
    for (const [a, b] of [
      [recipient, sender],
      [sender, recipient],
    ] as const) {
      let set = this.#peers.get(a);
      if (!set) {
        set = new Set();
        this.#peers.set(a, set);
      }
      set.add(b);
    }
  }

  /** How many sequences above `after` one stored subject (one conversation × one sender) holds. */
  countAfterOf(subject: string, after: number): number {
    const q = this.#subjects.get(subject);
    return q ? q.length - lowerBound(q, after + 1) : 0;
  }

  /** The users `user` has DMs with that the index still holds (never `user` itself). */
  dmPeersOf(user: string): string[] {
    const set = this.#peers.get(user);
    if (!set) return [];
    for (const peer of set) if (this.index.last(pairDmsKey(user, peer)) === 0) set.delete(peer);
    if (set.size === 0) this.#peers.delete(user);
    return [...set];
  }

  /** Forgets everything below the stream's first sequence. */
  pruneBefore(first: number): void {
    this.index.pruneBefore(first);
    for (const [subject, q] of this.#subjects) {
      let i = 0;
      while (i < q.length && (q[i] as number) < first) i++;
      if (i > 0) q.splice(0, i);
      if (q.length === 0) this.#subjects.delete(subject);
    }
    for (const user of this.#peers.keys()) this.dmPeersOf(user); // drops peers aged out
  }
}

/** The id and thread root a stored message's headers give (the writer set them). */
function metaOf(h: { get(k: string): string } | undefined): StoredMeta | undefined {
  const id = h?.get(MSG_ID_HEADER);
  if (!isMessageId(id)) return undefined;
  const thread = h?.get(THREAD_HEADER);
  return isMessageId(thread) ? { id, thread } : { id };
}

/** A read waiting for the index to reach a stream sequence. */
interface Waiter {
  seq: number;
  resolve: () => void;
}

/** Follows one stream into an index with a headers-only ordered consumer. */
export class StreamFollower {
  readonly index = new ConversationIndex();
  /** The per-sender and DM-peer bookkeeping (read state's unread counts use it). */
  readonly builder: IndexBuilder;
  /** Resolves once the index holds every message that was in the stream at start. */
  readonly ready: Promise<void>;
  #markReady: () => void = () => {};
  #messages: ConsumerMessages | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #pruning: Promise<void> = Promise.resolve();
  #stopped = false;
  #done: Promise<void> = Promise.resolve();
  /** The last stream sequence the index has seen. */
  #lastSeq = 0;
  /** Reads waiting for the index to reach a sequence (bounded by the reads in flight). */
  #waiters: Waiter[] = [];

  constructor(
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly stream: string,
    perSubject: number,
    readonly log: Logger,
    readonly pruneEveryMs = 60_000,
  ) {
    this.builder = new IndexBuilder(this.index, perSubject);
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
  }

  /** Starts following; ready resolves when caught up. */
  async start(): Promise<void> {
    const consumer = await this.js.consumers.get(this.stream, { headers_only: true });
    const pending = (await consumer.info(true)).num_pending;
    if (pending === 0) this.#markReady();
    const messages = await consumer.consume({ max_messages: 1000 });
    this.#messages = messages;
    this.#done = (async () => {
      for await (const m of messages) {
        this.builder.add(m.subject, m.seq, metaOf(m.headers));
        this.#lastSeq = m.seq;
        if (this.#waiters.length > 0) this.#wake();
        if (m.info.pending === 0) this.#markReady();
        if (this.#stopped) break;
      }
    })().catch((err: unknown) => {
      if (!this.#stopped) this.log.error("index follower stopped", { stream: this.stream, err });
    });
    this.#timer = setInterval(() => {
      this.#pruning = this.#pruning
        .then(() => this.prune())
        .catch((err: unknown) => this.log.warn("index prune failed", { stream: this.stream, err }));
    }, this.pruneEveryMs);
    this.#timer.unref?.();
  }

  /** The last stream sequence the index has seen. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  #wake(): void {
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.seq <= this.#lastSeq) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }

  /**
   * Resolves once the index holds everything the stream held when this was called (its last
   * sequence), or after `timeoutMs`: a page then includes every message acked before the
   * request, whichever replica stored it (read-your-writes).
   */
  async caughtUp(timeoutMs = 2000): Promise<void> {
    const target = (await this.jsm.streams.info(this.stream)).state.last_seq;
    if (target <= this.#lastSeq || this.#stopped) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        resolve();
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push({ seq: target, resolve: done });
    });
  }

  /**
   * The sequence of the message `id`; when the index does not hold it yet, waits (at most
   * `timeoutMs`) until it has caught up to the stream's last sequence: a client may name a
   * message another replica stored a moment ago.
   */
  async find(id: string, timeoutMs = 2000): Promise<number | undefined> {
    const seq = this.index.seqOf(id);
    if (seq !== undefined) return seq;
    await this.caughtUp(timeoutMs);
    return this.index.seqOf(id);
  }

  /** Drops what aged out of the stream (below its first sequence). */
  async prune(): Promise<void> {
    const info = await this.jsm.streams.info(this.stream);
    this.builder.pruneBefore(info.state.first_seq);
  }

  /** Stops the consumer and the prune timer. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#markReady();
    for (const w of this.#waiters) w.resolve();
    this.#waiters = [];
    this.#messages?.stop();
    await this.#done;
    await this.#pruning;
  }
}
