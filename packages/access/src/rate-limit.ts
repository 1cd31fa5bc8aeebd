// Registration rate limits: token buckets, per client address, global, per name and per key. A
// request takes one token from each bucket that applies; an empty bucket refuses it with the time
// until the next token, which the service turns into a RATE_LIMITED reply.
// Order (cheapest first, so junk costs its sender): the address bucket is charged for every
// request, junk included, before any shape check; the global bucket only once the request has
// the shape of a signed request; name and key once it verified.
// Across replicas the limits are split: requests reach the replicas of one queue group at random,
// so each replica enforces 1/N of the address and global limits, N being the replicas that answer
// $SRV.PING. The whole service then never admits more than the limit (the sum of the shares);
// an unlucky spread can refuse a little early. Name and key limits are not split (a name's
// requests are few; the registry's atomic claims bound what they can do).
import { type BucketRule, TokenBucket } from "@natschat/protocol";

export { type BucketRule, TokenBucket };

/** The service's limits; a rule with rate 0 is switched off. */
export interface RateLimits {
  /** All registrations of the service (split across replicas). */
  global: BucketRule;
  /** Every request from one client address (Nats-Request-Info host), junk included; absent: off. */
  perAddress?: BucketRule;
  /** New names registered from one client address (the per-address quota); absent: off. */
  perAddressNames?: BucketRule;
  /** Requests for one name (new or renewal). */
  perName: BucketRule;
  /** Requests signed by one user key (renewals mostly: a new registration has a new key). */
  perKey: BucketRule;
}

/**
 * Defaults: 2000/s for the service, 60 a minute per client address (burst 60: a conference NAT
 * registers a room of people in minutes), 10 per name and per key a minute (burst 5).
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  global: { rate: 2000, perSeconds: 1, burst: 2000 },
  perAddress: { rate: 60, perSeconds: 60, burst: 60 },
  perAddressNames: { rate: 1000, perSeconds: 86400, burst: 1000 },
  perName: { rate: 10, perSeconds: 60, burst: 5 },
  perKey: { rate: 10, perSeconds: 60, burst: 5 },
};

/** Why a request was limited, and when to retry. */
export interface Limited {
  scope: "global" | "address" | "address-names" | "name" | "key";
  retryAfterMs: number;
}

const enabled = (rule: BucketRule) => rule.rate > 0 && rule.burst > 0;

/** A replica's share of a rule when `replicas` share it (never below one token). */
export function shareOf(rule: BucketRule, replicas: number): BucketRule {
  const n = Math.max(1, Math.floor(replicas));
  if (n === 1) return rule;
  return { rate: rule.rate / n, perSeconds: rule.perSeconds, burst: Math.max(1, rule.burst / n) };
}

/** Keyed buckets that are dropped once full again, so memory follows the active set. */
class BucketMap {
  readonly #buckets = new Map<string, TokenBucket>();
  #lastSweep = 0;
  constructor(public rule: BucketRule) {}

  take(id: string, now: number): number {
    if (now - this.#lastSweep > 10_000) this.#sweep(now);
    let b = this.#buckets.get(id);
    if (!b) {
      b = new TokenBucket(this.rule, now);
      this.#buckets.set(id, b);
    }
    return b.take(now);
  }

  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [id, b] of this.#buckets) if (b.isFull(now)) this.#buckets.delete(id);
  }

  get size(): number {
    return this.#buckets.size;
  }
}

/** The service's limiter: checkGlobal before any work, checkIdentity once the request is verified. */
export class RateLimiter {
  #global: TokenBucket | undefined;
  readonly #addresses: BucketMap | undefined;
  readonly #addressNames: BucketMap | undefined;
  readonly #names: BucketMap | undefined;
  readonly #keys: BucketMap | undefined;
  readonly #now: () => number;
  #replicas = 1;
  /** Refusals so far, by scope. */
  readonly refused = { global: 0, address: 0, "address-names": 0, name: 0, key: 0 };

  constructor(
    readonly limits: RateLimits = DEFAULT_RATE_LIMITS,
    now: () => number = Date.now,
  ) {
    this.#now = now;
    this.#global = enabled(limits.global) ? new TokenBucket(limits.global, now()) : undefined;
    this.#addresses =
      limits.perAddress && enabled(limits.perAddress)
        ? new BucketMap(limits.perAddress)
        : undefined;
    this.#addressNames =
      limits.perAddressNames && enabled(limits.perAddressNames)
        ? new BucketMap(limits.perAddressNames)
        : undefined;
    this.#names = enabled(limits.perName) ? new BucketMap(limits.perName) : undefined;
    this.#keys = enabled(limits.perKey) ? new BucketMap(limits.perKey) : undefined;
  }

