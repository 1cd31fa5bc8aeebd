// Inbound messages: the live subscriptions to posts and DMs, verification of every envelope, and
// routing of what passes to the store. Verification runs at once and in parallel; results are
// applied in arrival order, one after the other. (Presence is not here: clients follow the
// directory's presence feed, presence.ts, not each other's heartbeats.)
//
// Protocol v3: the sender's key is the last token of every live subject, and the server lets
// only that key publish there. The verifier drops (as `signer-mismatch`) a message whose signer
// is not that key, and (as `wrong-subject`) one whose type, channel or recipient does not match
// its subject.
//
// A sender's repeat of a message the history writer had not confirmed (RESENT_HEADER) is
// verified apart: seeing it again is not a replay. It hints that a link was down, so it may
// make us read history again, but only when we can check the hint: the repeat verifies, comes
// from a registered user, and belongs to a conversation of ours (and HistoryLoader reads at most
// once per interval, whatever the number of hints).
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import {
  DM_TYPE,
  dmInboxWildcard,
  dmSentWildcard,
  dmSubject,
  EnvelopeVerifier,
  POST_TYPE,
  POSTS_WILDCARD,
  RESENT_HEADER,
  type VerifyResult,
} from "@natschat/protocol";
import { recordOf } from "./conversation.ts";
import { conversationOf } from "./routing.ts";
import type { Scope } from "./scope.ts";
import type { ChatStore } from "./store.ts";

// Live messages older than this are dropped as stale: it stays inside the verifier's replay
// window (300 s) minus its clock skew (30 s), so an old message cannot be replayed live.
const LIVE_MAX_AGE_SECONDS = 240;

/** What the inbound side hands on. */
export interface InboundOptions {
  store: ChatStore;
  scope: Scope;
  now: () => number;
  /** The directory: whether a key resolved, and whether it is a registered, unrevoked user. */
  directory: { isResolved(key: string): boolean; isActiveUser(key: string): boolean };
  /** A checked repeat arrived: a link between its sender and the history writer was down. */
  onResent: () => void;
}

/** The live side of a session: subscriptions, verification, routing. */
export class Inbound {
  readonly #o: InboundOptions;
  readonly #live: EnvelopeVerifier;
  /** Verifies repeats (RESENT_HEADER); its replay and age drops are not counted as drops. */
  readonly #resent: EnvelopeVerifier;
  #chain: Promise<void> = Promise.resolve();
  /** Senders of repeats whose key the directory has not answered for yet. */
  readonly #resentFrom = new Set<string>();

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

  /**
   * Subscribes to posts, DMs to us and DMs we sent from other devices; the subscriptions end
   * with the connection.
   */
  subscribe(nc: NatsConnection): void {
    const me = this.#o.store.me.key;
    const self = dmSubject(me, me);
    nc.subscribe(POSTS_WILDCARD, { callback: (err, m) => this.#onMsg(err, m) });
    nc.subscribe(dmInboxWildcard(me), { callback: (err, m) => this.#onMsg(err, m) });
    nc.subscribe(dmSentWildcard(me), {
      // a DM to ourselves matches both DM subscriptions: take it from the first only
      callback: (err, m) => {
        if (err || m.subject !== self) this.#onMsg(err, m);
      },
    });
  }

  #onMsg(err: Error | null, m: Msg): void {
    const store = this.#o.store;
    if (err) {
      store.setNotice(`subscription failed: ${err.message}`);
      return;
    }
    const resent = m.headers?.has(RESENT_HEADER) === true;
    const verifier = resent ? this.#resent : this.#live;
    const verified = verifier.verify(m.data, { subject: m.subject });
    this.#chain = this.#chain
      .then(async () => this.#apply(await verified, m.subject, resent))
      .catch((e: unknown) => {
        store.setNotice(`could not handle a message: ${e instanceof Error ? e.message : e}`);
      });
  }

  #apply(r: VerifyResult, subject: string, resent: boolean): void {
    if (!this.#o.scope.live) return;
    const store = this.#o.store;
    if (!r.ok) {
      store.changed();
      return;
    }
    const e = r.envelope;
    // our message subscriptions carry posts and DMs only (the verifier checked the subject)
    if (e.type !== POST_TYPE && e.type !== DM_TYPE) {
      store.countDrop("wrong-subject");
      return;
    }
    const id = conversationOf(store.me.key, subject);
    // a channel we did not join; a DM that is neither to us nor from us cannot reach us
    const c =
      id === undefined
        ? undefined
        : (store.find(id) ?? (e.type === DM_TYPE ? store.conversation(id) : undefined));
    if (!c) {
      if (e.type === DM_TYPE) store.countDrop("wrong-subject");
      return;
    }
    store.user(e.iss);
    store.deliver(c, recordOf(e));
    // a repeat means its sender was cut off from the history writer: so may we have been
    if (resent) this.#hint(e.iss);
  }

  /** A repeat from `key` counts once the directory says the key is an active user. */
  #hint(key: string): void {
    const dir = this.#o.directory;
    if (dir.isActiveUser(key)) this.#o.onResent();
    else if (!dir.isResolved(key) && this.#resentFrom.size < 1000) this.#resentFrom.add(key);
  }

  /** The directory answered for `keys`: repeats that waited for it count now. */
  resolved(keys: readonly string[]): void {
    for (const key of keys) {
      if (!this.#resentFrom.delete(key)) continue;
      if (this.#o.directory.isActiveUser(key)) this.#o.onResent();
    }
  }
}
