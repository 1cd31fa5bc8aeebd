// The user registry: a JetStream KV bucket in ADMIN (key = name, value = JSON record), shared by
// every access-service replica and kept across restarts. Beside each name, the bucket holds a
// claim of its user key, `key.<U…>` = `{"name", "revoked"?}`, made with KV create: a key claims
// one name, atomically across replicas, and a revoked key's claim stays for good (a name never
// has a '.', so the two never collide). Writes go straight to the bucket with
// revision checks (KV create is atomic, so exactly one of two racing registrations wins); reads
// come from an in-memory view fed by a KV watch, so answering `provisioned` never scans the
// bucket and every replica converges on the same state.
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { type KV, type KvEntry, Kvm } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator } from "@nats-io/nats-core";
import { isPublicKey, isValidName } from "@natschat/protocol";
import { REGISTRY_BUCKET } from "@natschat/trust";
import type { Logger } from "./log.ts";

/** One registered name. Times are ISO 8601 strings. */
export interface RegistryRecord {
  name: string;
  /** The user public key ("U...") the name is issued to. */
  key: string;
  /** When the current user JWT was issued. */
  issued: string;
  /** When the current user JWT expires. */
  expires?: string;
  /** Set once the admin revoked the name; it stays reserved until released. */
  revoked?: boolean;
  revokedAt?: string;
  /** Last verified presence announcement (written at most every few minutes). */
  lastSeen?: string;
  /** jti of the last access request served for the name: refuses replays across replicas. */
  jti?: string;
  /** Issued through the talk's plain-text path (server-made key). */
  legacy?: boolean;
  /** The user JWT last issued (for the directory); left out when the record would be too big. */
  jwt?: string;
}

/** A key's claim of its one name. */
export interface KeyClaim {
  name: string;
  revoked?: boolean;
}

/** A claim with the KV revision it was read at. */
export interface StoredClaim {
  claim: KeyClaim;
  revision: number;
}

/** Prefix of the key claims in the bucket. */
export const CLAIM_PREFIX = "key.";

/** A record with the KV revision it was read at. */
export interface StoredRecord {
  record: RegistryRecord;
  revision: number;
}

/** What changed in the registry; `record` is undefined when the name was released. */
export interface RegistryChange {
  name: string;
  record?: RegistryRecord;
  previous?: RegistryRecord;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Parses a bucket value into a record; throws with what is wrong. */
export function parseRecord(key: string, value: unknown): RegistryRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("value is not a JSON object");
  }
  const v = value as Record<string, unknown>;
  if (v.name !== key || !isValidName(key)) throw new Error("name does not match its key");
  if (typeof v.key !== "string" || !isPublicKey(v.key, "U"))
    throw new Error("key is not a user key");
  for (const f of ["issued", "expires", "revokedAt", "lastSeen"]) {
    const t = v[f];
    if (t === undefined && f !== "issued") continue;
    if (typeof t !== "string" || !ISO.test(t)) throw new Error(`${f} is not an ISO time`);
  }
  if (v.revoked !== undefined && typeof v.revoked !== "boolean")
    throw new Error("revoked is not a boolean");
  if (v.jti !== undefined && typeof v.jti !== "string") throw new Error("jti is not a string");
  const rec: RegistryRecord = { name: key, key: v.key, issued: v.issued as string };
  if (v.expires !== undefined) rec.expires = v.expires as string;
  if (v.revoked) rec.revoked = true;
  if (v.revokedAt !== undefined) rec.revokedAt = v.revokedAt as string;
  if (v.lastSeen !== undefined) rec.lastSeen = v.lastSeen as string;
  if (v.jti !== undefined) rec.jti = v.jti as string;
  if (v.legacy === true) rec.legacy = true;
  if (typeof v.jwt === "string") rec.jwt = v.jwt;
  return rec;
}

/** Parses a key claim's value; throws with what is wrong. */
export function parseClaim(value: unknown): KeyClaim {
  const v = value as Record<string, unknown> | null;
  if (typeof v !== "object" || v === null || typeof v.name !== "string" || !isValidName(v.name)) {
    throw new Error("key claim has no valid name");
  }
  return v.revoked === true ? { name: v.name, revoked: true } : { name: v.name };
}

