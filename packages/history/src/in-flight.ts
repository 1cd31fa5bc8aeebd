// A bound on requests served at once, in all and per requester, so one user cannot take every
// slot of an endpoint. An entry lives only while its requester has requests in flight.

/** Slots of one endpoint. */
export class InFlightLimit {
  #total = 0;
  readonly #perUser = new Map<string, number>();

  constructor(
    readonly max: number,
    readonly maxPerUser: number,
  ) {}

  /** Takes a slot for `user`: the release function (call it once), or undefined when full. */
  take(user: string): (() => void) | undefined {
    const mine = this.#perUser.get(user) ?? 0;
    if (this.#total >= this.max || mine >= this.maxPerUser) return undefined;
    this.#total++;
    this.#perUser.set(user, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#perUser.get(user) ?? 1) - 1;
      if (left > 0) this.#perUser.set(user, left);
      else this.#perUser.delete(user);
    };
  }
}
