// The message states (issue 13): the KV bucket natschat-state (CHAT, written only by the history
// role), key `p.<seq>` or `d.<seq>` (the target's store and stream sequence), value the
// MessageState JSON. Every change is a compare-and-set on the key's revision (kv.update with the
// revision read, kv.create for the first state), retried when another replica wrote first, so
// two replicas applying reactions at once never lose one. The rules are protocol's reducer
// (applyMessageEvent); this only loads, applies and stores.
// A headers-only watch of the bucket keeps, for each sequence that has a state, the latest
// revision seen, so a page fetches states only for those messages (one direct get per message
// with a state, never one per message), and a bounded cache of states read (by bytes, least
// recently used first out) serves the same page again without any: an entry is used only while
// its revision is the latest the watch has seen, so a change by any replica retires it.
import { type KV, Kvm, type KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator } from "@nats-io/nats-core";
import {
  type ApplyResult,
  encodeMessageState,
  type MessageState,
  type MessageStore,
  parseMessageState,
} from "@natschat/protocol";
import { STATE_BUCKET, STATE_STORE } from "@natschat/trust";
import { isCasConflict } from "./kv-cas.ts";
import type { Logger } from "./log.ts";

/** The state key of the message at `seq` in `store`. */
export const stateKey = (store: MessageStore, seq: number) =>
  `${store === "posts" ? "p" : "d"}.${seq}`;

/** The store and sequence a state key names, or undefined. */
export function parseStateKey(key: string): { store: MessageStore; seq: number } | undefined {
  const m = /^([pd])\.([1-9]\d{0,15})$/.exec(key);
  if (!m) return undefined;
  const seq = Number(m[2]);
  if (!Number.isSafeInteger(seq)) return undefined;
  return { store: m[1] === "p" ? "posts" : "dms", seq };
}

/** A stored state the service cannot read back: it refuses to build on it (INTERNAL). */
export class CorruptStateError extends Error {
  override name = "CorruptStateError";
  readonly code = "STATE_CORRUPT";
  constructor(key: string) {
    super(`the state ${key} in ${STATE_BUCKET} is not a message state; it is left as it is`);
  }
}

/** Compare-and-set rounds lost in a row: the caller answers UNAVAILABLE. */
export class StateContentionError extends Error {
  override name = "StateContentionError";
  readonly code = "STATE_CONTENTION";
  constructor(key: string) {
    super(`the state ${key} kept changing under this replica; retry`);
  }
}

const MAX_ROUNDS = 16;
/** Bytes of states kept in the read cache (their JSON length). */
const CACHE_BYTES = 16 * 1024 * 1024;

interface Cached {
  revision: number;
  state: MessageState;
  bytes: number;
}

/** How often roomToGrow reads the bucket's size, ms. */
const FILL_REFRESH_MS = 2000;

/** The states of stored messages, shared by every replica through the bucket. */
export class MessageStates {
  readonly #kv: KV;
  readonly #log: Logger;
  /** Sequence → the latest revision of its state seen, per store. */
  readonly #has: Record<MessageStore, Map<number, number>> = { posts: new Map(), dms: new Map() };
  /** State key → a state read; insertion order is recency (a hit moves it to the end). */
  readonly #cache = new Map<string, Cached>();
  #cacheBytes = 0;
  #watch: QueuedIterator<KvWatchEntry> | undefined;
  /** The bucket's bytes, read at most every FILL_REFRESH_MS. */
  #fill: { bytes: number; at: number } | undefined;
  readonly #highWater: number;
  #done: Promise<void> = Promise.resolve();
  /** Resolves once the watch delivered every state stored at start. */
  readonly ready: Promise<void>;
  #markReady: () => void = () => {};

  private constructor(kv: KV, log: Logger, highWaterBytes: number) {
    this.#kv = kv;
    this.#log = log;
    this.#highWater = highWaterBytes;
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
  }

  /** Opens the bucket (ensureHistoryStores created it) and starts following which keys exist. */
  static async open(
    nc: NatsConnection,
    log: Logger,
    opts: { highWaterBytes?: number } = {},
  ): Promise<MessageStates> {
    const highWater = opts.highWaterBytes ?? Math.floor(STATE_STORE.maxBytes * 0.9);
    const states = new MessageStates(await new Kvm(nc).open(STATE_BUCKET), log, highWater);
    await states.#follow();
    return states;
  }

  /**
   * Whether states may still grow (a reaction added, an edit): false once the bucket holds more
   * than its high-water mark (90 % of its size by default), so the rest is kept for deletions and
   * admin removals, which a bucket filled by reactions would otherwise refuse too.
   */
  async roomToGrow(now = Date.now()): Promise<boolean> {
    if (!this.#fill || now - this.#fill.at >= FILL_REFRESH_MS) {
      this.#fill = { bytes: (await this.#kv.status()).size, at: now };
    }
    return this.#fill.bytes < this.#highWater;
  }

