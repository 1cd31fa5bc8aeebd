// Store-and-forward for sent posts and DMs. A message is published once, as a JetStream publish:
// live subscribers get it at once, and the history stream confirms that it stored it. When the
// stream does not confirm (its region is cut off, its leader is being elected, no responders),
// the message waits here and is published again, with backoff, until the stream confirms it:
// the sender's history never silently misses what was said live.
//
// Every attempt carries the same Nats-Msg-Id, so the stream keeps one copy even when a
// confirmation was lost. Repeats carry RESENT_HEADER, so receivers that already show the message
// skip them without counting a replay (see ChatSession).
import { jetstream } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { RESENT_HEADER } from "@natschat/protocol";

/** One message to be stored: where it goes, the signed token and its JetStream message id. */
export interface OutboxEntry {
  subject: string;
  token: string;
  msgId: string;
}

/** Publishes one entry and resolves once the stream confirmed it; `resent` marks a repeat. */
export type StoreFn = (entry: OutboxEntry, resent: boolean) => Promise<void>;

/** Options of Outbox. */
export interface OutboxOptions {
  store: StoreFn;
  /** Called when the number of unconfirmed messages changes. */
  onPending: (pending: number) => void;
  /** First wait before a repeat, ms (default 1000); doubles up to maxRetryMs. */
  retryMs?: number;
  /** Longest wait between repeats, ms (default 15000). */
  maxRetryMs?: number;
  /** Most messages kept waiting; beyond it the oldest is given up (default 1000). */
  maxPending?: number;
}

/** How long a publish waits for the history stream to confirm it stored the message. */
export const STORE_TIMEOUT_MS = 5000;

/**
 * The StoreFn of the chat: one JetStream publish on `nc()` (the connection of the moment) with
 * the entry's Nats-Msg-Id, and RESENT_HEADER on a repeat; it rejects when no stream confirms.
 */
export function jetStreamStore(nc: () => NatsConnection | undefined): StoreFn {
  return async (entry, resent) => {
    const conn = nc();
    if (!conn || conn.isClosed()) throw new Error("the connection is closed");
    const h = headers();
    if (resent) h.set(RESENT_HEADER, "1");
    await jetstream(conn).publish(entry.subject, entry.token, {
      msgID: entry.msgId,
      timeout: STORE_TIMEOUT_MS,
      headers: h,
    });
  };
}

/** The Nats-Msg-Id of a message on a subject: a DM and our own copy of it are two messages. */
export function storeMsgId(jti: string, subject: string): string {
  return `${jti}@${subject}`;
}

/** Sent messages until the history stream has confirmed each one. */
export class Outbox {
  readonly #opts: Required<OutboxOptions>;
  readonly #waiting: OutboxEntry[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay: number;
  #flushing = false;
  #stopped = false;
  /** Messages given up because too many were waiting. */
  givenUp = 0;

  constructor(opts: OutboxOptions) {
    this.#opts = { retryMs: 1000, maxRetryMs: 15_000, maxPending: 1000, ...opts };
    this.#delay = this.#opts.retryMs;
  }

  /** Messages sent live that the stream has not confirmed yet. */
  get pending(): number {
    return this.#waiting.length;
  }

  /**
   * Publishes `entry` at once (live delivery never waits for older messages); if the stream does
   * not confirm it, keeps it and tries again later. A message that had to wait is stored after
   * the ones sent after it that were stored at once: history shows it there, with its own time.
   */
  async send(entry: OutboxEntry): Promise<void> {
    try {
      await this.#opts.store(entry, false);
    } catch {
      this.#enqueue(entry);
    }
  }

  /** Tries the waiting messages now (after a reconnect, say). */
  retryNow(): void {
    if (this.#stopped || this.#waiting.length === 0) return;
    this.#delay = this.#opts.retryMs;
    this.#schedule(0);
  }

  /** Stops retrying; what still waits stays unconfirmed. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #enqueue(entry: OutboxEntry): void {
    if (this.#stopped) return;
    this.#waiting.push(entry);
    while (this.#waiting.length > this.#opts.maxPending) {
      this.#waiting.shift();
      this.givenUp++;
    }
    this.#opts.onPending(this.#waiting.length);
    if (!this.#timer && !this.#flushing) this.#schedule(this.#delay);
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, ms);
  }

  /** Repeats the waiting messages in order; stops at the first one still unconfirmed. */
  async #flush(): Promise<void> {
    if (this.#flushing || this.#stopped) return;
    this.#flushing = true;
    try {
      while (this.#waiting.length > 0 && !this.#stopped) {
        const entry = this.#waiting[0] as OutboxEntry;
        try {
          await this.#opts.store(entry, true);
        } catch {
          this.#delay = Math.min(this.#delay * 2, this.#opts.maxRetryMs);
          this.#schedule(this.#delay);
          return;
        }
        // a repeat may have been given up meanwhile: remove this entry, not blindly the first
        const at = this.#waiting.indexOf(entry);
        if (at >= 0) this.#waiting.splice(at, 1);
        this.#opts.onPending(this.#waiting.length);
      }
      this.#delay = this.#opts.retryMs;
    } finally {
      this.#flushing = false;
    }
  }
}
