// History loading: the last N posts of every joined channel and of our DMs, read at start
// ("initial": placed before what arrived live meanwhile) and again after a reconnect or on signs
// of a healed link ("backfill": only what we do not show yet, appended as unread).
//
// Reads run one after the other: read() is the one place a read starts, and it chains the new
// read after the one before, so two backfills never interleave their placing, and loaded()
// resolves when every read started so far has finished.
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { DM_TYPE, dmSubject, EnvelopeVerifier, POST_TYPE, postsSubject } from "@natschat/protocol";
import { type Conversation, type MessageRecord, recordOf } from "./conversation.ts";
import { readLastNRetrying } from "./history.ts";
import { dmPeer } from "./inbound.ts";
import type { Scope, ScopedTimer } from "./scope.ts";
import type { ChatStore } from "./store.ts";
import { dmId } from "./target.ts";

/** Names of the history streams (mirrors @natschat/trust; the client stays isomorphic). */
export const POSTS_STREAM = "CHAT_POSTS";
export const DMS_STREAM = "CHAT_DMS";

/** Wait before a backfill after signs of a healed link (repeats are being stored meanwhile). */
const GAP_BACKFILL_DELAY_MS = 1000;
/** Wait before another try when that backfill could not read the history. */
const GAP_BACKFILL_RETRY_MS = 10_000;

/** How a read places what it found. */
export type HistoryMode = "initial" | "backfill";

/** Options of HistoryLoader. */
export interface HistoryLoaderOptions {
  store: ChatStore;
  scope: Scope;
  /** The connection of the moment. */
  nc: () => NatsConnection | undefined;
  /** Posts per channel, and DMs, to read. */
  historySize: number;
  /** JetStream domain of the history streams (needed on a leaf server). */
  jetstreamDomain?: string;
  now: () => number;
}

/** Reads history into the store, one read at a time. */
export class HistoryLoader {
  readonly #o: HistoryLoaderOptions;
  /** The latest read; every read starts after it (see read()). */
  #done: Promise<boolean> = Promise.resolve(true);
  /** Signs of a link that was down arrived since the last backfill began (see suspectGap). */
  #gapSuspected = false;
  #gapTimer: ScopedTimer | undefined;

  constructor(opts: HistoryLoaderOptions) {
    this.#o = opts;
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
   * Reads the history again soon (a backfill). Called when a message or presence shows that a
   * link between us and others was down while we stayed connected: live posts from across it
   * missed us, but the history stream has them. While the stream is out of reach too, the
   * backfill is tried again every GAP_BACKFILL_RETRY_MS, until one has worked after the last
   * such sign.
   */
  suspectGap(): void {
    this.#gapSuspected = true;
    if (this.#gapTimer === undefined) this.#scheduleGapBackfill(GAP_BACKFILL_DELAY_MS);
  }

  #scheduleGapBackfill(delayMs: number): void {
    this.#gapTimer = this.#o.scope.timeout(() => void this.#gapBackfill(), delayMs);
  }

  async #gapBackfill(): Promise<void> {
    this.#gapSuspected = false;
    const ok = await this.read("backfill");
    if (!ok) this.#gapSuspected = true;
    this.#gapTimer = undefined;
    if (this.#gapSuspected && this.#o.scope.live) {
      this.#scheduleGapBackfill(ok ? GAP_BACKFILL_DELAY_MS : GAP_BACKFILL_RETRY_MS);
    }
  }

  /** One read of every channel and the DMs; never throws (failures are marked and noticed). */
  async #read(mode: HistoryMode): Promise<boolean> {
    const nc = this.#o.nc();
    if (!nc || nc.isClosed() || !this.#o.scope.live) return false;
    const js = jetstream(nc, { domain: this.#o.jetstreamDomain });
    const n = this.#o.historySize;
    const done = await Promise.all([
      ...this.#o.store.conversations("channel").map((c) => this.#readChannel(js, c, n, mode)),
      this.#readDms(js, n, mode),
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

  async #readChannel(
    js: JetStreamClient,
    c: Conversation,
    n: number,
    mode: HistoryMode,
  ): Promise<boolean> {
    const store = this.#o.store;
    const verifier = this.#verifier();
    let ok = true;
    try {
      const stored = await readLastNRetrying(js, POSTS_STREAM, postsSubject(c.target), n);
      const records: MessageRecord[] = [];
      for (const s of stored) {
        const r = await verifier.verify(s.data, { subject: s.subject });
        if (!r.ok || r.envelope.type !== POST_TYPE || r.envelope.channel !== c.target) continue;
        store.user(r.envelope.iss);
        records.push(recordOf(r.envelope, s.seq));
      }
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

  async #readDms(js: JetStreamClient, n: number, mode: HistoryMode): Promise<boolean> {
    const store = this.#o.store;
    const me = store.me.key;
    const verifier = this.#verifier();
    let ok = true;
    try {
      const stored = await readLastNRetrying(js, DMS_STREAM, dmSubject(me), n);
      const byPeer = new Map<string, MessageRecord[]>();
      for (const s of stored) {
        const r = await verifier.verify(s.data);
        if (!r.ok || r.envelope.type !== DM_TYPE) {
          if (r.ok) store.countDrop("wrong-type");
          continue;
        }
        const peer = dmPeer(me, r.envelope, s.subject);
        if (peer === undefined) {
          store.countDrop("wrong-subject");
          continue;
        }
        store.user(r.envelope.iss);
        const list = byPeer.get(peer) ?? [];
        list.push(recordOf(r.envelope, s.seq));
        byPeer.set(peer, list);
      }
      for (const [peer, records] of byPeer) {
        store.placeHistory(store.conversation(dmId(peer)), records, mode);
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
