// Sending: a post or DM is signed with our key, shown at once in its conversation, and handed
// to the outbox, which sends it as a request on its sender-keyed subject (live for everyone at
// once) and repeats it until the history writer acks it (store-and-forward, see outbox.ts).
// A DM is sent once: the recipient, our other devices and the writer all take it from the one
// subject that names the recipient and us, and DM history returns both directions.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  decodeJwtUnverified,
  dmSubject,
  encodeDm,
  encodePost,
  isMessageId,
  messageId,
  postSubject,
  type Signer,
} from "@natschat/protocol";
import type { SendOptions } from "./api.ts";
import type { Conversation, MessageRecord } from "./conversation.ts";
import { ChatError } from "./errors.ts";
import { mentionsToKeys } from "./mentions.ts";
import { Outbox, requestStore } from "./outbox.ts";
import type { Scope } from "./scope.ts";
import type { ChatStore } from "./store.ts";
import { channelId, dmId, type parseTarget } from "./target.ts";

/** Options of Sender. */
export interface SenderOptions {
  store: ChatStore;
  scope: Scope;
  nc: () => NatsConnection | undefined;
  now: () => number;
  /** The key of an issued name we know (for `@name` mentions). */
  keyOf: (name: string) => string | undefined;
  /** Called after one of our messages was shown (a reply joins an open thread). */
  onSent?: (c: Conversation, rec: MessageRecord) => void;
}

/** Signs, shows and sends what we say. */
export class Sender {
  readonly #o: SenderOptions;
  readonly #outbox: Outbox;

  constructor(opts: SenderOptions) {
    this.#o = opts;
    this.#outbox = new Outbox({
      store: requestStore(opts.nc),
      onPending: (n) => this.#onUnstored(n),
      onRefused: (_entry, err) =>
        opts.store.setNotice(`a sent message was not saved to history: ${err.message}`),
    });
    opts.scope.onClose(() => this.#outbox.stop());
  }

  /**
   * Sends a post or DM signed by `signer` (`@name` of a known user becomes `<@KEY>`; `replyTo`
   * makes it a reply); resolves once handed to the connection.
   */
  async send(
    signer: Signer,
    t: ReturnType<typeof parseTarget>,
    typed: string,
    opts: SendOptions = {},
  ): Promise<void> {
    const { store } = this.#o;
    const now = this.#o.now();
    const me = store.me;
    const re = opts.replyTo;
    if (re !== undefined && !isMessageId(re)) {
      throw new ChatError("CHAT_BAD_TARGET", "replyTo must be a message id (MessageView.id)");
    }
    const text = mentionsToKeys(typed, this.#o.keyOf);
    const reply = re === undefined ? {} : { re };
    let c: Conversation;
    let rec: MessageRecord;
    let subject: string;
    let token: string;
    if (t.kind === "channel") {
      token = await encodePost(signer, {
        name: me.name,
        channel: t.channel,
        msg: text,
        now,
        ...reply,
      });
      c = store.conversation(channelId(t.channel));
      rec = { ...this.#ownRecord(jtiOf(token), text, now), ...reply };
      subject = postSubject(t.channel, me.key);
    } else {
      token = await encodeDm(signer, { name: me.name, to: t.peer, msg: text, now, ...reply });
      c = store.conversation(dmId(t.peer));
      rec = { ...this.#ownRecord(jtiOf(token), text, now), to: t.peer, ...reply };
      subject = dmSubject(t.peer, me.key);
    }
    store.deliver(c, rec);
    this.#o.onSent?.(c, rec);
    void this.#outbox.send({
      subject,
      token,
      msgId: jtiOf(token),
      onStored: (seq) => {
        c.setSeq(rec.id, seq);
        store.changed();
      },
    });
  }

  /** Sent messages the history writer has not acknowledged yet. */
  get unsaved(): number {
    return this.#outbox.unacked;
  }

  /** Tries the unconfirmed messages again now (after a reconnect). */
  retryNow(): void {
    this.#outbox.retryNow();
  }

  #ownRecord(jti: string, text: string, now: number): MessageRecord {
    const me = this.#o.store.me;
    return {
      id: messageId(me.key, jti),
      from: me.key,
      claimedName: me.name,
      text,
      time: Math.floor(now / 1000) * 1000,
    };
  }

  #onUnstored(pending: number): void {
    const { store } = this.#o;
    const lost = this.#outbox.givenUp;
    if (pending > 0 || lost > 0) {
      store.setNotice(
        `${pending} sent message${pending === 1 ? "" : "s"} not saved to history yet (the history service is out of reach); retrying` +
          (lost > 0 ? `; ${lost} given up` : ""),
        "unstored",
      );
    } else {
      store.clearNotice("unstored");
    }
    store.changed();
  }
}

/** The jti of a token we signed ourselves. */
function jtiOf(token: string): string {
  return String(decodeJwtUnverified(token).payload.jti);
}
