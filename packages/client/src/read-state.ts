// Read state across devices: where we have read each conversation (a stream sequence) and which
// conversations are muted, kept by the history service for our key only (chat.svc.history.readstate:
// `get`, `read` forward only, `mute`) and published on our private feed (`.read`) after every
// change, so all our sessions agree. We load it at start and after a reconnect, follow the feed,
// and move the position when the conversation on screen is read further (select(), a new message
// while it is on screen), debounced per conversation. Live messages carry no stream sequence: the
// position to store, or one another device stored past every sequence we hold, is matched to our
// messages by a look at the conversation's latest history page (their ids).
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import {
  decodeJwtUnverified,
  encodeReadStateRequest,
  HISTORY_READSTATE_SUBJECT,
  messageId,
  parseChatSubject,
  parseReadState,
  parseReadStateReply,
  type ReadState,
  type ReadStateRequest,
  userFeedSubject,
} from "@natschat/protocol";
import type { Conversation } from "./conversation.ts";
import type { HistoryFetch } from "./history.ts";
import type { Scope, ScopedTimer } from "./scope.ts";
import { requestService } from "./service-request.ts";
import type { ChatStore } from "./store.ts";

/** Wait after reading further before the position is stored (one request per burst). */
export const READ_DEBOUNCE_MS = 300;
/** Most messages of a conversation looked at to learn the sequences of live messages. */
const SEQ_LOOKUP_LIMIT = 50;
/**
 * Least time between two such looks at one conversation: a busy channel on screen costs its
 * reader at most one small history read per second (the service's position takes sequences).
 */
export const SEQ_LOOKUP_INTERVAL_MS = 1000;

/** Options of ReadPositions. */
export interface ReadStateOptions {
  store: ChatStore;
  scope: Scope;
  nc: () => NatsConnection | undefined;
  /** One page of history (to learn the sequences of live messages). */
  fetch: HistoryFetch;
  debounceMs?: number;
  now: () => number;
}

/** Our read positions and mutes, shared with our other sessions through the service. */
export class ReadPositions {
  readonly #o: ReadStateOptions;
  readonly #pending = new Map<string, ScopedTimer>();
  /** conversation id → when its sequences were last looked up (ms). */
  readonly #lookedUp = new Map<string, number>();
  /** conversation id → a lookup waiting for SEQ_LOOKUP_INTERVAL_MS to pass. */
  readonly #lookupTimers = new Map<string, ScopedTimer>();
  #loadedOnce = false;
  /** The latest read state the service gave. */
  #doc: ReadState | undefined;

  constructor(opts: ReadStateOptions) {
    this.#o = opts;
  }

  /** Follows our read state on our private feed. */
  subscribe(nc: NatsConnection): void {
    nc.subscribe(userFeedSubject(this.#o.store.me.key, "read"), {
      callback: (err, m) => this.#onFeed(err, m),
    });
  }

  /**
   * Loads the read state (at start, after a reconnect). Without an answer (an older service, or
   * none) this device's own reading counts, as before read state was kept; never throws.
   */
  async load(): Promise<boolean> {
    try {
      const doc = await this.#request({ op: "get" }, "the read state could not be loaded");
      this.apply(doc, !this.#loadedOnce);
      this.#loadedOnce = true;
      return true;
    } catch (err) {
      if (this.#o.scope.live && this.#loadedOnce) {
        this.#o.store.setNotice(err instanceof Error ? err.message : String(err));
      }
      return false;
    }
  }

  /** Mutes or unmutes a conversation for all our sessions; rejects with ChatError if refused. */
  async mute(conversationId: string, on: boolean): Promise<void> {
    const doc = await this.#request(
      { op: "mute", conv: conversationId, muted: on },
      `${conversationId} could not be ${on ? "muted" : "unmuted"}`,
    );
    this.apply(doc, false);
  }

  /**
   * Takes a read state from the service: positions (forward only), unread counts and mutes.
   * `first`: the first one of the session, which replaces this device's own reading.
   */
  apply(doc: ReadState, first: boolean): void {
    const { store } = this.#o;
    this.#doc = doc;
    for (const c of [...store.conversations("channel"), ...store.conversations("dm")]) {
      this.#adopt(c, doc, first);
    }
    store.setReadStateKnown();
    if (first) store.select(store.selected);
    store.changed();
  }

