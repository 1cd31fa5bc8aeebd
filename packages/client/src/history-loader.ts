// History loading: the last N posts of every joined channel and of our DMs, read from the
// history service at start ("initial": placed before what arrived live meanwhile) and again
// after a reconnect or on signs of a healed link ("backfill": only what we do not show yet,
// appended as unread).
//
// Reads run one after the other: read() is the one place a read starts, and it chains the new
// read after the one before, so two backfills never interleave their placing, and loaded()
// resolves when every read started so far has finished. A backfill on signs of a healed link
// starts at most once per GAP_MIN_INTERVAL_MS, however many signs arrive.
import { EnvelopeVerifier } from "@natschat/protocol";
import type { Conversation, MessageRecord } from "./conversation.ts";
import { type HistoryFetch, type HistoryQuery, readLastRetrying } from "./history.ts";
import type { Scope, ScopedTimer } from "./scope.ts";
import type { ChatStore } from "./store.ts";
import { type StoredContext, storedRecord } from "./stored-message.ts";

/** Wait before a backfill after signs of a healed link (repeats are being stored meanwhile). */
const GAP_BACKFILL_DELAY_MS = 1000;
/** Least time between the starts of two backfills on such signs. */
const GAP_MIN_INTERVAL_MS = 5000;
/** Wait before another try when that backfill could not read the history. */
const GAP_BACKFILL_RETRY_MS = 10_000;

/** How a read places what it found. */
export type HistoryMode = "initial" | "backfill";

/** Options of HistoryLoader. */
export interface HistoryLoaderOptions {
  store: ChatStore;
  scope: Scope;
  /** Fetches one page from the history service. */
  fetch: HistoryFetch;
  /** Posts per channel, and DMs, to read. */
  historySize: number;
  now: () => number;
  /** Wait before a backfill on a sign of a healed link, ms (default 1000). */
  gapDelayMs?: number;
  /** Least time between the starts of two such backfills, ms (default 5000). */
  gapMinIntervalMs?: number;
  /** Applies a stored message's state to its record (events.ts; default: none). */
  withState?: StoredContext["withState"];
}

/** Reads history into the store, one read at a time. */
export class HistoryLoader {
  readonly #o: HistoryLoaderOptions & Required<Pick<HistoryLoaderOptions, "withState">>;
  /** The latest read; every read starts after it (see read()). */
  #done: Promise<boolean> = Promise.resolve(true);
  /** Signs of a link that was down arrived since the last backfill began (see suspectGap). */
  #gapSuspected = false;
  #gapTimer: ScopedTimer | undefined;
  /** When the last backfill on such signs began, ms. */
  #lastGapRead = Number.NEGATIVE_INFINITY;

  constructor(opts: HistoryLoaderOptions) {
    this.#o = { withState: async (m) => m, ...opts };
  }

  /** Starts a read after the ones before it; true when every part of it worked. */
  read(mode: HistoryMode): Promise<boolean> {
    const next = this.#done.then(() => this.#read(mode));
    this.#done = next;
    return next;
  }

  /** Resolves when every read started so far has finished. */
  async loaded(): Promise<void> {
    await this.#done;
  }

  /**
   * Reads the history again soon (a backfill). Called on a checked sign that a link between us
   * and others was down while we stayed connected: live posts from across it missed us, but the
   * history service has them. While the service is out of reach too, the backfill is tried again
   * every GAP_BACKFILL_RETRY_MS, until one has worked after the last such sign.
   */
  suspectGap(): void {
    this.#gapSuspected = true;
    if (this.#gapTimer === undefined) {
      this.#scheduleGapBackfill(this.#o.gapDelayMs ?? GAP_BACKFILL_DELAY_MS);
    }
  }

