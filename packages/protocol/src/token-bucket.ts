// A token bucket: `rate` tokens per `perSeconds`, holding at most `burst`; the one rate limiter
// of natschat (the access service's registration limits and heartbeat gate, the history
// service's per-sender event limit). Pure: the caller passes the time.

/** One bucket's rule: `rate` tokens per `perSeconds`, holding at most `burst`. */
export interface BucketRule {
  rate: number;
  perSeconds: number;
  burst: number;
}

/** A token bucket; `now` is in ms. */
export class TokenBucket {
  #tokens: number;
  #at: number;
  readonly #perMs: number;
  constructor(
    readonly rule: BucketRule,
    now: number,
  ) {
    this.#tokens = rule.burst;
    this.#at = now;
    this.#perMs = rule.rate / (rule.perSeconds * 1000);
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.rule.burst, this.#tokens + (now - this.#at) * this.#perMs);
      this.#at = now;
    }
  }

  /** Takes a token: 0 when granted, else the ms until one is available. */
  take(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.#tokens) / this.#perMs);
  }

  /** True when the bucket is full again, so it can be forgotten. */
  isFull(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.rule.burst;
  }
}

/**
 * One token bucket per key (a sender, an address), forgotten once full again: memory holds only
 * the keys heard from within a refill time.
 */
export class KeyedBuckets {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #sweepMs: number;
  #lastSweep = 0;

  constructor(readonly rule: BucketRule) {
    this.#sweepMs = (rule.burst / rule.rate) * rule.perSeconds * 1000;
  }

  /** Keys with a bucket that is not known to be full. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes a token of `key`: 0 when granted, else the ms until one is available. */
  take(key: string, now: number): number {
    if (now - this.#lastSweep >= this.#sweepMs) {
      this.#lastSweep = now;
      for (const [k, b] of this.#buckets) if (b.isFull(now)) this.#buckets.delete(k);
    }
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.rule, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(now);
  }
}
