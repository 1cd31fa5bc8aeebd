// The chat store: what a session knows and shows — its state, its conversations, the roster of
// known users, drop counts and the last notice — and the immutable snapshot the UIs render,
// with change notification batched per microtask. No NATS code: the session's parts feed it,
// and it can be tested (or reused by another model) without a server.
//
// Names are not stored here: `names(key)` (the identity cache) is asked when a snapshot is
// built, so a sender is shown under its issued name as soon as that is known, and under the
// key's short form (`~UABCD…WXYZ`) until then — never under the name it claims.
import { mentionsOf } from "@natschat/protocol";
import {
  Conversation,
  currentText,
  type HistoryState,
  type MessageRecord,
  mentions,
} from "./conversation.ts";
import { shortKey } from "./identity.ts";
import { displayOf, type MessageView, messageView, type ViewContext } from "./message-view.ts";
import { ChangeNotifier } from "./notifier.ts";

export type { MessageView } from "./message-view.ts";

/** Where a session stands. The last three are final. */
export type SessionState =
  | "connecting"
  | "connected"
  | "reconnecting"
  | "revoked"
  | "expired"
  | "closed";

const FINAL: readonly SessionState[] = ["revoked", "expired", "closed"];
/** Most mentions of one message looked up in the directory (the rest show as short keys). */
export const MENTIONS_LOOKED_UP_MAX = 8;

/** Whether a session in `state` has ended for good. */
export function isFinal(state: SessionState): boolean {
  return FINAL.includes(state);
}

/** Who we are. */
export interface Me {
  key: string;
  /** The issued name of our key (empty until start() checked our user JWT). */
  name: string;
}

/** A channel or DM as the UIs show it. */
export interface ConversationView {
  /** "#CHANNEL" or "@<user key>". */
  id: string;
  kind: "channel" | "dm";
  /** Channel name, or the peer's display label. */
  title: string;
  /** DMs: the peer's user key. */
  peer?: string;
  /** DMs: whether the peer is online. */
  online?: boolean;
  messages: readonly MessageView[];
  /** Messages of others not read yet (the read position is kept by the service, per user). */
  unread: number;
  /**
   * The message id where the "new messages" separator goes: the first unread message or, for
   * the conversation on screen, the one that was first unread when it was selected.
   */
  firstUnread?: string;
  /** Unread messages that mention us. */
  mentions: number;
  /** Display names of those typing here now (not us). */
  typing: readonly string[];
  /** Muted: no notifications for it. */
  muted: boolean;
  history: HistoryState;
}

/** An open thread: its root and its replies, oldest first. */
export interface ThreadView {
  /** The root message (undefined while loading, or when it is not available). */
  root: MessageView | undefined;
  replies: readonly MessageView[];
  loading: boolean;
  /** The conversation the thread is in ("#CHANNEL" or "@<key>"): reply there. */
  conversation: string;
}

/** What an open thread holds (threads.ts fills it, the store shows it). */
export interface ThreadRecord {
  /** The id the thread was opened with, and the root's once known. */
  rootId: string;
  conversation: string;
  root: MessageRecord | undefined;
  replies: readonly MessageRecord[];
  loading: boolean;
}

/** A known user. */
export interface UserView {
  key: string;
  /** Issued name, if known. */
  name: string | undefined;
  display: string;
  online: boolean;
  /** When we last heard its presence, ms since the epoch. */
  lastSeen: number | undefined;
  me: boolean;
}

/** Everything a UI renders; immutable, and the same object until something changes. */
export interface ChatSnapshot {
  version: number;
  state: SessionState;
  reason: string | undefined;
  me: Me;
  selected: string;
  channels: readonly ConversationView[];
  dms: readonly ConversationView[];
  users: readonly UserView[];
  /** Rejected messages by reason. */
  drops: Readonly<Record<string, number>>;
  /** All rejected messages. */
  dropped: number;
  /** The last non-fatal problem (e.g. a denied publish), for a status line. */
  notice: string | undefined;
  /** The open thread, if any (openThread / closeThread). */
  thread: ThreadView | undefined;
}