/** Largest value written: the bucket refuses bigger ones (maxValueSize). */
const MAX_VALUE = 4096;

/** Whether a revision-checked KV write lost to another writer. */
export function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** The record as stored; without its JWT when the whole would not fit a value. */
function encode(rec: RegistryRecord): string {
  const text = JSON.stringify(rec);
  if (text.length <= MAX_VALUE || rec.jwt === undefined) return text;
  const { jwt: _dropped, ...rest } = rec;
  return JSON.stringify(rest);
}

/** First index in sorted `list` whose value is > `after`. */
export function firstAfter(list: string[], after: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as string) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Options of Registry.open. */
export interface RegistryOptions {
  bucket?: string;
  /** JetStream replicas of the bucket (1, or 3 in a cluster). */
  replicas?: number;
  log: Logger;
}

export class Registry {
  readonly #kv: KV;
  readonly #log: Logger;
  readonly #byName = new Map<string, StoredRecord>();
  readonly #byKey = new Map<string, string>();
  readonly #claims = new Map<string, StoredClaim>();
  /** Every name, sorted: pages are a binary search and a slice, never a sort. */
  readonly #sorted: string[] = [];
  readonly #listeners = new Set<(c: RegistryChange) => void>();
  #watch: QueuedIterator<KvEntry> | undefined;
  #watching: Promise<void> | undefined;
  #highest = 0;
  readonly #waiters = new Set<{ revision: number; done: (ok: boolean) => void }>();
  #readyAt = 0;
  #onReady: (() => void) | undefined;
  /** Resolves once the view holds everything the bucket held at open. */
  readonly ready: Promise<void>;

  private constructor(kv: KV, log: Logger) {
    this.#kv = kv;
    this.#log = log;
    this.ready = new Promise((resolve) => {
      this.#onReady = resolve;
    });
  }

