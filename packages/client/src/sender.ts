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
  postSubject,
  type Signer,
} from "@natschat/protocol";
import type { MessageRecord } from "./conversation.ts";
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

  /** Sends a post or DM signed by `signer`; resolves once handed to the connection. */
  async send(signer: Signer, t: ReturnType<typeof parseTarget>, text: string): Promise<void> {
    const { store } = this.#o;
    const now = this.#o.now();
    const me = store.me;
    if (t.kind === "channel") {
      const token = await encodePost(signer, { name: me.name, channel: t.channel, msg: text, now });
      const jti = jtiOf(token);
      store.conversation(channelId(t.channel)).append(this.#ownRecord(jti, text, now));
      this.#publish(postSubject(t.channel, me.key), token, jti);
    } else {
      const token = await encodeDm(signer, { name: me.name, to: t.peer, msg: text, now });
      const jti = jtiOf(token);
      store.conversation(dmId(t.peer)).append({ ...this.#ownRecord(jti, text, now), to: t.peer });
      this.#publish(dmSubject(t.peer, me.key), token, jti);
    }
    store.changed();
  }

  /** Sent messages the history writer has not acknowledged yet. */
  get unsaved(): number {
    return this.#outbox.unacked;
  }

  /** Tries the unconfirmed messages again now (after a reconnect). */
  retryNow(): void {
    this.#outbox.retryNow();
  }

  /** Live at once, and into history once the writer acks it. */
  #publish(subject: string, token: string, jti: string): void {
    void this.#outbox.send({ subject, token, msgId: jti });
  }

  #ownRecord(jti: string, text: string, now: number): MessageRecord {
    const me = this.#o.store.me;
    return {
      id: `${me.key} ${jti}`,
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