/** What the store keeps about a user: presence is tracked by presence.ts. */
export interface UserRecord {
  key: string;
  /** Presence expiry, ms; 0 when we never heard its presence. */
  exp: number;
  lastSeen: number | undefined;
  online: boolean;
}

/**
 * What a notice is about: a later notice of another kind replaces it, and clearNotice(kind)
 * clears it only while it is still of that kind.
 */
export type NoticeKind = "unstored" | "renewal" | "directory" | "other";

/** Options of ChatStore. */
export interface ChatStoreOptions {
  me: Me;
  /** Conversation ids joined from the start ("#CHANNEL"); the first is selected. */
  channels: readonly string[];
  /** Most messages kept per conversation. */
  maxMessages: number;
  /** The issued name of a key, or undefined while it is unknown. */
  names: (key: string) => string | undefined;
  /** Called when a key enters the roster (a sender, a DM peer, someone online): resolve it. */
  onNewUser?: (key: string) => void;
  /** Called with a key a message mentions: its name is shown, so resolve it (not rostered). */
  onMentioned?: (key: string) => void;
  /** Called when the conversation on screen was read further (read-state.ts persists it). */
  onRead?: (c: Conversation) => void;
  /** Called when a conversation is made (a new DM peer takes its read position). */
  onConversation?: (c: Conversation) => void;
  /** Called after a live message (or one we sent) was added to a conversation. */
  onDeliver?: (c: Conversation, rec: MessageRecord) => void;
}

/** State, conversations, roster and snapshot of one chat session. */
export class ChatStore {
  readonly #notifier = new ChangeNotifier();
  readonly #names: (key: string) => string | undefined;
  readonly #onNewUser: (key: string) => void;
  readonly #onMentioned: (key: string) => void;
  readonly #onRead: (c: Conversation) => void;
  readonly #onConversation: (c: Conversation) => void;
  readonly #onDeliver: (c: Conversation, rec: MessageRecord) => void;
  readonly #maxMessages: number;
  readonly #conversations = new Map<string, Conversation>();
  readonly #users = new Map<string, UserRecord>();
  readonly #ownDrops = new Map<string, number>();
  readonly #dropSources: (() => Readonly<Record<string, number>>)[] = [];
  readonly #viewCache = new Map<string, { key: string; view: ConversationView }>();
  #state: SessionState = "connecting";
  #reason: string | undefined;
  #me: Me;
  #selected: string;
  #notice: { text: string; kind: NoticeKind } | undefined;
  #identityVersion = 0;
  #snapshot: ChatSnapshot | undefined;
  /** Where a DM conversation made now starts: "loaded" once the DM history read finished. */
  #newDmHistory: HistoryState = "loading";
  #readStateKnown = false;
  #thread: ThreadRecord | undefined;

  constructor(opts: ChatStoreOptions) {
    this.#names = opts.names;
    this.#onNewUser = opts.onNewUser ?? (() => undefined);
    this.#onMentioned = opts.onMentioned ?? (() => undefined);
    this.#onRead = opts.onRead ?? (() => undefined);
    this.#onConversation = opts.onConversation ?? (() => undefined);
    this.#onDeliver = opts.onDeliver ?? (() => undefined);
    this.#maxMessages = opts.maxMessages;
    this.#me = opts.me;
    for (const id of opts.channels) this.conversation(id);
    this.#selected = opts.channels[0] ?? "";
  }

  get state(): SessionState {
    return this.#state;
  }

  get reason(): string | undefined {
    return this.#reason;
  }

  get me(): Me {
    return this.#me;
  }

  get selected(): string {
    return this.#selected;
  }

