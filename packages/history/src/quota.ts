// Per-sender daily byte quota, shared by every history replica through the KV bucket
// natschat-quota (in CHAT): key `<senderKey>.<YYYYMMDD>` (UTC day), value the bytes charged so
// far. Updates are compare-and-set on the key's revision, so two replicas charging the same
// sender at once cannot both spend the last bytes; a loser re-reads and retries. Memory here is
// one cached revision per sender seen today, dropped at the day's end.
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { QUOTA_BUCKET } from "@natschat/trust";
import { isCasConflict } from "./kv-cas.ts";

/** Default per-sender daily quota: 8 MiB (≈ 500 messages at the 16 KiB maximum). */
export const DEFAULT_DAILY_QUOTA_BYTES = 8 * 1024 * 1024;

/** 32 compare-and-set rounds lost in a row: the caller answers UNAVAILABLE. */
export class QuotaContentionError extends Error {
  override name = "QuotaContentionError";
  readonly code = "QUOTA_CONTENTION";
  constructor(sender: string) {
    super(`the quota of ${sender.slice(0, 8)}… kept changing under this replica; retry`);
  }
}

/** Outcome of a charge. */
export type Charge = { ok: true; used: number } | { ok: false; used: number; limit: number };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The UTC day of `ms`, as YYYYMMDD. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replaceAll("-", "");
}

/** Charges senders' stored bytes against a daily limit kept in the shared bucket. */
export class QuotaLedger {
  readonly #kv: KV;
  readonly #limit: number;
  readonly #now: () => number;
  /** "<key>.<day>" → last known [revision, used]; cleared when the day changes. */
  #known = new Map<string, [number, number]>();
  #day = "";

  private constructor(kv: KV, limit: number, now: () => number) {
    this.#kv = kv;
    this.#limit = limit;
    this.#now = now;
  }

  /** Opens the bucket (ensureHistoryStores created it). */
  static async open(
    nc: NatsConnection,
    opts: { dailyBytes?: number; now?: () => number } = {},
  ): Promise<QuotaLedger> {
    const kv = await new Kvm(nc).open(QUOTA_BUCKET);
    return new QuotaLedger(kv, opts.dailyBytes ?? DEFAULT_DAILY_QUOTA_BYTES, opts.now ?? Date.now);
  }

  /** The daily limit, bytes. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Adds `bytes` to `sender`'s count for today if it stays within the limit. Fails closed: a
   * bucket error propagates, and the caller refuses the message. A replica's writer charges one
   * sender's messages one at a time; across replicas the revision check decides.
   */
  charge(sender: string, bytes: number): Promise<Charge> {
    return this.#charge(sender, bytes);
  }

  async #charge(sender: string, bytes: number): Promise<Charge> {
    const day = utcDay(this.#now());
    if (day !== this.#day) {
      this.#day = day;
      this.#known = new Map();
    }
    const key = `${sender}.${day}`;
    for (let attempt = 0; attempt < 32; attempt++) {
      let state = this.#known.get(key);
      if (!state) {
        const e = await this.#kv.get(key);
        state =
          e && e.operation === "PUT" ? [e.revision, Number(decoder.decode(e.value)) || 0] : [0, 0];
      }
      const [revision, used] = state;
      if (used + bytes > this.#limit) {
        this.#known.set(key, state);
        return { ok: false, used, limit: this.#limit };
      }
      const next = encoder.encode(String(used + bytes));
      try {
        const rev =
          revision === 0
            ? await this.#kv.create(key, next)
            : await this.#kv.update(key, next, revision);
        this.#known.set(key, [rev, used + bytes]);
        return { ok: true, used: used + bytes };
      } catch (err) {
        // another replica wrote first: re-read its count, after a short random pause so that
        // two replicas charging one sender do not keep colliding
        if (!isCasConflict(err)) throw err;
        this.#known.delete(key);
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
    throw new QuotaContentionError(sender);
  }
}
