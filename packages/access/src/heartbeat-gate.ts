// The per-key gate in front of heartbeat verification. Every replica sees every heartbeat and
// verifying one costs an Ed25519 check, so a key that publishes as fast as the server lets it
// would cost every replica that much CPU. The subject's last token is the key the server
// authenticated, so heartbeats are counted per key before anything is verified: a token bucket
// (rate-limit.ts) of `burst` refilled at one per quarter period. An honest client sends one per
// period; what exceeds the bucket is dropped unverified and counted as "throttled".
//
// A goodbye must not be starved by the heartbeats before it (a page closed, reopened and closed
// again at once sends more than a bucket holds), and must not be a flood of its own: it passes
// when a heartbeat of its key was let through since the key's last goodbye, or when this
// replica holds nothing about the key (it started, or swept the key); the rest are dropped
// unverified. So a key costs at most one goodbye check per heartbeat check, plus one per sweep.
// Memory: one entry per key heard from recently; entries whose bucket refilled are swept.
import { type BucketRule, TokenBucket } from "./rate-limit.ts";

/** Options of HeartbeatGate. */
export interface HeartbeatGateOptions {
  /** The heartbeat period, ms: one token comes back every quarter of it. */
  periodMs: number;
  /** Heartbeats a key may send at once (default 4). */
  burst?: number;
  now?: () => number;
}

interface KeyGate {
  bucket: TokenBucket;
  /** A heartbeat was let through since the key's last goodbye. */
  open: boolean;
}

export class HeartbeatGate {
  readonly #rule: BucketRule;
  readonly #sweepMs: number;
  readonly #now: () => number;
  readonly #keys = new Map<string, KeyGate>();
  #lastSweep: number;
  /** Heartbeats and goodbyes dropped before verification. */
  throttled = 0;

  constructor(opts: HeartbeatGateOptions) {
    const burst = opts.burst ?? 4;
    this.#rule = { rate: 4, perSeconds: opts.periodMs / 1000, burst };
    this.#sweepMs = (opts.periodMs / 4) * burst;
    this.#now = opts.now ?? Date.now;
    this.#lastSweep = this.#now();
  }

  /** Keys this replica holds an entry for. */
  get tracked(): number {
    return this.#keys.size;
  }

  /** Whether a heartbeat (or, with `goodbye`, a goodbye) of `key` may be verified now. */
  admit(key: string, goodbye = false): boolean {
    const now = this.#now();
    this.#sweep(now);
    let gate = this.#keys.get(key);
    if (!gate) {
      gate = { bucket: new TokenBucket(this.#rule, now), open: goodbye };
      this.#keys.set(key, gate);
    }
    if (goodbye) {
      if (gate.open) {
        gate.open = false;
        return true;
      }
    } else if (gate.bucket.take(now) === 0) {
      gate.open = true;
      return true;
    }
    this.throttled++;
    return false;
  }

  /** Forgets keys whose bucket refilled (they have been quiet long enough). */
  #sweep(now: number): void {
    if (now - this.#lastSweep < this.#sweepMs) return;
    this.#lastSweep = now;
    for (const [key, gate] of this.#keys) if (gate.bucket.isFull(now)) this.#keys.delete(key);
  }
}
