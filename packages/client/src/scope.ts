// The lifetime of a session, as one object: whether it is still live, and the timers that live
// only as long as it does. Every part of the session asks `scope.live` instead of re-deriving
// "not stopping and not in a final state", and sets its timers through the scope, so closing
// the scope (stop, revocation, expiry, a closed connection) ends all of them at once.

/** A timer set through a Scope; cancel() is safe to call at any time, more than once. */
export interface ScopedTimer {
  cancel(): void;
}

/** Owner of a session's timers and of its liveness. */
export class Scope {
  #live = true;
  readonly #timeouts = new Set<ReturnType<typeof setTimeout>>();
  readonly #intervals = new Set<ReturnType<typeof setInterval>>();
  readonly #onClose: (() => void)[] = [];

  /** False once close() was called: nothing new should start, and late results are ignored. */
  get live(): boolean {
    return this.#live;
  }

  /** Calls `fn` once after `ms`, unless the scope closes first. Not set when already closed. */
  timeout(fn: () => void, ms: number): ScopedTimer {
    if (!this.#live) return { cancel: () => undefined };
    const t = setTimeout(() => {
      this.#timeouts.delete(t);
      if (this.#live) fn();
    }, ms);
    this.#timeouts.add(t);
    return {
      cancel: () => {
        clearTimeout(t);
        this.#timeouts.delete(t);
      },
    };
  }

  /** Calls `fn` every `ms` until the scope closes. */
  interval(fn: () => void, ms: number): ScopedTimer {
    if (!this.#live) return { cancel: () => undefined };
    const t = setInterval(() => {
      if (this.#live) fn();
    }, ms);
    this.#intervals.add(t);
    return {
      cancel: () => {
        clearInterval(t);
        this.#intervals.delete(t);
      },
    };
  }

  /** Runs `fn` when the scope closes (at once if it is closed already). */
  onClose(fn: () => void): void {
    if (!this.#live) fn();
    else this.#onClose.push(fn);
  }

  /** Ends the scope: clears every timer and runs the close hooks, once. */
  close(): void {
    if (!this.#live) return;
    this.#live = false;
    for (const t of this.#timeouts) clearTimeout(t);
    this.#timeouts.clear();
    for (const t of this.#intervals) clearInterval(t);
    this.#intervals.clear();
    for (const fn of this.#onClose.splice(0)) fn();
  }
}