  /** The replicas sharing the address and global limits (each enforces 1/N of them). */
  get replicas(): number {
    return this.#replicas;
  }

  setReplicas(n: number): void {
    const replicas = Math.max(1, Math.floor(n));
    if (replicas === this.#replicas) return;
    this.#replicas = replicas;
    if (this.#global)
      this.#global = new TokenBucket(shareOf(this.limits.global, replicas), this.#now());
    // buckets already made keep their rule until they fill up and are dropped
    if (this.#addresses && this.limits.perAddress) {
      this.#addresses.rule = shareOf(this.limits.perAddress, replicas);
    }
    if (this.#addressNames && this.limits.perAddressNames) {
      this.#addressNames.rule = shareOf(this.limits.perAddressNames, replicas);
    }
  }

  /** Takes a new-name token of a client address (its quota); undefined when granted. */
  checkAddressNames(address: string | undefined): Limited | undefined {
    if (address === undefined || !this.#addressNames) return undefined;
    const wait = this.#addressNames.take(address, this.#now());
    if (wait === 0) return undefined;
    this.refused["address-names"]++;
    return { scope: "address-names", retryAfterMs: wait };
  }

  /** Takes a token of a client address; undefined when granted (or the address is unknown). */
  checkAddress(address: string | undefined): Limited | undefined {
    if (address === undefined || !this.#addresses) return undefined;
    const wait = this.#addresses.take(address, this.#now());
    if (wait === 0) return undefined;
    this.refused.address++;
    return { scope: "address", retryAfterMs: wait };
  }

  /** Takes a global token; undefined when granted. */
  checkGlobal(): Limited | undefined {
    const wait = this.#global?.take(this.#now()) ?? 0;
    if (wait === 0) return undefined;
    this.refused.global++;
    return { scope: "global", retryAfterMs: wait };
  }

  /** Takes a token for the name and one for the key; undefined when both are granted. */
  checkIdentity(name: string, key: string): Limited | undefined {
    const now = this.#now();
    const byName = this.#names?.take(name, now) ?? 0;
    if (byName > 0) {
      this.refused.name++;
      return { scope: "name", retryAfterMs: byName };
    }
    const byKey = this.#keys?.take(key, now) ?? 0;
    if (byKey > 0) {
      this.refused.key++;
      return { scope: "key", retryAfterMs: byKey };
    }
    return undefined;
  }
}

/** The over-limit message: which limit, and when to try again. */
export function describeLimited(l: Limited, limits: RateLimits): string {
  const rule = {
    global: limits.global,
    address: limits.perAddress ?? limits.global,
    "address-names": limits.perAddressNames ?? limits.global,
    name: limits.perName,
    key: limits.perKey,
  }[l.scope];
  const what = {
    global: "the service is busy",
    address: "too many requests from your network address",
    "address-names": "too many new names from your network address",
    name: "too many requests for this name",
    key: "too many requests from this key",
  }[l.scope];
  const per =
    rule.perSeconds === 1
      ? "second"
      : rule.perSeconds === 86400
        ? "day"
        : rule.perSeconds === 3600
          ? "hour"
          : `${rule.perSeconds} s`;
  const retry = Math.max(1, Math.ceil(l.retryAfterMs / 1000));
  return `${what} (limit ${rule.rate} per ${per}); retry in ${retry} s`;
}

/** Parses a rule written as "RATE/SECONDS[:BURST]", e.g. "10/60:5" or "2000/1". */
export function parseBucketRule(text: string, what: string): BucketRule {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*(?::\s*(\d+))?\s*$/.exec(text);
  if (!m) {
    throw new Error(
      `${what} "${text}" is not a rate: write RATE/SECONDS[:BURST], e.g. 10/60:5 (0/1 switches it off)`,
    );
  }
  const rate = Number(m[1]);
  const perSeconds = Number(m[2]);
  if (perSeconds <= 0) throw new Error(`${what} "${text}": the period must be more than 0 s`);
  const burst = m[3] === undefined ? Math.max(1, Math.ceil(rate)) : Number(m[3]);
  return { rate, perSeconds, burst };
}
