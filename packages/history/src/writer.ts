// The history writer: takes every live post and DM in the queue group natschat-history (one
// replica gets each), checks it, charges its sender's daily quota, and stores it under
// chat.store.… with Nats-Msg-Id `<senderKey>.<jti>`, then answers the sender with the PubAck.
// A client's post is a core request, so every subscriber sees it live at once and the ack comes
// from here. Every check is the server side's: the subject's last token is the key the server
// let publish there (user permissions), the signature must be that key's, a message is stored
// once within the dedupe window and refused as STALE after it, and a sender's bytes per day are
// bounded. A reply (a post or DM with `re`) is checked and threaded by replies.ts. Nothing a
// sender publishes can throw out of here: every outcome is a reply, counted.
import type { JetStreamClient } from "@nats-io/jetstream";
import { JetStreamApiError } from "@nats-io/jetstream";
import { headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import {
  DM_TYPE,
  DMS_PREFIX,
  ENVELOPE_MAX_BYTES,
  EnvelopeVerifier,
  encodeStoreAck,
  type HistoryErrorCode,
  MSG_ID_HEADER,
  POST_TYPE,
  POSTS_PREFIX,
  parseChatSubject,
  type StoreAck,
  storedSubject,
  THREAD_HEADER,
} from "@natschat/protocol";
import { HISTORY_QUEUE } from "@natschat/trust";
import { SenderLanes } from "./lanes.ts";
import type { Logger } from "./log.ts";
import type { QuotaLedger } from "./quota.ts";
import type { ReplyThreads } from "./replies.ts";
import { answerSender } from "./sender-reply.ts";
import { DEDUPE_WINDOW_SECONDS } from "./streams.ts";

/** Options of the writer. */
export interface WriterOptions {
  /** Older iat is refused as STALE; equals the streams' duplicate window (default 15 min). */
  staleSeconds?: number;
  /** Messages handled at once; above it a message is answered UNAVAILABLE (default 256). */
  maxInFlight?: number;
  /** Messages of one sender handled at once, so one sender cannot take every slot (default 32). */
  maxInFlightPerSender?: number;
  /** Recent acks remembered per replica, so a resend is not charged twice (default 10,000). */
  rememberAcks?: number;
  /** Checks replies before they are stored and counts them after. */
  replies: ReplyThreads;
  now?: () => number;
  log: Logger;
}

/** Figures of the writer, for $SRV.STATS and tests. */
export interface WriterStats {
  stored: number;
  duplicates: number;
  refused: Partial<Record<HistoryErrorCode, number>>;
  /** Refusals by the verifier's finer reason (signer-mismatch, bad-signature, …). */
  reasons: Record<string, number>;
  /** Replies withheld because the reply subject was not in the sender's own inbox. */
  unanswered: number;
}

type Outcome = { ok: true; ack: StoreAck } | { ok: false; code: HistoryErrorCode; message: string };

/** The JetStream API error codes of a store that refused a message for its limits. */
const STORE_LIMIT_CODES = new Set([
  10077, // store failed: maximum bytes/messages exceeded (discard new)
  10054, // message size exceeds maximum allowed
  10047, // insufficient resources
]);

export class HistoryWriter {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #quota: QuotaLedger;
  readonly #log: Logger;
  readonly #stale: number;
  readonly #lanes: SenderLanes;
  readonly #replies: ReplyThreads;
  readonly #remember: number;
  readonly #now: () => number;
  // The streams de-duplicate by Nats-Msg-Id; the verifier must not drop a resend as a replay
  // (it gets the duplicate ack), so it remembers no jti at all.
  readonly #verifier = new EnvelopeVerifier({ maxReplayEntries: 0 });
  readonly #acks = new Map<string, StoreAck>();
  readonly #subs: Subscription[] = [];
  readonly stats: WriterStats = {
    stored: 0,
    duplicates: 0,
    refused: {},
    reasons: {},
    unanswered: 0,
  };

  constructor(nc: NatsConnection, js: JetStreamClient, quota: QuotaLedger, opts: WriterOptions) {
    this.#nc = nc;
    this.#js = js;
    this.#quota = quota;
    this.#log = opts.log;
    this.#stale = opts.staleSeconds ?? DEDUPE_WINDOW_SECONDS;
    this.#lanes = new SenderLanes(opts.maxInFlight ?? 256, opts.maxInFlightPerSender ?? 32, (err) =>
      // handle() answers every outcome itself; reaching here is a bug, never the sender's input
      this.#log.error("writer failed", { err }),
    );
    this.#replies = opts.replies;
    this.#remember = opts.rememberAcks ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Joins the queue group on the live post and DM subjects. */
  start(): void {
    for (const subject of [`${POSTS_PREFIX}.*.*`, `${DMS_PREFIX}.*.*`]) {
      this.#subs.push(
        this.#nc.subscribe(subject, {
          queue: HISTORY_QUEUE,
          callback: (err, msg) => {
            if (err) {
              this.#log.error("writer subscription failed", { subject, err });
              return;
            }
            this.#take(msg);
          },
        }),
      );
    }
  }

  #take(msg: Msg): void {
    // the sender is the subject's last token (the server let only that key publish there)
    const sender = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
    if (!this.#lanes.run(sender, () => this.handle(msg))) {
      this.#answer(msg, {
        ok: false,
        code: "UNAVAILABLE",
        message: "the history writer is busy; retry shortly",
      });
    }
  }

  /** Checks, charges, stores and answers one live message. */
  async handle(msg: Msg): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.#store(msg);
    } catch (err) {
      this.#log.warn("storing failed", { err });
      outcome = {
        ok: false,
        code: "UNAVAILABLE",
        message: "the history store is not available; retry",
      };
    }
    this.#answer(msg, outcome);
  }

  async #store(msg: Msg): Promise<Outcome> {
    const refuse = (code: HistoryErrorCode, message: string, reason?: string): Outcome => {
      if (reason) this.stats.reasons[reason] = (this.stats.reasons[reason] ?? 0) + 1;
      return { ok: false, code, message };
    };
    const subject = parseChatSubject(msg.subject);
    if (!subject || subject.kind === "presence")
      return refuse("BAD_MESSAGE", "not a post or DM subject", "subject");
    if (msg.data.length > ENVELOPE_MAX_BYTES)
      return refuse("BAD_MESSAGE", `larger than ${ENVELOPE_MAX_BYTES} bytes`, "oversize");
    const verified = await this.#verifier.verify(msg.data, { subject: msg.subject });
    if (!verified.ok)
      return refuse("BAD_MESSAGE", `${verified.reason}: ${verified.detail}`, verified.reason);
    const env = verified.envelope;
    const age = this.#now() / 1000 - env.iat;
    if (age > this.#stale) {
      return refuse(
        "STALE",
        `signed ${Math.round(age)} s ago, older than the ${this.#stale} s replay window; sign it again`,
        "stale",
      );
    }
    const msgId = `${subject.sender}.${env.jti}`;
    const known = this.#acks.get(msgId);
    if (known) return { ok: true, ack: { ...known, duplicate: true } };
    const re = env.type === POST_TYPE || env.type === DM_TYPE ? env.re : undefined;
    let root: string | undefined;
    if (re !== undefined) {
      root = await this.#replies.rootOf(subject, re);
      if (root === undefined) {
        return refuse(
          "NOT_FOUND",
          "the message it replies to is not stored in this conversation; send it without the reply",
          "reply-target",
        );
      }
    }
    const charge = await this.#quota.charge(subject.sender, msg.data.length);
    if (!charge.ok) {
      return refuse(
        "QUOTA",
        `the sender stored ${charge.used} of ${charge.limit} bytes today; it resets at 00:00 UTC`,
        "quota",
      );
    }
    let ack: StoreAck;
    try {
      const h = headers();
      h.set(MSG_ID_HEADER, msgId);
      if (root !== undefined) h.set(THREAD_HEADER, root);
      const pa = await this.#js.publish(storedSubject(subject), msg.data, {
        headers: h,
        timeout: 5000,
      });
      ack = { stream: pa.stream, seq: pa.seq, ...(pa.duplicate ? { duplicate: true } : {}) };
    } catch (err) {
      if (err instanceof JetStreamApiError && STORE_LIMIT_CODES.has(err.code)) {
        return refuse("STORE_FULL", `the store refused it: ${err.message}`, "store-full");
      }
      throw err;
    }
    this.#rememberAck(msgId, ack);
    if (root !== undefined && !ack.duplicate) await this.#replies.count(subject, root, msgId);
    return { ok: true, ack };
  }

  #rememberAck(msgId: string, ack: StoreAck): void {
    this.#acks.set(msgId, { stream: ack.stream, seq: ack.seq });
    // insertion order is age order: drop the oldest beyond the bound
    while (this.#acks.size > this.#remember) {
      const oldest = this.#acks.keys().next().value;
      if (oldest === undefined) break;
      this.#acks.delete(oldest);
    }
  }

  #answer(msg: Msg, outcome: Outcome): void {
    if (outcome.ok) {
      if (outcome.ack.duplicate) this.stats.duplicates++;
      else this.stats.stored++;
    } else this.stats.refused[outcome.code] = (this.stats.refused[outcome.code] ?? 0) + 1;
    if (!msg.reply) return;
    const sender = parseChatSubject(msg.subject)?.sender;
    const reply = outcome.ok ? { ok: true as const, body: encodeStoreAck(outcome.ack) } : outcome;
    if (!answerSender(msg, sender, reply, this.#log)) this.stats.unanswered++;
  }

  /** Stops taking messages and waits for those in flight. */
  async stop(): Promise<void> {
    for (const s of this.#subs) s.unsubscribe();
    await this.#lanes.drain();
  }
}
