// The history service's message events (issue 13): edits, reactions and deletions sent as requests
// on chat.KUBECON.events.<posts.<channel>|dms.<peer>>.<sender> (queue group natschat-history, one
// replica takes each), and an admin's removal on chat.mod.remove (the ADMIN side, an endpoint of
// the micro service). Each is verified (the subject's last token is the key the server let
// publish there, and the signer must be it), its target found by id, the reducer applied to the
// target's state (protocol's applyMessageEvent decides every rule: author-only edit and delete,
// DM participants, reaction limits, tombstones), the result compare-and-set in natschat-state,
// answered (the update, or an error code) and, when it changed, published. A refused event
// publishes nothing, so a rule the writer refuses is never shown to anyone. Nothing a sender
// sends can throw out of here: every outcome is a reply, counted.
import { headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import type { ServiceMsg } from "@nats-io/services";
import {
  applyMessageEvent,
  type BucketRule,
  decodeJwtUnverified,
  EDIT_TYPE,
  ENVELOPE_MAX_BYTES,
  EnvelopeVerifier,
  EVENTS_PREFIX,
  type EventEnvelope,
  encodeUpdate,
  type HistoryErrorCode,
  isEventEnvelope,
  KeyedBuckets,
  type MessageStore,
  type MessageUpdate,
  MODERATE_TYPE,
  MODERATION_SUBJECT,
  type ModerateEnvelope,
  parseEventSubject,
  REACT_TYPE,
  serviceErrorHeaders,
} from "@natschat/protocol";
import { HISTORY_QUEUE } from "@natschat/trust";
import { SenderLanes } from "./lanes.ts";
import type { Logger } from "./log.ts";
import type { QuotaLedger } from "./quota.ts";
import { answerSender } from "./sender-reply.ts";
import { CorruptStateError, type MessageStates, StateContentionError } from "./state.ts";
import { DEDUPE_WINDOW_SECONDS } from "./streams.ts";
import type { MessageTargets } from "./targets.ts";
import { publishUpdate } from "./updates.ts";

/** Options of the event writer. */
export interface EventWriterOptions {
  /** Older iat is refused as STALE, as for posts (default 15 min). */
  staleSeconds?: number;
  /** Events handled at once; above it an event is answered UNAVAILABLE (default 256). */
  maxInFlight?: number;
  /** Events of one sender handled at once (default 32). */
  maxInFlightPerSender?: number;
  /**
   * Events of one sender accepted per replica (default 10 a second, 30 at once): each accepted
   * event costs every subscriber of its channel an update. Beyond it: UNAVAILABLE.
   */
  perSender?: BucketRule;
  now?: () => number;
  log: Logger;
}

/** Figures of the event writer, for $SRV.STATS and tests. */
export interface EventStats {
  /** Events that changed a state (and were published). */
  applied: number;
  /** Events accepted that changed nothing (a reaction already there, a second delete). */
  unchanged: number;
  refused: Partial<Record<HistoryErrorCode, number>>;
  /** Refusals by finer reason (signer-mismatch, bad-signature, stale, …). */
  reasons: Record<string, number>;
  /** Admin removals applied. */
  removals: number;
  /** Replies withheld because the reply subject was not in the sender's own inbox. */
  unanswered: number;
}

type Refusal = { ok: false; code: HistoryErrorCode; message: string };
type Outcome = { ok: true; update: MessageUpdate } | Refusal;

/** When a stored edit token was signed (its `iat`, seconds); 0 for none. */
function signedAt(token: string | undefined): number {
  if (token === undefined) return 0;
  try {
    const iat = decodeJwtUnverified(token).payload.iat;
    return typeof iat === "number" ? iat : 0;
  } catch {
    return 0; // the service stored it after verifying it: unreadable means none to protect
  }
}

/** Takes message events and admin removals, and applies them to the message states. */
export class EventWriter {
  readonly #nc: NatsConnection;
  readonly #targets: MessageTargets;
  readonly #states: MessageStates;
  readonly #quota: QuotaLedger;
  readonly #log: Logger;
  readonly #stale: number;
  readonly #now: () => number;
  readonly #lanes: SenderLanes;
  readonly #rate: KeyedBuckets;
  // An event resent (the sender's retry) applies again to the same effect — reactions and
  // deletions are idempotent, an edit sets the same text — so no jti is remembered: a resend gets
  // its answer instead of a "replay" refusal.
  readonly #verifier = new EnvelopeVerifier({ maxReplayEntries: 0 });
  #sub: Subscription | undefined;
  readonly stats: EventStats = {
    applied: 0,
    unchanged: 0,
    refused: {},
    reasons: {},
    removals: 0,
    unanswered: 0,
  };

  constructor(
    nc: NatsConnection,
    targets: MessageTargets,
    states: MessageStates,
    quota: QuotaLedger,
    opts: EventWriterOptions,
  ) {
    this.#nc = nc;
    this.#targets = targets;
    this.#states = states;
    this.#quota = quota;
    this.#log = opts.log;
    this.#stale = opts.staleSeconds ?? DEDUPE_WINDOW_SECONDS;
    this.#now = opts.now ?? Date.now;
    this.#lanes = new SenderLanes(opts.maxInFlight ?? 256, opts.maxInFlightPerSender ?? 32, (err) =>
      this.#log.error("event writer failed", { err }),
    );
    this.#rate = new KeyedBuckets(opts.perSender ?? { rate: 10, perSeconds: 1, burst: 30 });
  }

  /** Joins the queue group on every event subject. */
  start(): void {
    const subject = `${EVENTS_PREFIX}.>`;
    this.#sub = this.#nc.subscribe(subject, {
      queue: HISTORY_QUEUE,
      callback: (err, msg) => {
        if (err) {
          this.#log.error("event subscription failed", { subject, err });
          return;
        }
        this.#take(msg);
      },
    });
  }

  #take(msg: Msg): void {
    const sender = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
    // before anything is parsed: the sender is the subject's last token, which the server proved
    const wait = this.#rate.take(sender, this.#now());
    if (wait > 0) {
      this.#answer(
        msg,
        this.#refuse(
          "UNAVAILABLE",
          `too many events from this sender; retry in ${Math.ceil(wait / 1000)} s`,
          "rate",
        ),
      );
      return;
    }
    const queued = this.#lanes.run(sender, async () => {
      this.#answer(msg, await this.#outcome(() => this.#event(msg)));
    });
    if (!queued) {
      this.#answer(msg, {
        ok: false,
        code: "UNAVAILABLE",
        message: "the history writer is busy; retry shortly",
      });
    }
  }

  async #outcome(run: () => Promise<Outcome>): Promise<Outcome> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof CorruptStateError) {
        this.#log.error("cannot apply an event", { err });
        return { ok: false, code: "INTERNAL", message: "internal error in the history service" };
      }
      if (!(err instanceof StateContentionError))
        this.#log.warn("applying an event failed", { err });
      return {
        ok: false,
        code: "UNAVAILABLE",
        message: "the message states are not available; retry",
      };
    }
  }

  #refuse(code: HistoryErrorCode, message: string, reason?: string): Refusal {
    if (reason) this.stats.reasons[reason] = (this.stats.reasons[reason] ?? 0) + 1;
    return { ok: false, code, message };
  }

  async #event(msg: Msg): Promise<Outcome> {
    const where = parseEventSubject(msg.subject);
    if (!where) return this.#refuse("BAD_MESSAGE", "not an event subject", "subject");
    const checked = await this.#verified(msg.data, msg.subject);
    if (!checked.ok) return checked;
    const env = checked.envelope;
    if (!isEventEnvelope(env)) return this.#refuse("BAD_MESSAGE", "not a message event", "type");
    const grows = env.type === EDIT_TYPE || (env.type === REACT_TYPE && env.op === "add");
    if (grows && !(await this.#states.roomToGrow(this.#now()))) {
      return this.#refuse(
        "UNAVAILABLE",
        "the message states are nearly full: reactions and edits wait until old ones age out (deletions still work)",
        "state-full",
      );
    }
    if (env.type === EDIT_TYPE) {
      // an edit stores its text: it counts against the sender's daily bytes like a post
      const charge = await this.#quota.charge(where.sender, msg.data.length);
      if (!charge.ok) {
        return this.#refuse(
          "QUOTA",
          `the sender stored ${charge.used} of ${charge.limit} bytes today; it resets at 00:00 UTC`,
          "quota",
        );
      }
    }
    const store: MessageStore = env.conv.kind === "post" ? "posts" : "dms";
    return this.#apply(store, env, msg.data);
  }

  async #verified(
    data: Uint8Array,
    subject: string,
  ): Promise<{ ok: true; envelope: EventEnvelope | ModerateEnvelope } | Refusal> {
    if (data.length > ENVELOPE_MAX_BYTES)
      return this.#refuse("BAD_MESSAGE", `larger than ${ENVELOPE_MAX_BYTES} bytes`, "oversize");
    const v = await this.#verifier.verify(data, { subject });
    if (!v.ok) {
      return this.#refuse("BAD_MESSAGE", `${v.reason}: ${v.detail}`, v.reason);
    }
    const env = v.envelope;
    if (!isEventEnvelope(env) && env.type !== MODERATE_TYPE) {
      return this.#refuse("BAD_MESSAGE", "not a message event", "type");
    }
    const age = this.#now() / 1000 - env.iat;
    if (age > this.#stale) {
      return this.#refuse(
        "STALE",
        `signed ${Math.round(age)} s ago, older than the ${this.#stale} s replay window; sign it again`,
        "stale",
      );
    }
    return { ok: true, envelope: env };
  }

  /** Finds the target, applies the event to its state (compare-and-set) and publishes a change. */
  async #apply(
    store: MessageStore,
    env: EventEnvelope | ModerateEnvelope,
    data: Uint8Array,
  ): Promise<Outcome> {
    const found = await this.#targets.find(store, env.target);
    if (!found) return this.#refuse("NOT_FOUND", "there is no such message", "no-target");
    const token = new TextDecoder().decode(data);
    const now = new Date(this.#now());
    const result = await this.#states.change(store, found.seq, (state) => {
      const r = applyMessageEvent(found.target, state, env, token, now);
      // an older edit arriving late (a client's resend after a newer one) never replaces it
      if (r.ok && r.changed && env.type === EDIT_TYPE && signedAt(state.edit) > env.iat)
        return { ok: true, state, changed: false };
      return r;
    });
    if (!result.ok) return this.#refuse(result.code, result.message, result.code.toLowerCase());
    const update: MessageUpdate = { id: env.target, store, seq: found.seq, state: result.state };
    if (result.changed) {
      this.stats.applied++;
      publishUpdate(this.#nc, found.target, update);
    } else this.stats.unchanged++;
    return { ok: true, update };
  }

  #answer(msg: Msg, outcome: Outcome): void {
    if (!outcome.ok) this.stats.refused[outcome.code] = (this.stats.refused[outcome.code] ?? 0) + 1;
    if (!msg.reply) return;
    const sender = parseEventSubject(msg.subject)?.sender;
    const reply = outcome.ok ? { ok: true as const, body: encodeUpdate(outcome.update) } : outcome;
    if (!answerSender(msg, sender, reply, this.#log)) this.stats.unanswered++;
  }

  /**
   * An admin's removal (chat.mod.remove on the ADMIN connection; only the admin role may publish
   * there): verified, applied as a deletion by "admin", answered, and logged with the signer.
   */
  async moderate(msg: ServiceMsg): Promise<void> {
    const outcome = await this.#outcome(async () => {
      const checked = await this.#verified(msg.data, MODERATION_SUBJECT);
      if (!checked.ok) return checked;
      const env = checked.envelope;
      if (env.type !== MODERATE_TYPE)
        return this.#refuse("BAD_MESSAGE", "not a chat-moderate token", "type");
      const outcome = await this.#apply(env.store, env, msg.data);
      if (outcome.ok) {
        this.stats.removals++;
        this.#log.info("message removed by an admin", {
          admin: env.iss,
          target: env.target,
          store: env.store,
        });
      }
      return outcome;
    });
    if (!outcome.ok) this.stats.refused[outcome.code] = (this.stats.refused[outcome.code] ?? 0) + 1;
    if (!msg.reply) return;
    try {
      if (outcome.ok) msg.respond(encodeUpdate(outcome.update));
      else {
        const h = headers();
        const pairs = serviceErrorHeaders(outcome.code, outcome.message);
        for (const [k, v] of pairs.slice(2)) h.set(k, v);
        const [[, status], [, description]] = pairs as [[string, string], [string, string]];
        msg.respondError(Number(status), description, "", { headers: h });
      }
    } catch (err) {
      this.#log.debug("cannot answer", { err });
    }
  }

  /** Stops taking events and waits for those in flight. */
  async stop(): Promise<void> {
    this.#sub?.unsubscribe();
    await this.#lanes.drain();
  }
}
