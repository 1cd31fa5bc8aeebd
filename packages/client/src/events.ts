// Message events: our reactions, edits and deletions (each a signed envelope sent as a request
// to the history writer, which decides every rule and answers with the target's new state), and
// the states the history service publishes after every stored change (channel updates on
// chat.KUBECON.updates.posts.<channel>, DM updates on our private feed). A state is shown as the
// service gives it, except its edit: the edited text is the author's own signed words, so we
// verify the edit token ourselves (a chat-edit signed by the target's author, naming that
// target, in its conversation) before showing it; otherwise the original stays and a drop is
// counted.
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import {
  type Conv,
  EDIT_TYPE,
  EnvelopeVerifier,
  encodeDelete,
  encodeEdit,
  encodeReaction,
  eventSubject,
  type MessageState,
  type MessageUpdate,
  parseEventReply,
  parseMessageId,
  parseUpdate,
  type Signer,
  UPDATES_PREFIX,
  UPDATES_WILDCARD,
  userFeedSubject,
} from "@natschat/protocol";
import type { MessageRecord } from "./conversation.ts";
import { ChatError } from "./errors.ts";
import type { Scope } from "./scope.ts";
import { requestService } from "./service-request.ts";
import type { ChatStore } from "./store.ts";

/** Edit tokens remembered with their verdict (an update repeats the same token). */
const EDIT_CACHE_MAX = 2000;

/** The protocol's conversation of a conversation id ("#CHANNEL" or "@<peer>"), seen from us. */
export function convOf(conversationId: string): Conv {
  return conversationId.startsWith("#")
    ? { kind: "post", channel: conversationId.slice(1) }
    : { kind: "dm", peer: conversationId.slice(1) };
}

/** A record with `state` applied (`editText`: the verified edit's text, if any). Pure. */
export function withState(
  m: MessageRecord,
  state: MessageState,
  editText: string | undefined,
): MessageRecord {
  const { edited: _e, deleted: _d, reactions: _r, replies: _p, ...base } = m;
  const reactions = state.reactions ?? {};
  return {
    ...base,
    ...(editText !== undefined && !state.deleted ? { edited: editText } : {}),
    ...(state.deleted ? { deleted: state.deleted.by } : {}),
    ...(Object.keys(reactions).length > 0 && !state.deleted ? { reactions } : {}),
    ...(state.replies ? { replies: state.replies.count } : {}),
  };
}

/** Options of Events. */
export interface EventsOptions {
  store: ChatStore;
  scope: Scope;
  nc: () => NatsConnection | undefined;
  signer: () => Signer | undefined;
  now: () => number;
}

/** Our message events, and the states the service publishes. */
export class Events {
  readonly #o: EventsOptions;
  /** edit token → its text, or null when it did not verify. */
  readonly #edits = new Map<string, string | null>();
  #chain: Promise<void> = Promise.resolve();

  constructor(opts: EventsOptions) {
    this.#o = opts;
  }

  /** Subscribes to the channels' updates and our DMs' updates; they end with the connection. */
  subscribe(nc: NatsConnection): void {
    const me = this.#o.store.me.key;
    nc.subscribe(UPDATES_WILDCARD, { callback: (err, m) => this.#onUpdate(err, m) });
    nc.subscribe(userFeedSubject(me, "updates"), {
      callback: (err, m) => this.#onUpdate(err, m),
    });
  }

  /** Adds or removes our `emoji` on message `id`. */
  async react(id: string, emoji: string, on: boolean): Promise<void> {
    await this.#send(id, "reaction", (signer, conv, name, now) =>
      encodeReaction(signer, { name, conv, target: id, emoji, op: on ? "add" : "remove", now }),
    );
  }

  /** Replaces the text of message `id` (ours: the writer refuses anyone else's, FORBIDDEN). */
  async edit(id: string, text: string): Promise<void> {
    await this.#send(id, "edit", (signer, conv, name, now) =>
      encodeEdit(signer, { name, conv, target: id, msg: text, now }),
    );
  }