  async #follow(): Promise<void> {
    if ((await this.#kv.status()).values === 0) this.#markReady();
    const watch = await this.#kv.watch({ headers_only: true });
    this.#watch = watch;
    this.#done = (async () => {
      for await (const e of watch) {
        const at = parseStateKey(e.key);
        if (at) {
          if (e.operation === "PUT") this.#seen(at.store, at.seq, e.revision);
          else {
            this.#has[at.store].delete(at.seq);
            this.#uncache(e.key);
          }
        }
        if (e.isUpdate) this.#markReady();
      }
    })().catch((err: unknown) => this.#log.error("state watch stopped", { err }));
  }

  #seen(store: MessageStore, seq: number, revision: number): void {
    const has = this.#has[store];
    if ((has.get(seq) ?? 0) < revision) has.set(seq, revision);
  }

  #cached(store: MessageStore, seq: number): MessageState | undefined {
    const key = stateKey(store, seq);
    const c = this.#cache.get(key);
    if (!c) return undefined;
    if (c.revision < (this.#has[store].get(seq) ?? 0)) {
      this.#uncache(key); // changed since it was read
      return undefined;
    }
    this.#cache.delete(key);
    this.#cache.set(key, c);
    return c.state;
  }

  #remember(key: string, revision: number, state: MessageState, bytes: number): void {
    this.#uncache(key);
    if (bytes > CACHE_BYTES / 64) return; // a huge state is read when needed, not kept
    this.#cache.set(key, { revision, state, bytes });
    this.#cacheBytes += bytes;
    for (const [k, c] of this.#cache) {
      if (this.#cacheBytes <= CACHE_BYTES) break;
      this.#cache.delete(k);
      this.#cacheBytes -= c.bytes;
    }
  }

  #uncache(key: string): void {
    const c = this.#cache.get(key);
    if (!c) return;
    this.#cache.delete(key);
    this.#cacheBytes -= c.bytes;
  }

  /** Whether the message at `seq` has a state (as far as this replica has seen). */
  has(store: MessageStore, seq: number): boolean {
    return this.#has[store].has(seq);
  }

  /** Messages with a state, per store. */
  get size(): Record<MessageStore, number> {
    return { posts: this.#has.posts.size, dms: this.#has.dms.size };
  }

  /**
   * The state of the message at `seq` ({} when it has none), from the cache when it is current;
   * CorruptStateError if unreadable.
   */
  async read(store: MessageStore, seq: number): Promise<MessageState> {
    return this.#cached(store, seq) ?? (await this.#entry(store, seq)).state;
  }

  /**
   * The states of those of `seqs` that have one (one direct get each, in parallel). An
   * unreadable one is logged and left out: a page still serves the message as sent.
   */
  async readMany(store: MessageStore, seqs: number[]): Promise<Map<number, MessageState>> {
    const out = new Map<number, MessageState>();
    await Promise.all(
      seqs
        .filter((seq) => this.has(store, seq))
        .map(async (seq) => {
          try {
            const state = await this.read(store, seq);
            if (Object.keys(state).length > 0) out.set(seq, state);
          } catch (err) {
            if (!(err instanceof CorruptStateError)) throw err;
            this.#log.warn("unreadable message state", { key: stateKey(store, seq) });
          }
        }),
    );
    return out;
  }

  async #entry(
    store: MessageStore,
    seq: number,
  ): Promise<{ state: MessageState; revision: number }> {
    const key = stateKey(store, seq);
    const e = await this.#kv.get(key);
    if (e?.operation !== "PUT") return { state: {}, revision: e?.revision ?? 0 };
    const state = parseMessageState(e.string());
    if (!state) throw new CorruptStateError(key);
    this.#seen(store, seq, e.revision);
    this.#remember(key, e.revision, state, e.length);
    return { state, revision: e.revision };
  }

  /**
   * Applies `apply` to the current state of the message at `seq` and compare-and-sets the
   * result when it changed; retried from a fresh read when another replica wrote first.
   */
  async change(
    store: MessageStore,
    seq: number,
    apply: (state: MessageState) => ApplyResult,
  ): Promise<ApplyResult> {
    const key = stateKey(store, seq);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const { state, revision } = await this.#entry(store, seq);
      const result = apply(state);
      if (!result.ok || !result.changed) return result;
      const value = encodeMessageState(result.state);
      try {
        const written =
          revision === 0
            ? await this.#kv.create(key, value)
            : await this.#kv.update(key, value, revision);
        // this replica's next page sees it without waiting for the watch
        this.#seen(store, seq, written);
        this.#remember(key, written, result.state, value.length);
        return result;
      } catch (err) {
        if (!isCasConflict(err)) throw err;
        // a short random pause, so two replicas on one message do not keep colliding
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** round)));
      }
    }
    throw new StateContentionError(key);
  }

  /** Stops the watch. */
  async stop(): Promise<void> {
    this.#watch?.stop();
    await this.#done;
  }
}
