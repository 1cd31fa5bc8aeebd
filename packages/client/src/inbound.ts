// Inbound messages: the live subscriptions, verification of every envelope, and routing of
// what passes to the store (posts, DMs) or to presence. Verification runs at once and in
// parallel; results are applied in arrival order, one after the other.
//
// A sender's repeat of a message its history stream had not confirmed (RESENT_HEADER) is
// verified apart: seeing it again is not a replay, and it hints that a link was down.
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import {
  DM_TYPE,
  DMS_PREFIX,
  type DmEnvelope,
  dmSubject,
  EnvelopeVerifier,
  ONLINE_SUBJECT,
  POST_TYPE,
  POSTS_PREFIX,
  type PostEnvelope,
  PRESENCE_TYPE,
  type PresenceEnvelope,
  RESENT_HEADER,
  type VerifyResult,
} from "@natschat/protocol";
import { recordOf } from "./conversation.ts";
import type { IdentityCache, LearnResult } from "./identity.ts";
import type { Scope } from "./scope.ts";
import type { ChatStore } from "./store.ts";
import { channelId, dmId } from "./target.ts";

// Live messages older than this are dropped as stale: it stays inside the verifier's replay
// window (300 s) minus its clock skew (30 s), so an old message cannot be replayed live.
const LIVE_MAX_AGE_SECONDS = 240;

/** What the inbound side hands on. */
export interface InboundOptions {
  store: ChatStore;
  scope: Scope;
  identities: IdentityCache;
  now: () => number;
  /** A verified presence (and what its user JWT taught the identity cache). */
  onPresence: (e: PresenceEnvelope, learned: LearnResult | undefined) => void;
  /** A verified repeat arrived: a link between its sender and the history stream was down. */
  onResent: () => void;
}

/**
 * The peer of a DM that arrived on `subject` (our own DM subject): the sender of one to us, or
 * the recipient of our own copy. Undefined for a DM that has no business on that subject.
 */
export function dmPeer(me: string, e: DmEnvelope, subject: string): string | undefined {
  if (subject !== `${DMS_PREFIX}.${me}` || (e.to !== me && e.iss !== me)) return undefined;
  return e.iss === me ? e.to : e.iss;
}

/** The live side of a session: subscriptions, verification, routing. */
export class Inbound {
  readonly #o: InboundOptions;
  readonly #live: EnvelopeVerifier;
  /** Verifies repeats (RESENT_HEADER); its replay and age drops are not counted as drops. */
  readonly #resent: EnvelopeVerifier;
  #chain: Promise<void> = Promise.resolve();

  constructor(opts: InboundOptions) {
    this.#o = opts;
    const now = opts.now;
    this.#live = new EnvelopeVerifier({ now, maxAgeSeconds: LIVE_MAX_AGE_SECONDS });
    this.#resent = new EnvelopeVerifier({ now, maxAgeSeconds: LIVE_MAX_AGE_SECONDS });
    opts.store.addDropSource(() => this.#live.drops);
    // a repeat we have already seen, or one too old to show live, is not a drop: it is in
    // history (that is why it was repeated)
    opts.store.addDropSource(() => {
      const out: Record<string, number> = {};
      for (const [k, n] of Object.entries(this.#resent.drops)) {
        if (k !== "replay" && k !== "expired") out[k] = n;
      }
      return out;
    });
  }

  /** Subscribes to presence, posts and our DMs; the subscriptions end with the connection. */
  subscribe(nc: NatsConnection): void {
    const me = this.#o.store.me.key;
    nc.subscribe(ONLINE_SUBJECT, { callback: (err, m) => this.#onMsg(err, m, "presence") });
    nc.subscribe(`${POSTS_PREFIX}.*`, { callback: (err, m) => this.#onMsg(err, m, "post") });
    nc.subscribe(dmSubject(me), { callback: (err, m) => this.#onMsg(err, m, "dm") });
  }

  #onMsg(err: Error | null, m: Msg, kind: "presence" | "post" | "dm"): void {
    const store = this.#o.store;
    if (err) {
      store.setNotice(`subscription failed: ${err.message}`);
      return;
    }
    const subject = kind === "dm" ? undefined : m.subject;
    const resent = kind !== "presence" && m.headers?.has(RESENT_HEADER) === true;
    const verifier = resent ? this.#resent : this.#live;
    const verified = verifier.verify(m.data, subject === undefined ? {} : { subject });
    // a repeat means its sender was cut off from the history stream: so may we have been
    if (resent) void verified.then((r) => r.ok && this.#o.onResent());
    const identity = verified.then((r) =>
      r.ok && r.envelope.type === PRESENCE_TYPE && r.envelope.userJwt
        ? this.#o.identities.learn(r.envelope.iss, r.envelope.userJwt)
        : undefined,
    );
    this.#chain = this.#chain
      .then(async () => this.#apply(await verified, await identity, m.subject))
      .catch((e: unknown) => {
        store.setNotice(`could not handle a message: ${e instanceof Error ? e.message : e}`);
      });
  }

  #apply(r: VerifyResult, learned: LearnResult | undefined, subject: string): void {
    if (!this.#o.scope.live) return;
    if (!r.ok) {
      this.#o.store.changed();
      return;
    }
    const e = r.envelope;
    switch (e.type) {
      case PRESENCE_TYPE:
        this.#o.onPresence(e, learned);
        return;
      case POST_TYPE:
        this.#onPost(e);
        return;
      case DM_TYPE:
        this.#onDm(e, subject);
        return;
    }
  }

  #onPost(e: PostEnvelope): void {
    const store = this.#o.store;
    const c = store.find(channelId(e.channel));
    if (!c) return; // a channel we did not join
    store.user(e.iss);
    store.deliver(c, recordOf(e));
  }

  #onDm(e: DmEnvelope, subject: string): void {
    const store = this.#o.store;
    const peer = dmPeer(store.me.key, e, subject);
    if (peer === undefined) {
      store.countDrop("wrong-subject");
      return;
    }
    store.user(e.iss);
    store.deliver(store.conversation(dmId(peer)), recordOf(e));
  }
}
