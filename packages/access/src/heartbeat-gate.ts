// The per-key gate in front of heartbeat verification. Every replica sees every heartbeat and
// verifying one costs an Ed25519 check, so a key that publishes as fast as the server lets it
// would cost every replica that much CPU. The subject's last token is the key the server
// authenticated, so heartbeats are counted per key before anything is parsed: a token bucket
// (rate-limit.ts) of `burst` (a session's first heartbeat, a goodbye and a reload's new session
// fit) refilled at one per quarter period. An honest client sends one per period; what exceeds
// the bucket is dropped unverified and counted as "throttled". Memory: one bucket per key heard
// from recently; full buckets are swept.
import { type BucketRule, TokenBucket } from "./rate-limit.ts";

/** Options of HeartbeatGate. */
export interface HeartbeatGateOptions {
  /** The heartbeat period, ms: one token comes back every quarter of it. */
  periodMs: number;
  /** Heartbeats a key may send at once (default 4). */
  burst?: number;
  now?: () => number;
}

export class HeartbeatGate {
  readonly #rule: BucketRule;
  readonly #sweepMs: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, TokenBucket>();
  #lastSweep: number;
  /** Heartbeats dropped before verification. */
  throttled = 0;

  constructor(opts: HeartbeatGateOptions) {
    const burst = opts.burst ?? 4;
    this.#rule = { rate: 4, perSeconds: opts.periodMs / 1000, burst };
    this.#sweepMs = (opts.periodMs / 4) * burst;
    this.#now = opts.now ?? Date.now;
    this.#lastSweep = this.#now();
  }

  /** Keys whose bucket is not known to be full. */
  get tracked(): number {
    return this.#buckets.size;
  }

  /** Whether a heartbeat of `key` may be verified now (and takes its token). */
  admit(key: string): boolean {
    const now = this.#now();
    this.#sweep(now);
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.#rule, now);
      this.#buckets.set(key, bucket);
    }
    if (bucket.take(now) === 0) return true;
    this.throttled++;
    return false;
  }

  /** Forgets buckets that have refilled (their key has been quiet long enough). */
  #sweep(now: number): void {
    if (now - this.#lastSweep < this.#sweepMs) return;
    this.#lastSweep = now;
    for (const [key, bucket] of this.#buckets) if (bucket.isFull(now)) this.#buckets.delete(key);
  }
}
