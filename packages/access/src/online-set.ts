// The online set (issue 12): who is online, as one KV bucket of ADMIN (ONLINE_BUCKET, key = user
// key, value = {name, since}) that every access-service replica writes and watches, so replicas
// agree and a restart keeps the set. Every replica sees every verified heartbeat (presence.ts),
// and keeps the last one of each key in memory:
//   - join: the first heartbeat of a key not in the set is a KV create (atomic: of replicas
//     racing, one writes and the others meet "exists");
//   - leave: a goodbye, no heartbeat for `expireAfterPeriods` periods, or a revocation, is a
//     delete checked against the revision this replica saw (a replica that saw a newer write
//     loses, and the entry stays);
//   - rename: a heartbeat under another issued name than the stored one is an update.
// The bucket's stream republishes each stored write on chat.KUBECON.presence.change.<key>, which
// CHAT imports: one message per change, written by JetStream, never by a client. Each replica
// also publishes a tick per period: the revision its view is at and its size, so a client learns
// that it missed a change even when nothing changes after it.
//
// A replica that starts gives each key already in the set a grace of `expireAfterPeriods`
// periods from its own start: it has not had the time to see their heartbeats.
import { jetstreamManager } from "@nats-io/jetstream";
import { type KV, type KvEntry, Kvm } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator } from "@nats-io/nats-core";
import {
  encodeOnlineValue,
  encodePresenceTick,
  ONLINE_BUCKET,
  type OnlineReply,
  PRESENCE_CHANGE_PREFIX,
  PRESENCE_TICK_SUBJECT,
  parseOnlineValue,
} from "@natschat/protocol";
import { ONLINE_STORE } from "@natschat/trust";
import type { Logger } from "./log.ts";
import type { Registry, RegistryChange } from "./registry.ts";
import { firstAfter, isWrongLastSequence } from "./registry.ts";

/** One key of the set, as this replica's view holds it. */
interface Entry {
  name: string;
  since: number;
  revision: number;
}

/** Options of OnlineSet.open. */
export interface OnlineSetOptions {
  log: Logger;
  /** The clients' heartbeat period, ms. */
  periodMs: number;
  /** Periods without a heartbeat after which a key leaves (default 2). */
  expireAfterPeriods?: number;
  /** How often this replica ticks, ms (default: the period). */
  tickMs?: number;
  /** JetStream replicas of the bucket (1, or 3 in a cluster). */
  replicas?: number;
  bucket?: string;
  now?: () => number;
}

/** Figures of the set, for $SRV.STATS. */
export interface OnlineStats {
  online: number;
  revision: number;
  joins: number;
  leaves: number;
  expired: number;
}

export class OnlineSet {
  readonly #kv: KV;
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  readonly #periodMs: number;
  readonly #tickMs: number;
  readonly #expireMs: number;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #view = new Map<string, Entry>();
  /** Every key of the view, sorted: a page is a binary search and a slice. */
  readonly #sorted: string[] = [];
  /** key → time of its last verified heartbeat (ms), as this replica saw it. */
  readonly #lastSeen = new Map<string, number>();
  /** Keys with a write of ours in flight: one at a time per key. */
  readonly #writing = new Set<string>();
  readonly #stats = { joins: 0, leaves: 0, expired: 0 };
  #rev = 0;
  #readyAt = 0;
  #onReady: (() => void) | undefined;
  /** Resolves once the view holds what the bucket held at open. */
  readonly ready: Promise<void>;
  #watch: QueuedIterator<KvEntry> | undefined;
  #watching: Promise<void> | undefined;
  #timers: ReturnType<typeof setInterval>[] = [];
  #offRegistry: (() => void) | undefined;

  private constructor(nc: NatsConnection, kv: KV, opts: OnlineSetOptions) {
    this.#nc = nc;
    this.#kv = kv;
    this.#log = opts.log;
    this.#periodMs = opts.periodMs;
    this.#tickMs = opts.tickMs ?? opts.periodMs;
    this.#expireMs = (opts.expireAfterPeriods ?? 2) * opts.periodMs;
    this.#now = opts.now ?? Date.now;
    this.#startedAt = this.#now();
    this.ready = new Promise((resolve) => {
      this.#onReady = resolve;
    });
  }