  /** Opens (or creates) the bucket and starts the watch that feeds the view. */
  static async open(nc: NatsConnection, opts: RegistryOptions): Promise<Registry> {
    const kvm = new Kvm(nc);
    const kv = await kvm.create(opts.bucket ?? REGISTRY_BUCKET, {
      history: 1,
      replicas: opts.replicas ?? 1,
      description: "natschat user registry: name -> {key, issued, expires, revoked}",
      maxValueSize: MAX_VALUE,
    });
    const reg = new Registry(kv, opts.log);
    const status = await kv.status();
    reg.#readyAt = status.streamInfo.state.last_seq;
    await reg.#startWatch();
    if (reg.#readyAt === 0) reg.#markReady();
    return reg;
  }

  async #startWatch(): Promise<void> {
    const watch = await this.#kv.watch();
    this.#watch = watch;
    this.#watching = (async () => {
      for await (const e of watch) this.#apply(e);
    })().catch((err) => {
      this.#log.error("registry watch ended", { err });
    });
  }

  #markReady(): void {
    this.#onReady?.();
    this.#onReady = undefined;
  }

  #apply(e: KvEntry): void {
    if (e.revision > this.#highest) this.#highest = e.revision;
    const previous = this.#byName.get(e.key);
    if (e.key.startsWith(CLAIM_PREFIX)) {
      this.#applyClaim(e);
    } else if (previous && previous.revision >= e.revision) {
      // our own write, put into the view when it was made (#put), or something older than it
    } else if (e.operation === "DEL" || e.operation === "PURGE") {
      if (previous) {
        this.#byName.delete(e.key);
        const at = firstAfter(this.#sorted, e.key) - 1;
        if (this.#sorted[at] === e.key) this.#sorted.splice(at, 1);
        if (this.#byKey.get(previous.record.key) === e.key) this.#byKey.delete(previous.record.key);
        this.#changed({ name: e.key, previous: previous.record });
      }
    } else {
      let record: RegistryRecord;
      try {
        record = parseRecord(e.key, e.json());
      } catch (err) {
        // A damaged value must not take the service down; it is reported and left out.
        this.#log.warn("registry entry ignored", { name: e.key, revision: e.revision, err });
        return;
      }
      this.#put(e.key, record, e.revision);
    }
    if (this.#onReady && this.#highest >= this.#readyAt) this.#markReady();
    for (const w of this.#waiters) if (this.#highest >= w.revision) w.done(true);
  }

  #applyClaim(e: KvEntry): void {
    const key = e.key.slice(CLAIM_PREFIX.length);
    const previous = this.#claims.get(key);
    if (previous && previous.revision >= e.revision) return;
    if (e.operation === "DEL" || e.operation === "PURGE") {
      this.#claims.delete(key);
      return;
    }
    try {
      this.#putClaim(key, parseClaim(e.json()), e.revision);
    } catch (err) {
      this.#log.warn("key claim ignored", { key, revision: e.revision, err });
    }
  }

  #putClaim(key: string, claim: KeyClaim, revision: number): void {
    const previous = this.#claims.get(key);
    if (previous && previous.revision >= revision) return;
    this.#claims.set(key, { claim, revision });
  }

  /** Puts a record into the view unless it already holds that name at a later revision. */
  #put(name: string, record: RegistryRecord, revision: number): void {
    const previous = this.#byName.get(name);
    if (previous && previous.revision >= revision) return;
    if (previous && previous.record.key !== record.key) this.#byKey.delete(previous.record.key);
    if (!previous) this.#sorted.splice(firstAfter(this.#sorted, name), 0, name);
    this.#byName.set(name, { record, revision });
    this.#byKey.set(record.key, name);
    this.#changed({ name, record, ...(previous ? { previous: previous.record } : {}) });
  }

  #changed(change: RegistryChange): void {
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch (err) {
        // a listener's bug must not stop the view
        this.#log.error("registry listener failed", { err });
      }
    }
  }

  /** Calls `listener` for every change the watch delivers; returns the unsubscribe. */
  onChange(listener: (c: RegistryChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The view's record for a name. */
  get(name: string): StoredRecord | undefined {
    return this.#byName.get(name);
  }

  /** The name the view has for a user key. */
  nameOf(key: string): string | undefined {
    return this.#byKey.get(key);
  }

  /** Number of key claims in the view. */
  get claims(): number {
    return this.#claims.size;
  }

  /** Number of names in the view (revoked ones included). */
  get size(): number {
    return this.#byName.size;
  }

  /** Highest bucket revision the view has applied. */
  get revision(): number {
    return this.#highest;
  }

  /** Every record, sorted by name. */
  records(): RegistryRecord[] {
    return this.#sorted.map((n) => (this.#byName.get(n) as StoredRecord).record);
  }

  /** Up to `limit` stored records with names after `after`, sorted; `more` if others follow. */
  page(
    after: string,
    limit: number,
  ): { items: (StoredRecord & { name: string })[]; more: boolean } {
    const from = after === "" ? 0 : firstAfter(this.#sorted, after);
    const names = this.#sorted.slice(from, from + limit);
    return {
      items: names.map((name) => ({ name, ...(this.#byName.get(name) as StoredRecord) })),
      more: from + limit < this.#sorted.length,
    };
  }

  /** Every stored record (unsorted), for sweeps. */
  entries(): IterableIterator<StoredRecord> {
    return this.#byName.values();
  }

  /** The view's claim of a user key. */
  claimOf(key: string): StoredClaim | undefined {
    return this.#claims.get(key);
  }

  /** Keys whose claims are marked revoked (they never get a JWT again). */
  revokedKeys(): string[] {
    const out: string[] = [];
    for (const [key, { claim }] of this.#claims) if (claim.revoked) out.push(key);
    for (const { record } of this.#byName.values()) if (record.revoked) out.push(record.key);
    return [...new Set(out)];
  }

  /** Claims a key for a name (KV create, atomic across replicas); "exists" when claimed. */
  async claimKey(key: string, claim: KeyClaim): Promise<number | "exists"> {
    try {
      const revision = await this.#kv.create(CLAIM_PREFIX + key, JSON.stringify(claim));
      this.#putClaim(key, claim, revision);
      return revision;
    } catch (err) {
      if (isWrongLastSequence(err)) return "exists";
      throw err;
    }
  }

  /** Reads a key's claim from the bucket. */
  async fetchClaim(key: string): Promise<StoredClaim | undefined> {
    const e = await this.#kv.get(CLAIM_PREFIX + key);
    if (e?.operation !== "PUT") return undefined;
    return { claim: parseClaim(e.json()), revision: e.revision };
  }

  /** Replaces a claim at `revision`; "conflict" when someone wrote first. */
  async updateClaim(key: string, claim: KeyClaim, revision: number): Promise<number | "conflict"> {
    try {
      const next = await this.#kv.update(CLAIM_PREFIX + key, JSON.stringify(claim), revision);
      this.#putClaim(key, claim, next);
      return next;
    } catch (err) {
      if (isWrongLastSequence(err)) return "conflict";
      throw err;
    }
  }

  /** Drops a claim at `revision` (a failed registration, an expired name). */
  async releaseClaim(key: string, revision: number): Promise<"ok" | "conflict"> {
    try {
      await this.#kv.delete(CLAIM_PREFIX + key, { previousSeq: revision });
      return "ok";
    } catch (err) {
      if (isWrongLastSequence(err)) return "conflict";
      throw err;
    }
  }

  /** Marks a key revoked for good (creating its claim when an older registry has none). */
  async revokeKey(key: string, name: string): Promise<void> {
    for (let round = 0; round < 6; round++) {
      const stored = await this.fetchClaim(key);
      if (stored?.claim.revoked) return;
      const claim: KeyClaim = { name: stored?.claim.name ?? name, revoked: true };
      const rev = stored
        ? await this.updateClaim(key, claim, stored.revision)
        : await this.claimKey(key, claim);
      if (rev !== "conflict" && rev !== "exists") return;
    }
    throw new Error(`the claim of key ${key.slice(0, 8)}… kept changing while being revoked`);
  }

  /**
   * Gives every record of an older registry (made before key claims) the claim of its key.
   * Returns how many were added.
   */
  async backfillClaims(): Promise<number> {
    const missing = [...this.#byName.values()].filter((s) => !this.#claims.has(s.record.key));
    let added = 0;
    for (let i = 0; i < missing.length; i += 200) {
      const batch = missing.slice(i, i + 200).map(async ({ record }) => {
        const claim: KeyClaim = record.revoked
          ? { name: record.name, revoked: true }
          : { name: record.name };
        if ((await this.claimKey(record.key, claim)) !== "exists") added++;
      });
      await Promise.all(batch);
    }
    return added;
  }

  /** Reads a name straight from the bucket (authoritative, unlike the view). */
  async fetch(name: string): Promise<StoredRecord | undefined> {
    const e = await this.#kv.get(name);
    if (e?.operation !== "PUT") return undefined;
    return { record: parseRecord(name, e.json()), revision: e.revision };
  }

  /** Creates a name; "exists" when it is already registered (atomic across replicas). */
  async create(record: RegistryRecord): Promise<number | "exists"> {
    try {
      const revision = await this.#kv.create(record.name, encode(record));
      // read-your-writes on this replica: the view has it before the caller replies
      this.#put(record.name, record, revision);
      return revision;
    } catch (err) {
      if (isWrongLastSequence(err)) return "exists";
      throw err;
    }
  }

  /** Replaces a record if it is still at `revision`; "conflict" when someone wrote first. */
  async update(record: RegistryRecord, revision: number): Promise<number | "conflict"> {
    try {
      const next = await this.#kv.update(record.name, encode(record), revision);
      this.#put(record.name, record, next);
      return next;
    } catch (err) {
      if (isWrongLastSequence(err)) return "conflict";
      throw err;
    }
  }

  /** Releases a name (a delete marker); "conflict" when it changed since `revision`. */
  async release(name: string, revision: number): Promise<number | "conflict"> {
    try {
      await this.#kv.delete(name, { previousSeq: revision });
      return (await this.#kv.status()).streamInfo.state.last_seq;
    } catch (err) {
      if (isWrongLastSequence(err)) return "conflict";
      throw err;
    }
  }

  /** Resolves true once the view has applied `revision`, false after timeoutMs. */
  caughtUp(revision: number, timeoutMs = 2000): Promise<boolean> {
    if (this.#highest >= revision) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        revision,
        done: (ok: boolean) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => waiter.done(false), timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Stops the watch. */
  async stop(): Promise<void> {
    this.#watch?.stop();
    await this.#watching;
    this.#markReady();
  }
}