  /** Sets the state and its reason; false if that changed nothing. */
  setState(state: SessionState, reason: string | undefined): boolean {
    if (this.#state === state && this.#reason === reason) return false;
    this.#state = state;
    this.#reason = reason;
    this.changed();
    return true;
  }

  setMe(me: Me): void {
    this.#me = me;
    this.user(me.key);
    this.identityChanged();
  }

  /** Shows `text` as the notice. */
  setNotice(text: string, kind: NoticeKind = "other"): void {
    this.#notice = { text, kind };
    this.changed();
  }

  /** Clears the notice if it is still one of `kind`. */
  clearNotice(kind: NoticeKind): void {
    if (this.#notice?.kind !== kind) return;
    this.#notice = undefined;
    this.changed();
  }

  // --- conversations ----------------------------------------------------------------------

  /** The conversation `id` ("#CHANNEL" or "@<key>"), made if it is new. */
  conversation(id: string): Conversation {
    let c = this.#conversations.get(id);
    if (!c) {
      const kind = id.startsWith("#") ? "channel" : "dm";
      c = new Conversation(id, kind, id.slice(1), this.#maxMessages);
      if (kind === "dm") c.setHistory(this.#newDmHistory);
      this.#conversations.set(id, c);
      if (kind === "dm") this.user(c.target);
      this.#onConversation(c);
    }
    return c;
  }

  /** The conversation `id` if there is one (a channel we did not join has none). */
  find(id: string): Conversation | undefined {
    return this.#conversations.get(id);
  }

  /** Conversations of one kind. */
  conversations(kind: "channel" | "dm"): Conversation[] {
    return [...this.#conversations.values()].filter((c) => c.kind === kind);
  }

  /** Where DM conversations made from now on start (after the DM history read). */
  setNewDmHistory(state: HistoryState): void {
    this.#newDmHistory = state;
  }

  /** Whether the read positions came from the service (else this device's reading counts). */
  get readStateKnown(): boolean {
    return this.#readStateKnown;
  }

  /** The service answered with the read positions: from now on they decide what is unread. */
  setReadStateKnown(): void {
    this.#readStateKnown = true;
  }

  /** Appends a live message (unread unless it is ours or on screen); false for a duplicate. */
  deliver(c: Conversation, rec: MessageRecord): boolean {
    if (!c.append(rec)) return false;
    this.mentioned(rec);
    this.#readIfOnScreen(c);
    this.#onDeliver(c, rec);
    this.changed();
    return true;
  }

  /**
   * Places messages read from history: "initial" puts them before what arrived live meanwhile;
   * "backfill" appends only what is not shown yet. Until the service gave the read positions,
   * the first read counts as read (as it did before read state was kept).
   */
  placeHistory(c: Conversation, records: MessageRecord[], mode: "initial" | "backfill"): void {
    for (const rec of records) this.mentioned(rec);
    if (mode === "initial") {
      c.mergeHistory(records);
      if (!this.#readStateKnown) c.markRead();
      // on screen from the start: the separator goes where the service's position left off
      else if (this.#selected === c.id && c.separator === undefined) {
        c.setSeparator(c.firstUnread(this.#me.key));
      }
    } else {
      for (const rec of records) c.append(rec);
    }
    this.#readIfOnScreen(c);
    this.changed();
  }

  /**
   * Puts `id` on screen (made if new): keeps where its first unread message was (the "new
   * messages" separator) and marks it read.
   */
  select(id: string): void {
    const c = this.conversation(id);
    const was = this.find(this.#selected);
    if (was && was !== c) was.setSeparator(undefined);
    if (this.#selected !== id || c.separator === undefined) {
      c.setSeparator(c.firstUnread(this.#me.key));
    }
    this.#selected = id;
    this.#readIfOnScreen(c);
    this.changed();
  }

  /** The conversation on screen is read as far as it goes. */
  #readIfOnScreen(c: Conversation): void {
    if (this.#selected !== c.id) return;
    if (c.markRead()) this.#onRead(c);
  }

  /** The keys `rec` mentions are shown by name: have them resolved. */
  mentioned(rec: MessageRecord): void {
    // a message may name any number of made-up keys: only its first few are looked up
    for (const key of mentionsOf(currentText(rec)).slice(0, MENTIONS_LOOKED_UP_MAX)) {
      if (this.#names(key) === undefined) this.#onMentioned(key);
    }
  }

  /** The held message `id` and its conversation, in any conversation. */
  locate(id: string): { c: Conversation; m: MessageRecord } | undefined {
    for (const c of this.#conversations.values()) {
      const m = c.get(id);
      if (m) return { c, m };
    }
    return undefined;
  }

  /**
   * Replaces message `id` of conversation `conversationId` with `change(old)`, wherever it is held
   * (the conversation, the open thread); false when it is held nowhere.
   */
  updateMessage(
    id: string,
    conversationId: string,
    change: (m: MessageRecord) => MessageRecord,
  ): boolean {
    const learn = (m: MessageRecord) => {
      const next = change(m);
      this.mentioned(next);
      return next;
    };
    let found = this.find(conversationId)?.update(id, learn) ?? false;
    const t = this.#thread;
    if (t && t.conversation === conversationId) {
      if (t.root?.id === id) {
        this.#thread = { ...t, root: learn(t.root) };
        found = true;
      } else if (t.replies.some((m) => m.id === id)) {
        this.#thread = { ...t, replies: t.replies.map((m) => (m.id === id ? learn(m) : m)) };
        found = true;
      }
    }
    if (found) this.changed();
    return found;
  }

  /** The open thread (threads.ts sets it). */
  get thread(): ThreadRecord | undefined {
    return this.#thread;
  }

  setThread(t: ThreadRecord | undefined): void {
    this.#thread = t;
    if (t?.root) this.mentioned(t.root);
    for (const m of t?.replies ?? []) this.mentioned(m);
    this.changed();
  }

  // --- roster -----------------------------------------------------------------------------

  /** The record of `key`, made if it is new. */
  user(key: string): UserRecord {
    let u = this.#users.get(key);
    if (!u) {
      u = { key, exp: 0, lastSeen: undefined, online: key === this.#me.key };
      this.#users.set(key, u);
      this.#onNewUser(key);
    }
    return u;
  }

  /** The record of `key` if it is known. */
  findUser(key: string): UserRecord | undefined {
    return this.#users.get(key);
  }

  /** Every known user. */
  users(): IterableIterator<UserRecord> {
    return this.#users.values();
  }

  /** An issued name was learned or changed: views are rebuilt with it. */
  identityChanged(): void {
    this.#identityVersion++;
    this.changed();
  }

  // --- drops ------------------------------------------------------------------------------

  /** Counts one rejected message. */
  countDrop(reason: string): void {
    this.#ownDrops.set(reason, (this.#ownDrops.get(reason) ?? 0) + 1);
    this.changed();
  }

  /** Adds counted drops (of a finished history read, say). */
  addDrops(drops: Readonly<Record<string, number>>): void {
    let any = false;
    for (const [k, n] of Object.entries(drops)) {
      if (n <= 0) continue;
      this.#ownDrops.set(k, (this.#ownDrops.get(k) ?? 0) + n);
      any = true;
    }
    if (any) this.changed();
  }

  /** Adds live counters (a verifier's drops), read each time a snapshot is built. */
  addDropSource(source: () => Readonly<Record<string, number>>): void {
    this.#dropSources.push(source);
  }

  // --- change notification and snapshots --------------------------------------------------

  /** Calls `cb` after changes (batched, once per microtask); returns the unsubscribe function. */
  onChange(cb: () => void): () => void {
    return this.#notifier.subscribe(cb);
  }

  /** Records a change: the snapshot is rebuilt and the listeners are called. */
  changed(): void {
    this.#snapshot = undefined;
    this.#notifier.changed();
  }

  /** The current state, immutable; the same object until the next change. */
  snapshot(): ChatSnapshot {
    if (this.#snapshot) return this.#snapshot;
    const views = [...this.#conversations.values()].map((c) => this.#view(c));
    const drops = this.#drops();
    const snap: ChatSnapshot = Object.freeze({
      version: this.#notifier.version,
      state: this.#state,
      reason: this.#reason,
      me: this.#me,
      selected: this.#selected,
      channels: Object.freeze(views.filter((v) => v.kind === "channel")),
      dms: Object.freeze(views.filter((v) => v.kind === "dm")),
      users: Object.freeze(
        [...this.#users.values()]
          .map((u) => this.#userView(u))
          .sort((a, b) => a.display.localeCompare(b.display)),
      ),
      drops: Object.freeze(drops),
      dropped: Object.values(drops).reduce((a, b) => a + b, 0),
      notice: this.#notice?.text,
      thread: this.#threadViewOf(),
    });
    this.#snapshot = snap;
    return snap;
  }

  #drops(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const source of this.#dropSources) {
      for (const [k, n] of Object.entries(source())) out[k] = (out[k] ?? 0) + n;
    }
    for (const [k, n] of this.#ownDrops) out[k] = (out[k] ?? 0) + n;
    return out;
  }

  #display(key: string): { name: string | undefined; display: string } {
    const name = this.#names(key);
    return { name, display: name ?? shortKey(key) };
  }

  /**
   * What building a view of a message of `conversationId` needs: names, us, and for reply quotes
   * the messages held in that conversation (or its open thread) only: a reply naming a message of
   * another conversation, which the writer never stores but every client gets live, shows
   * "not available" rather than that message's words.
   */
  viewContext(conversationId: string): ViewContext {
    return {
      me: this.#me.key,
      names: this.#names,
      find: (id) =>
        this.#conversations.get(conversationId)?.get(id) ?? this.#threadMessage(conversationId, id),
    };
  }

  #threadMessage(conversationId: string, id: string): MessageRecord | undefined {
    const t = this.#thread;
    if (t?.conversation !== conversationId) return undefined;
    return t.root?.id === id ? t.root : t.replies.find((m) => m.id === id);
  }

  #view(c: Conversation): ConversationView {
    const peer = c.kind === "dm" ? this.#users.get(c.target) : undefined;
    const cacheKey = `${c.version}/${this.#identityVersion}/${peer?.online ?? ""}/${this.#selected === c.id}`;
    const hit = this.#viewCache.get(c.id);
    if (hit && hit.key === cacheKey) return hit.view;
    const ctx = this.viewContext(c.id);
    const me = this.#me.key;
    const messages = Object.freeze(c.messages.map((m) => messageView(ctx, m)));
    const unread = c.unreadMessages(me);
    const firstUnread = this.#selected === c.id ? c.separator : unread[0]?.id;
    const view: ConversationView = Object.freeze({
      id: c.id,
      kind: c.kind,
      title: c.kind === "channel" ? c.target : this.#display(c.target).display,
      ...(c.kind === "dm" ? { peer: c.target, online: peer?.online ?? false } : {}),
      messages,
      unread: unread.length + c.unreadBeyond,
      ...(firstUnread === undefined ? {} : { firstUnread }),
      mentions: unread.filter((m) => mentions(m, me)).length,
      typing: Object.freeze(c.typing.map((k) => displayOf(ctx, k))),
      muted: c.muted,
      history: c.history,
    });
    this.#viewCache.set(c.id, { key: cacheKey, view });
    return view;
  }

  #threadViewOf(): ThreadView | undefined {
    const t = this.#thread;
    if (!t) return undefined;
    const ctx = this.viewContext(t.conversation);
    return Object.freeze({
      root: t.root ? messageView(ctx, t.root) : undefined,
      replies: Object.freeze(t.replies.map((m) => messageView(ctx, m))),
      loading: t.loading,
      conversation: t.conversation,
    });
  }

  #userView(u: UserRecord): UserView {
    const { name, display } = this.#display(u.key);
    return Object.freeze({
      key: u.key,
      name,
      display,
      online: u.online,
      lastSeen: u.lastSeen,
      me: u.key === this.#me.key,
    });
  }
}