  /** Opens (or creates) the bucket, with its republish onto the presence feed, and its watch. */
  static async open(nc: NatsConnection, opts: OnlineSetOptions): Promise<OnlineSet> {
    const bucket = opts.bucket ?? ONLINE_BUCKET;
    const republish = { src: `$KV.${bucket}.>`, dest: `${PRESENCE_CHANGE_PREFIX}.>` };
    const kv = await new Kvm(nc).create(bucket, {
      history: 1,
      replicas: opts.replicas ?? 1,
      description: "natschat online set: user key -> {name, since}",
      maxValueSize: ONLINE_STORE.maxMsgSize,
      max_bytes: ONLINE_STORE.maxBytes,
      republish,
    });
    const status = await kv.status();
    const config = status.streamInfo.config;
    if (config.republish?.dest !== republish.dest) {
      // a bucket made before the feed (or by hand): the feed is its republish, so add it
      const jsm = await jetstreamManager(nc);
      await jsm.streams.update(config.name, { ...config, republish });
    }
    const set = new OnlineSet(nc, kv, opts);
    set.#readyAt = status.streamInfo.state.last_seq;
    await set.#startWatch();
    if (set.#readyAt === 0) set.#markReady();
    return set;
  }

  /** Starts the sweep and the tick, and follows revocations in the registry (if given). */
  start(registry?: Registry): void {
    this.#offRegistry = registry?.onChange((c) => this.#registryChanged(c));
    const sweep = setInterval(() => void this.sweep(), Math.max(50, this.#periodMs / 4));
    const tick = setInterval(() => this.tick(), this.#tickMs);
    sweep.unref?.();
    tick.unref?.();
    this.#timers = [sweep, tick];
  }

  async #startWatch(): Promise<void> {
    const watch = await this.#kv.watch();
    this.#watch = watch;
    this.#watching = (async () => {
      for await (const e of watch) this.#apply(e);
    })().catch((err) => this.#log.error("online set watch ended", { err }));
  }

  #markReady(): void {
    this.#onReady?.();
    this.#onReady = undefined;
  }

  #apply(e: KvEntry): void {
    if (e.revision > this.#rev) this.#rev = e.revision;
    const had = this.#view.get(e.key);
    if (e.operation === "DEL" || e.operation === "PURGE") {
      if (had && had.revision < e.revision) {
        this.#view.delete(e.key);
        const at = firstAfter(this.#sorted, e.key) - 1;
        if (this.#sorted[at] === e.key) this.#sorted.splice(at, 1);
      }
    } else if (!had || had.revision < e.revision) {
      try {
        const v = parseOnlineValue(e.string());
        if (!had) this.#sorted.splice(firstAfter(this.#sorted, e.key), 0, e.key);
        this.#view.set(e.key, { name: v.name, since: v.since, revision: e.revision });
      } catch (err) {
        // only the access service writes the bucket; a damaged value is reported and left out
        this.#log.warn("online entry ignored", { key: e.key, revision: e.revision, err });
      }
    }
    if (this.#onReady && this.#rev >= this.#readyAt) this.#markReady();
  }

  /** A verified heartbeat of `key` under its issued `name`; `goodbye` when it said goodbye. */
  heartbeat(key: string, name: string, goodbye: boolean): void {
    if (goodbye) {
      this.#lastSeen.delete(key);
      void this.#leave(key, "goodbye");
      return;
    }
    this.#lastSeen.set(key, this.#now());
    const had = this.#view.get(key);
    if (had?.name === name || this.#writing.has(key)) return;
    void this.#write(key, () =>
      had
        ? this.#kv.update(key, encodeOnlineValue({ name, since: had.since }), had.revision)
        : this.#kv.create(key, encodeOnlineValue({ name, since: this.#now() })),
    ).then((ok) => {
      if (ok && !had) this.#stats.joins++;
    });
  }

  /** Removes a key from the set at once (a revocation). */
  remove(key: string): Promise<void> {
    this.#lastSeen.delete(key);
    return this.#leave(key, "revoked");
  }

  async #leave(key: string, why: "goodbye" | "expired" | "revoked"): Promise<void> {
    const had = this.#view.get(key);
    if (!had || this.#writing.has(key)) return;
    const ok = await this.#write(key, () =>
      this.#kv.delete(key, { previousSeq: had.revision }).then(() => 0),
    );
    if (!ok) return;
    this.#stats.leaves++;
    if (why === "expired") this.#stats.expired++;
    this.#log.debug("left", { key, why });
  }

  /** Runs one write for `key`; false when another replica wrote first (or it failed). */
  async #write(key: string, op: () => Promise<number>): Promise<boolean> {
    this.#writing.add(key);
    try {
      await op();
      return true;
    } catch (err) {
      // another replica wrote first: its write is the one that counts, and the view will have it
      if (!isWrongLastSequence(err)) this.#log.warn("online set write failed", { key, err });
      return false;
    } finally {
      this.#writing.delete(key);
    }
  }

  /** Lets go of keys silent for longer than the expiry (and forgets old last-seen times). */
  async sweep(): Promise<number> {
    const now = this.#now();
    const due: string[] = [];
    for (const key of this.#view.keys()) {
      const seen = this.#lastSeen.get(key) ?? this.#startedAt;
      if (now - Math.max(seen, this.#startedAt) > this.#expireMs) due.push(key);
    }
    for (const [key, seen] of this.#lastSeen) {
      if (now - seen > this.#expireMs && !this.#view.has(key)) this.#lastSeen.delete(key);
    }
    await Promise.all(due.map((k) => this.#leave(k, "expired")));
    return due.length;
  }

  /** Publishes this replica's tick: its view's revision and size. */
  tick(): void {
    if (this.#onReady || this.#nc.isClosed()) return;
    this.#nc.publish(
      PRESENCE_TICK_SUBJECT,
      encodePresenceTick({ rev: this.#rev, count: this.#view.size }),
    );
  }

  #registryChanged(c: RegistryChange): void {
    const key = c.record?.key ?? c.previous?.key;
    if (!key) return;
    if (!c.record || c.record.revoked) void this.remove(key);
    if (c.previous && c.record && c.previous.key !== c.record.key) void this.remove(c.previous.key);
  }

  /** A page of the set: keys after `after`, sorted, with their names and the view's revision. */
  page(after: string, limit: number): OnlineReply {
    const from = firstAfter(this.#sorted, after);
    const keys = this.#sorted.slice(from, from + limit);
    const online = keys.map((k): [string, string] => [k, (this.#view.get(k) as Entry).name]);
    const last = keys.at(-1);
    const more = from + limit < this.#sorted.length;
    return { online, rev: this.#rev, ...(more && last ? { next: last } : {}) };
  }

  /** Whether `key` is in the set. */
  has(key: string): boolean {
    return this.#view.has(key);
  }

  /** Keys in the set, sorted. */
  keys(): string[] {
    return [...this.#sorted];
  }

  get revision(): number {
    return this.#rev;
  }

  get size(): number {
    return this.#view.size;
  }

  stats(): OnlineStats {
    return { online: this.#view.size, revision: this.#rev, ...this.#stats };
  }

  /** Stops the timers and the watch. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#offRegistry?.();
    this.#watch?.stop();
    await this.#watching;
    this.#markReady();
  }
}
