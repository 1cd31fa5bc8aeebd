// The typing relay: users publish typing signals on chat.KUBECON.typing.<posts.channel|dms.peer>.<me>
// (the server lets each publish only under its own key, and only this service subscribes); the
// relay, in the queue group natschat-history so one replica takes each, forwards at most one per
// interval per (sender, conversation) to the channel's typers subject or to the DM peer's private
// feed, with its own payload {"ttl":6} (receivers show "… is typing" for ttl seconds). The rest is
// dropped and counted. A sender typing in many conversations at once gets at most
// `perSenderMax` of them through per sweep (a person types in one). Nothing is stored. Memory is
// bounded: an entry lives one interval, and beyond `maxTracked` pairs new ones are dropped until
// the next sweep.
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import {
  type ConvSubject,
  parseTypingSubject,
  TYPING_PREFIX,
  typersSubject,
  userFeedSubject,
} from "@natschat/protocol";
import { HISTORY_QUEUE } from "@natschat/trust";
import type { Logger } from "./log.ts";

/** Seconds a receiver shows a relayed signal. */
export const TYPING_TTL_SECONDS = 6;
/** At most one relayed signal per (sender, conversation) in this many milliseconds. */
export const TYPING_INTERVAL_MS = 2000;

/** Options of the relay. */
export interface TypingRelayOptions {
  intervalMs?: number;
  /** Most (sender, conversation) pairs remembered at once (default 100,000). */
  maxTracked?: number;
  /** Most signals of one sender relayed between two sweeps, over all conversations (default 4). */
  perSenderMax?: number;
  now?: () => number;
  log: Logger;
}

/** Figures of the relay, for $SRV.STATS and tests. */
export interface TypingStats {
  relayed: number;
  /** Signals within an interval of the last relayed one (or beyond maxTracked). */
  dropped: number;
  /** Signals on a subject that is not a typing subject (never relayed). */
  invalid: number;
  /** Pairs remembered now. */
  tracked: number;
}

const PAYLOAD = JSON.stringify({ ttl: TYPING_TTL_SECONDS });

/** Where a signal goes: the channel's typers subject, or the DM peer's feed (never to oneself). */
function destination({ conv, sender }: ConvSubject): string | undefined {
  if (conv.kind === "post") return typersSubject(conv.channel, sender);
  return conv.peer === sender ? undefined : userFeedSubject(conv.peer, { typing: sender });
}

export class TypingRelay {
  readonly #nc: NatsConnection;
  readonly #interval: number;
  readonly #max: number;
  readonly #perSenderMax: number;
  readonly #now: () => number;
  readonly #log: Logger;
  /** Typing subject (sender + conversation) → when its last signal was relayed. */
  readonly #last = new Map<string, number>();
  /** Sender → signals relayed since the last sweep. */
  readonly #perSender = new Map<string, number>();
  #sub: Subscription | undefined;
  #sweep: ReturnType<typeof setInterval> | undefined;
  readonly #stats = { relayed: 0, dropped: 0, invalid: 0 };

  constructor(nc: NatsConnection, opts: TypingRelayOptions) {
    this.#nc = nc;
    this.#interval = opts.intervalMs ?? TYPING_INTERVAL_MS;
    this.#max = opts.maxTracked ?? 100_000;
    this.#perSenderMax = opts.perSenderMax ?? 4;
    this.#now = opts.now ?? Date.now;
    this.#log = opts.log;
  }

  get stats(): TypingStats {
    return { ...this.#stats, tracked: this.#last.size };
  }

  /** Joins the queue group on every typing subject. */
  start(): void {
    this.#sub = this.#nc.subscribe(`${TYPING_PREFIX}.>`, {
      queue: HISTORY_QUEUE,
      callback: (err, msg) => {
        if (err) this.#log.error("typing subscription failed", { err });
        else this.take(msg);
      },
    });
    this.#sweep = setInterval(() => this.sweep(), this.#interval);
    this.#sweep.unref?.();
  }

  /** Relays or drops one signal; never throws. */
  take(msg: Pick<Msg, "subject">): void {
    const parsed = parseTypingSubject(msg.subject);
    const to = parsed && destination(parsed);
    if (!to) {
      this.#stats.invalid++;
      return;
    }
    const now = this.#now();
    const last = this.#last.get(msg.subject);
    const sent = this.#perSender.get(parsed.sender) ?? 0;
    if (
      (last !== undefined && now - last < this.#interval) ||
      (last === undefined && this.#last.size >= this.#max) ||
      sent >= this.#perSenderMax
    ) {
      this.#stats.dropped++;
      return;
    }
    this.#last.set(msg.subject, now);
    this.#perSender.set(parsed.sender, sent + 1);
    try {
      this.#nc.publish(to, PAYLOAD);
      this.#stats.relayed++;
    } catch (err) {
      // only a closed connection throws here; the signal is ephemeral, so it is just lost
      this.#log.debug("typing signal not relayed", { err });
    }
  }

  /** Forgets every pair quiet for an interval. */
  sweep(): void {
    const cutoff = this.#now() - this.#interval;
    for (const [k, t] of this.#last) if (t <= cutoff) this.#last.delete(k);
    this.#perSender.clear();
  }

  /** Leaves the queue group. */
  async stop(): Promise<void> {
    if (this.#sweep) clearInterval(this.#sweep);
    const sub = this.#sub;
    this.#sub = undefined;
    if (sub && !sub.isClosed()) await sub.drain().catch(() => undefined);
  }
}
