// The open thread: a message's reply chain beside its conversation. Its root is the message the
// chain starts from (a reply's target's root, as far as we hold the chain); the history service
// lists the replies stored under that root (chat.svc.history.thread). Replies that arrive live
// while it is open join it, whether they answer the root or one of its replies. One thread is
// open at a time; an answer that comes back after it was closed or replaced is dropped.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  EnvelopeVerifier,
  encodeThreadRequest,
  HISTORY_MAX_LIMIT,
  HISTORY_THREAD_SUBJECT,
  isMessageId,
  parseThreadReply,
} from "@natschat/protocol";
import type { Conversation, MessageRecord } from "./conversation.ts";
import { ChatError } from "./errors.ts";
import type { Scope } from "./scope.ts";
import { requestService } from "./service-request.ts";
import type { ChatStore, ThreadRecord } from "./store.ts";
import { type StoredContext, storedRecord } from "./stored-message.ts";

/** Options of Threads. */
export interface ThreadsOptions {
  store: ChatStore;
  scope: Scope;
  nc: () => NatsConnection | undefined;
  now: () => number;
  withState: StoredContext["withState"];
}

/** The open thread. */
export class Threads {
  readonly #o: ThreadsOptions;
  /** Bumped on every open and close: a late answer for an older one is dropped. */
  #generation = 0;

  constructor(opts: ThreadsOptions) {
    this.#o = opts;
  }

  /**
   * Opens the thread of message `id`: one held in a conversation or the open thread, or one we
   * only know by id (a reply's quote of a message no longer held), looked up in the conversation
   * on screen.
   */
  open(id: string): void {
    const { store } = this.#o;
    if (!isMessageId(id)) {
      throw new ChatError(
        "NOT_FOUND",
        `${String(id).slice(0, 70)} is not a message id (MessageView.id)`,
      );
    }
    const where = store.locate(id);
    const t = store.thread;
    const inThread = t && (t.root?.id === id || t.replies.some((m) => m.id === id));
    const conversation = where ? where.c.id : inThread ? t.conversation : store.selected;
    const root = where ? rootOf(where.c, where.m) : inThread ? this.#rootInThread(id) : id;
    const gen = ++this.#generation;
    const held = where?.c.get(root);
    store.setThread({ rootId: root, conversation, root: held, replies: [], loading: true });
    void this.#load(gen, root, conversation);
  }

  /** Closes the open thread. */
  close(): void {
    this.#generation++;
    if (this.#o.store.thread) this.#o.store.setThread(undefined);
  }

  /** A live message (or one we sent) arrived: a reply in the open thread joins it. */
  consider(c: Conversation, rec: MessageRecord): void {
    const t = this.#o.store.thread;
    if (!t || rec.re === undefined || t.conversation !== c.id) return;
    const inThread = rec.re === t.rootId || t.replies.some((m) => m.id === rec.re);
    if (!inThread || t.replies.some((m) => m.id === rec.id)) return;
    this.#o.store.setThread({ ...t, replies: [...t.replies, rec] });
  }

  #rootInThread(id: string): string {
    const t = this.#o.store.thread as ThreadRecord;
    return t.root?.id === id || t.replies.some((m) => m.id === id) ? t.rootId : id;
  }

  async #load(gen: number, root: string, conversation: string): Promise<void> {
    const { store } = this.#o;
    try {
      const page = await requestService(
        this.#o.nc,
        HISTORY_THREAD_SUBJECT,
        encodeThreadRequest({ root, limit: HISTORY_MAX_LIMIT }),
        parseThreadReply,
        "the thread could not be read",
      );
      const ctx: StoredContext = {
        me: store.me.key,
        verifier: new EnvelopeVerifier({
          now: this.#o.now,
          replayWindowSeconds: 10 * 365 * 24 * 3600,
        }),
        withState: this.#o.withState,
        countDrop: (reason) => store.countDrop(reason),
      };
      const inConversation = async (s: (typeof page.messages)[number]) => {
        const found = await storedRecord(s, ctx);
        if (found && found.conversationId !== conversation) {
          store.countDrop("wrong-subject");
          return undefined;
        }
        return found?.rec;
      };
      const rootRec = page.root ? await inConversation(page.root) : undefined;
      const replies: MessageRecord[] = [];
      for (const s of page.messages) {
        const rec = await inConversation(s);
        if (rec) replies.push(rec);
      }
      const t = store.thread;
      if (gen !== this.#generation || !t || !this.#o.scope.live) return;
      // live replies that came while it loaded stay, after the stored ones
      const ids = new Set(replies.map((m) => m.id));
      const live = t.replies.filter((m) => !ids.has(m.id));
      store.setThread({
        ...t,
        root: rootRec ?? t.root,
        replies: [...replies, ...live],
        loading: false,
      });
    } catch (err) {
      const t = store.thread;
      if (gen !== this.#generation || !t || !this.#o.scope.live) return;
      store.setThread({ ...t, loading: false });
      store.setNotice(err instanceof Error ? err.message : String(err));
    }
  }
}

/** The root of the thread `m` is in: up its reply chain as far as `c` holds it. */
export function rootOf(c: Conversation, m: MessageRecord): string {
  let at = m;
  const seen = new Set<string>([at.id]);
  while (at.re !== undefined) {
    const up = c.get(at.re);
    if (!up || seen.has(up.id)) return at.re;
    seen.add(up.id);
    at = up;
  }
  return at.id;
}