  /** A conversation made after the read state came (a new DM peer) takes its position. */
  adopt(c: Conversation): void {
    if (this.#doc) this.#adopt(c, this.#doc, true);
  }

  #adopt(c: Conversation, doc: ReadState, first: boolean): void {
    const unread = doc.unread[c.id];
    c.setReadSeq(doc.read[c.id] ?? 0, {
      ...(first ? { resetHere: true } : {}),
      ...(unread === undefined ? {} : { unread, me: this.#o.store.me.key }),
    });
    c.setMuted(doc.muted.includes(c.id));
    if (c.readBeyondKnown()) {
      this.#learnSeqsSoon(c);
    }
  }

  /** The conversation on screen was read further: store the new position soon. */
  moved(c: Conversation, delayMs = this.#o.debounceMs ?? READ_DEBOUNCE_MS): void {
    if (!this.#o.store.readStateKnown) return;
    this.#pending.get(c.id)?.cancel();
    this.#pending.set(
      c.id,
      this.#o.scope.timeout(() => {
        this.#pending.delete(c.id);
        void this.#store(c);
      }, delayMs),
    );
  }

  async #store(c: Conversation): Promise<void> {
    try {
      if (c.readNeedsSeq()) {
        const wait =
          (this.#lookedUp.get(c.id) ?? -Infinity) + SEQ_LOOKUP_INTERVAL_MS - this.#o.now();
        if (wait > 0) {
          this.moved(c, wait);
          return;
        }
        await this.#learnSeqs(c);
      }
      const seq = c.readSeqHere();
      if (seq === undefined || seq <= c.readSeq) return;
      const doc = await this.#request(
        { op: "read", conv: c.id, seq },
        `the read position of ${c.id} could not be saved`,
      );
      this.apply(doc, false);
    } catch (err) {
      if (this.#o.scope.live) {
        this.#o.store.setNotice(err instanceof Error ? err.message : String(err));
      }
    }
  }

  /** Matches the conversation's latest stored messages to ours, by id, to learn their sequences. */
  /** Looks the sequences up now, or once the last look is SEQ_LOOKUP_INTERVAL_MS old. */
  #learnSeqsSoon(c: Conversation): void {
    if (this.#lookupTimers.has(c.id)) return;
    const wait = (this.#lookedUp.get(c.id) ?? -Infinity) + SEQ_LOOKUP_INTERVAL_MS - this.#o.now();
    const run = () => {
      this.#lookupTimers.delete(c.id);
      if (!c.readBeyondKnown()) return;
      this.#learnSeqs(c).catch((err: unknown) => {
        // unread counts stay as they are until the next read state; say why
        this.#o.store.setNotice(
          `unread counts may be off: ${err instanceof Error ? err.message : err}`,
        );
      });
    };
    if (wait <= 0) run();
    else this.#lookupTimers.set(c.id, this.#o.scope.timeout(run, wait));
  }

  async #learnSeqs(c: Conversation): Promise<void> {
    this.#lookedUp.set(c.id, this.#o.now());
    const q = c.kind === "channel" ? { channel: c.target } : { dms: true as const, peer: c.target };
    const unknown = c.messages.length - c.messages.findLastIndex((m) => m.seq !== undefined);
    const page = await this.#o.fetch(q, { limit: Math.min(SEQ_LOOKUP_LIMIT, unknown + 1) });
    for (const s of page.messages) {
      const sender = parseChatSubject(s.subject)?.sender;
      if (sender === undefined || s.token === undefined) continue;
      let jti: unknown;
      try {
        jti = decodeJwtUnverified(s.token).payload.jti;
      } catch {
        continue; // not a token: it would not have passed the history read either
      }
      if (typeof jti === "string") c.setSeq(messageId(sender, jti), s.seq);
    }
    this.#o.store.changed();
  }

  #onFeed(err: Error | null, m: Msg): void {
    if (err || !this.#o.scope.live) return;
    const doc = parseReadState(m.data);
    if (!doc) {
      this.#o.store.countDrop("bad-read-state");
      return;
    }
    this.apply(doc, false);
  }

  #request(req: ReadStateRequest, what: string): Promise<ReadState> {
    return requestService(
      this.#o.nc,
      HISTORY_READSTATE_SUBJECT,
      encodeReadStateRequest(req),
      parseReadStateReply,
      what,
    );
  }
}
