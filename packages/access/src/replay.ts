// Remembers the jti of every accepted access request until the request would be refused as
// stale anyway, so a captured request cannot be sent again. Per replica; across replicas the
// registry record keeps the jti of the last request for its name (see registry.ts).

export class ReplayGuard {
  /** jti → forget after (ms); insertion order is roughly expiry order. */
  readonly #seen = new Map<string, number>();
  readonly #max: number;

  constructor(opts: { maxEntries?: number } = {}) {
    this.#max = opts.maxEntries ?? 200_000;
  }

  /** Records `jti` until `forgetAt` (ms); false when it was already seen. */
  remember(jti: string, forgetAt: number, now: number = Date.now()): boolean {
    this.#prune(now);
    if (this.#seen.has(jti)) return false;
    this.#seen.set(jti, forgetAt);
    return true;
  }

  #prune(now: number): void {
    for (const [jti, until] of this.#seen) {
      if (until > now && this.#seen.size < this.#max) break;
      this.#seen.delete(jti);
    }
  }

  get size(): number {
    return this.#seen.size;
  }
}