  #scheduleGapBackfill(delayMs: number): void {
    const min = this.#o.gapMinIntervalMs ?? GAP_MIN_INTERVAL_MS;
    const earliest = this.#lastGapRead + min - this.#o.now();
    this.#gapTimer = this.#o.scope.timeout(
      () => void this.#gapBackfill(),
      Math.max(delayMs, earliest),
    );
  }

  async #gapBackfill(): Promise<void> {
    this.#gapSuspected = false;
    this.#lastGapRead = this.#o.now();
    const ok = await this.read("backfill");
    if (!ok) this.#gapSuspected = true;
    this.#gapTimer = undefined;
    if (this.#gapSuspected && this.#o.scope.live) {
      const delay = this.#o.gapDelayMs ?? GAP_BACKFILL_DELAY_MS;
      this.#scheduleGapBackfill(ok ? delay : GAP_BACKFILL_RETRY_MS);
    }
  }

  /** One read of every channel and the DMs; never throws (failures are marked and noticed). */
  async #read(mode: HistoryMode): Promise<boolean> {
    if (!this.#o.scope.live) return false;
    const done = await Promise.all([
      ...this.#o.store.conversations("channel").map((c) => this.#readChannel(c, mode)),
      this.#readDms(mode),
    ]);
    return done.every(Boolean);
  }

  /** A verifier for one history read: its replay check finds a jti stored twice. */
  #verifier(): EnvelopeVerifier {
    return new EnvelopeVerifier({
      now: this.#o.now,
      replayWindowSeconds: 10 * 365 * 24 * 3600,
      maxReplayEntries: 100_000,
    });
  }

  /** Reads `q` and verifies each message as a live one on its subject, its state applied. */
  async #records(
    q: HistoryQuery,
    verifier: EnvelopeVerifier,
    mode: HistoryMode,
  ): Promise<{ id: string; rec: MessageRecord }[]> {
    const store = this.#o.store;
    const stored = await readLastRetrying(this.#o.fetch, q, this.#o.historySize);
    const ctx = {
      me: store.me.key,
      verifier,
      withState: this.#o.withState,
      countDrop: (reason: string) => store.countDrop(reason),
    };
    const out: { id: string; rec: MessageRecord }[] = [];
    for (const s of stored) {
      // a tombstone has no id to match a message we hold: a backfill leaves it out
      if (mode === "backfill" && s.token === undefined) continue;
      const found = await storedRecord(s, ctx);
      if (!found) continue;
      if (!found.rec.deleted) store.user(found.rec.from);
      out.push({ id: found.conversationId, rec: found.rec });
    }
    return out;
  }

  async #readChannel(c: Conversation, mode: HistoryMode): Promise<boolean> {
    const store = this.#o.store;
    const verifier = this.#verifier();
    let ok = true;
    try {
      const found = await this.#records({ channel: c.target }, verifier, mode);
      const records = found.filter((f) => f.id === c.id).map((f) => f.rec);
      if (records.length < found.length) store.countDrop("wrong-subject");
      store.placeHistory(c, records, mode);
      c.setHistory("loaded");
    } catch (err) {
      ok = false;
      if (mode === "initial") this.#failed(c, err);
    }
    store.addDrops(verifier.drops);
    store.changed();
    return ok;
  }

  async #readDms(mode: HistoryMode): Promise<boolean> {
    const store = this.#o.store;
    const verifier = this.#verifier();
    let ok = true;
    try {
      const byPeer = new Map<string, MessageRecord[]>();
      for (const { id, rec } of await this.#records({ dms: true }, verifier, mode)) {
        if (!id.startsWith("@")) {
          store.countDrop("wrong-type");
          continue;
        }
        const list = byPeer.get(id) ?? [];
        list.push(rec);
        byPeer.set(id, list);
      }
      for (const [id, records] of byPeer) {
        store.placeHistory(store.conversation(id), records, mode);
      }
      for (const c of store.conversations("dm")) c.setHistory("loaded");
    } catch (err) {
      ok = false;
      if (mode === "initial") for (const c of store.conversations("dm")) this.#failed(c, err);
    }
    store.addDrops(verifier.drops);
    store.setNewDmHistory("loaded");
    store.changed();
    return ok;
  }

  #failed(c: Conversation, err: unknown): void {
    c.setHistory("failed");
    if (!this.#o.scope.live) return;
    const what = c.id.startsWith("#") ? c.id : "DMs";
    this.#o.store.setNotice(
      `history of ${what} could not be read: ${err instanceof Error ? err.message : err}`,
    );
  }
}