  /** Deletes message `id` (ours: the writer refuses anyone else's, FORBIDDEN). */
  async remove(id: string): Promise<void> {
    await this.#send(id, "deletion", (signer, conv, name, now) =>
      encodeDelete(signer, { name, conv, target: id, now }),
    );
  }

  /**
   * A record with the service's state applied, its edit verified first (pages and thread and
   * search results carry states too).
   */
  async withState(
    m: MessageRecord,
    conversationId: string,
    state: MessageState | undefined,
  ): Promise<MessageRecord> {
    if (!state) return m;
    const text = state.edit ? await this.#editText(state.edit, m.id, conversationId) : undefined;
    return withState(m, state, text ?? undefined);
  }

  async #send(
    id: string,
    what: string,
    sign: (signer: Signer, conv: Conv, name: string, now: number) => Promise<string>,
  ): Promise<void> {
    const { store } = this.#o;
    const signer = this.#o.signer();
    if (!signer) throw new ChatError("CHAT_NOT_STARTED", "start() the session first");
    const where = this.#conversationOf(id);
    if (where === undefined) {
      throw new ChatError(
        "NOT_FOUND",
        `${what}: message ${id.slice(0, 70)} is not shown here (pass a MessageView.id)`,
      );
    }
    const conv = convOf(where);
    const token = await sign(signer, conv, store.me.name, this.#o.now()).catch((err: unknown) => {
      throw new ChatError("BAD_MESSAGE", `${what}: ${err instanceof Error ? err.message : err}`, {
        cause: err,
      });
    });
    const ack = await requestService(
      this.#o.nc,
      eventSubject(conv, store.me.key),
      token,
      parseEventReply,
      `the ${what} was not saved`,
    );
    await this.#apply(ack, where);
  }

  /** The conversation that holds message `id` (a channel, a DM, or the open thread's). */
  #conversationOf(id: string): string | undefined {
    const { store } = this.#o;
    const found = store.locate(id);
    if (found) return found.c.id;
    const t = store.thread;
    if (t && (t.root?.id === id || t.replies.some((m) => m.id === id))) return t.conversation;
    return undefined;
  }

  #onUpdate(err: Error | null, m: Msg): void {
    const { store } = this.#o;
    if (err) {
      store.setNotice(`subscription failed: ${err.message}`);
      return;
    }
    const u = parseUpdate(m.data);
    const channel = m.subject.startsWith(`${UPDATES_PREFIX}.`)
      ? m.subject.slice(UPDATES_PREFIX.length + 1)
      : undefined;
    // a channel's updates are of posts, our feed's of DMs (only the service publishes either)
    if (!u || (channel === undefined) !== (u.store === "dms")) {
      store.countDrop("bad-update");
      return;
    }
    const where = channel !== undefined ? `#${channel}` : this.#conversationOf(u.id);
    if (where === undefined) return; // a DM message we do not hold
    this.#chain = this.#chain
      .then(() => this.#apply(u, where))
      .catch((e: unknown) =>
        store.setNotice(`could not apply an update: ${e instanceof Error ? e.message : e}`),
      );
  }

  /** Applies a target's new state wherever it is held (its conversation, the open thread). */
  async #apply(u: MessageUpdate, conversationId: string): Promise<void> {
    if (!this.#o.scope.live) return;
    const { store } = this.#o;
    const text = u.state.edit ? await this.#editText(u.state.edit, u.id, conversationId) : null;
    const change = (m: MessageRecord) => {
      const next = withState(m, u.state, text ?? undefined);
      return next.seq === undefined ? { ...next, seq: u.seq } : next;
    };
    store.updateMessage(u.id, conversationId, change);
  }

  /** The text of an edit token when it is a valid edit of `id` by its author; else null. */
  async #editText(token: string, id: string, conversationId: string): Promise<string | null> {
    const cached = this.#edits.get(token);
    if (cached !== undefined) return cached;
    const text = await this.#verifyEdit(token, id, conversationId);
    if (this.#edits.size >= EDIT_CACHE_MAX) {
      const oldest = this.#edits.keys().next().value;
      if (oldest !== undefined) this.#edits.delete(oldest);
    }
    this.#edits.set(token, text);
    return text;
  }

  async #verifyEdit(token: string, id: string, conversationId: string): Promise<string | null> {
    const { store } = this.#o;
    const author = parseMessageId(id)?.author;
    if (author === undefined) return null;
    // the edit's conversation as its author signed it: the channel, or the DM's other side
    const conv = convOf(conversationId);
    const seen: Conv =
      conv.kind === "post" || author !== conv.peer ? conv : { kind: "dm", peer: store.me.key };
    // each token is verified once (the cache), so the verifier's replay memory is not needed
    const r = await new EnvelopeVerifier({ now: this.#o.now }).verify(token, {
      subject: eventSubject(seen, author),
    });
    if (!r.ok) {
      store.countDrop(r.reason);
      return null;
    }
    if (r.envelope.type !== EDIT_TYPE || r.envelope.target !== id) {
      store.countDrop("wrong-subject");
      return null;
    }
    return r.envelope.msg;
  }
}
