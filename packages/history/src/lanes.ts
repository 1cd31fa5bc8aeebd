// One lane per sender for the history writers (posts and DMs, message events): a sender's
// messages are handled one after another, in the order they arrived (NATS keeps a publisher's
// order), so the stream stores them — and the states change — in the order they were said;
// different senders run side by side. Bounded twice: in all, and per sender, so one sender
// cannot take every slot. A message beyond a bound is not queued: the caller refuses it
// (UNAVAILABLE) and the sender's outbox retries.
export class SenderLanes {
  readonly #maxInFlight: number;
  readonly #maxPerSender: number;
  readonly #onError: (err: unknown) => void;
  /** Messages in flight per sender; an entry lives only while its sender has some. */
  readonly #perSender = new Map<string, number>();
  /** The last message of each sender in flight: the next one waits for it. */
  readonly #tails = new Map<string, Promise<void>>();
  readonly #inflight = new Set<Promise<void>>();

  /** `onError` gets what a task threw (a task answers every outcome itself: this is a bug). */
  constructor(maxInFlight: number, maxPerSender: number, onError: (err: unknown) => void) {
    this.#maxInFlight = maxInFlight;
    this.#maxPerSender = maxPerSender;
    this.#onError = onError;
  }

  /** Queues `task` behind the sender's earlier ones; false (nothing queued) beyond a bound. */
  run(sender: string, task: () => Promise<void>): boolean {
    const mine = this.#perSender.get(sender) ?? 0;
    if (this.#inflight.size >= this.#maxInFlight || mine >= this.#maxPerSender) return false;
    this.#perSender.set(sender, mine + 1);
    const previous = this.#tails.get(sender) ?? Promise.resolve();
    const next = previous.then(task).catch(this.#onError);
    this.#tails.set(sender, next);
    this.#inflight.add(next);
    void next.finally(() => {
      this.#inflight.delete(next);
      if (this.#tails.get(sender) === next) this.#tails.delete(sender);
      const left = (this.#perSender.get(sender) ?? 1) - 1;
      if (left > 0) this.#perSender.set(sender, left);
      else this.#perSender.delete(sender);
    });
    return true;
  }

  /** Waits for every task in flight. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
  }
}
