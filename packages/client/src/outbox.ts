// Store-and-forward for sent posts and DMs. A message is sent once, as a core NATS request on
// its live subject: every subscriber gets it live at once, and the history writer (a queue
// group of the history service) stores it and answers with the stream's PubAck. When no ack
// comes (the writer's region is cut off, the stream is electing a leader), the message waits
// here and is sent again, with backoff, until it is stored: the sender's history never silently
// misses what was said live. A refusal for good (quota spent, too old, a bad message) is not
// retried: the message is given up and the session says so.
//
// Every attempt carries the same Nats-Msg-Id (the jti), so the writer stores one copy even when
// an ack was lost. Repeats carry RESENT_HEADER, so receivers that already show the message skip
// it without counting a replay (see inbound.ts).
import { errors, headers, type NatsConnection } from "@nats-io/nats-core";
import { MSG_ID_HEADER, parseStoreReply, RESENT_HEADER, type StoreAck } from "@natschat/protocol";
import { ChatError } from "./errors.ts";

/** One message to be stored: where it goes, the signed token and its message id (its jti). */
export interface OutboxEntry {
  subject: string;
  token: string;
  msgId: string;
  /** Called with the stream sequence once the writer stored it. */
  onStored?: (seq: number) => void;
}

/** Sends one entry and resolves once it is stored; `resent` marks a repeat. Throws
 * ChatError CHAT_STORE_REFUSED for a refusal that a repeat would not change. */
export type StoreFn = (entry: OutboxEntry, resent: boolean) => Promise<StoreAck | undefined>;

/** Options of Outbox. */
export interface OutboxOptions {
  store: StoreFn;
  /** Called when the number of unconfirmed messages changes. */
  onPending: (pending: number) => void;
  /** Called when the writer refused a message for good (it is not retried). */
  onRefused?: (entry: OutboxEntry, err: ChatError) => void;
  /** First wait before a repeat, ms (default 1000); doubles up to maxRetryMs. */
  retryMs?: number;
  /** Longest wait between repeats, ms (default 15000). */
  maxRetryMs?: number;
  /** Most messages kept waiting; beyond it the oldest is given up (default 1000). */
  maxPending?: number;
}

/** How long a send waits for the history writer to confirm it stored the message. */
export const STORE_TIMEOUT_MS = 5000;

/** Writer codes that a repeat cannot change: the message is given up. */
const REFUSED_FOR_GOOD = new Set(["BAD_MESSAGE", "STALE", "QUOTA", "BAD_REQUEST", "NO_IDENTITY"]);

/** Whether `err` is the writer refusing a message for good. */
export function isRefusal(err: unknown): err is ChatError {
  return err instanceof ChatError && err.code === "CHAT_STORE_REFUSED";
}

/**
 * The StoreFn of the chat: one request on `nc()` (the connection of the moment) with the
 * entry's Nats-Msg-Id, and RESENT_HEADER on a repeat; it rejects when no ack comes.
 */
export function requestStore(nc: () => NatsConnection | undefined): StoreFn {
  return async (entry, resent) => {
    const conn = nc();
    if (!conn || conn.isClosed()) throw new errors.ClosedConnectionError();
    const h = headers();
    h.set(MSG_ID_HEADER, entry.msgId);
    if (resent) h.set(RESENT_HEADER, "1");
    const m = await conn.request(entry.subject, entry.token, {
      timeout: STORE_TIMEOUT_MS,
      headers: h,
    });
    const r = parseStoreReply({ data: m.data, header: (k) => m.headers?.get(k) || undefined });
    if (r.ok) return r.value;
    const code = REFUSED_FOR_GOOD.has(r.code) ? "CHAT_STORE_REFUSED" : "CHAT_HISTORY_FAILED";
    throw new ChatError(code, `the history service did not store a message: ${r.message}`, {
      serviceCode: r.code,
    });
  };
}

function stored(entry: OutboxEntry, ack: StoreAck | undefined): void {
  if (ack) entry.onStored?.(ack.seq);
}

/** Sent messages until the history stream has confirmed each one. */
export class Outbox {
  readonly #opts: Required<OutboxOptions>;
  readonly #waiting: OutboxEntry[] = [];
  /** Sends on their first try, not answered yet. */
  #firstTries = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay: number;
  #flushing = false;
  #stopped = false;
  /** Messages given up because too many were waiting. */
  givenUp = 0;

  constructor(opts: OutboxOptions) {
    this.#opts = {
      retryMs: 1000,
      maxRetryMs: 15_000,
      maxPending: 1000,
      onRefused: () => undefined,
      ...opts,
    };
    this.#delay = this.#opts.retryMs;
  }

  /** Messages whose first try failed and that wait to be sent again. */
  get pending(): number {
    return this.#waiting.length;
  }

  /** Every message not acknowledged yet: first tries in flight, and those waiting. */
  get unacked(): number {
    return this.#firstTries + this.#waiting.length;
  }

  /**
   * Publishes `entry` at once (live delivery never waits for older messages); if the stream does
   * not confirm it, keeps it and tries again later. A message that had to wait is stored after
   * the ones sent after it that were stored at once: history shows it there, with its own time.
   */
  async send(entry: OutboxEntry): Promise<void> {
    this.#firstTries++;
    try {
      stored(entry, await this.#opts.store(entry, false));
    } catch (err) {
      if (isRefusal(err)) this.#opts.onRefused?.(entry, err);
      else this.#enqueue(entry);
    } finally {
      this.#firstTries--;
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

  /** Removes a stored (or refused) entry; a repeat may have been given up meanwhile. */
  #remove(entry: OutboxEntry): void {
    const at = this.#waiting.indexOf(entry);
    if (at >= 0) this.#waiting.splice(at, 1);
    this.#opts.onPending(this.#waiting.length);
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
          stored(entry, await this.#opts.store(entry, true));
        } catch (err) {
          if (isRefusal(err)) {
            this.#remove(entry);
            this.#opts.onRefused?.(entry, err);
            continue;
          }
          this.#delay = Math.min(this.#delay * 2, this.#opts.maxRetryMs);
          this.#schedule(this.#delay);
          return;
        }
        this.#remove(entry);
      }
      this.#delay = this.#opts.retryMs;
    } finally {
      this.#flushing = false;
    }
  }
}
