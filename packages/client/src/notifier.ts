// Change notification batched per microtask: any number of changes in one synchronous run
// reach the listeners once, after it. A model bumps `version` on every change, so a view cache
// or a snapshot keyed by it knows when to rebuild. No NATS code: any model can use it.

/** Listeners of a model, called once per microtask after one or more changes. */
export class ChangeNotifier {
  readonly #listeners = new Set<() => void>();
  #queued = false;
  /** Bumped on every change. */
  version = 0;

  /** Calls `cb` after changes; returns the unsubscribe function. */
  subscribe(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => {
      this.#listeners.delete(cb);
    };
  }

  /** Records a change; the listeners run once at the end of the current microtask. */
  changed(): void {
    this.version++;
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      for (const cb of [...this.#listeners]) cb();
    });
  }
}
