// One conversation (a channel or a DM peer): its verified messages in order, deduplicated by
// message id (`<sender key>.<jti>`) so that history and live delivery never show a message twice,
// and where its reader stands: the read position (the service's stream sequence, and on this
// device the last message read), the unread count, the "new messages" separator and the unread
// mentions derived from it. Names are not stored here: the store resolves them from the identity
// cache when it builds a snapshot, so a sender is always shown under its issued name once known.

import {
  type DeletedBy,
  type DmEnvelope,
  mentionsOf,
  messageId,
  type PostEnvelope,
} from "@natschat/protocol";

/** A verified message as the session keeps it. */
export interface MessageRecord {
  /** The message id, `<sender key>.<jti>` (its Nats-Msg-Id): unique per message. */
  id: string;
  /** The sender's user key (proven by the signature). */
  from: string;
  /** The name the sender wrote into the message: unverified, never shown as the sender. */
  claimedName: string;
  /** The text as sent (mentions as `<@KEY>`). */
  text: string;
  /** When the sender signed it (its `iat`), ms since the epoch. */
  time: number;
  /** Position in the history stream, once known (from history, our own ack, or a seq lookup). */
  seq?: number;
  /** For DMs: the recipient key. */
  to?: string;
  /** A reply: the id of the message it answers. */
  re?: string;
  /** The current text of an edited message (from an edit token we verified ourselves). */
  edited?: string;
  /** Set once deleted: by whom. The text is then withheld. */
  deleted?: DeletedBy;
  /** Emoji → user keys that reacted with it. */
  reactions?: Readonly<Record<string, readonly string[]>>;
  /** Replies in its thread. */
  replies?: number;
}

/** The record of a verified post or DM (`seq`: its place in history, if it came from there). */
export function recordOf(e: PostEnvelope | DmEnvelope, seq?: number): MessageRecord {
  return {
    id: messageId(e.iss, e.jti),
    from: e.iss,
    claimedName: e.claimedName,
    text: e.msg,
    time: e.iat * 1000,
    ...(seq === undefined ? {} : { seq }),
    ...("to" in e ? { to: e.to } : {}),
    ...(e.re === undefined ? {} : { re: e.re }),
  };
}

/** The text a record shows now: empty once deleted, the verified edit if any. */
export function currentText(m: MessageRecord): string {
  if (m.deleted) return "";
  return m.edited ?? m.text;
}

/** Whether the current text of `m` mentions `key`. */
export function mentions(m: MessageRecord, key: string): boolean {
  return mentionsOf(currentText(m)).includes(key);
}

/** Where a conversation's history stands. */
export type HistoryState = "loading" | "loaded" | "failed";

/** A channel or a DM conversation. */
export class Conversation {
  messages: MessageRecord[] = [];
  history: HistoryState = "loading";
  /** Bumped on every change; snapshots cache their view per version. */
  version = 0;
  /** The read position the service keeps (a stream sequence; 0: nothing read). */
  readSeq = 0;
  /** Unread messages older than those held here (the service counted them). */
  unreadBeyond = 0;
  /** Muted: no notifications. */
  muted = false;
  /** Keys of those typing here now (not us). */
  typing: readonly string[] = [];
  /** While on screen: where the "new messages" separator was when it was selected. */
  separator: string | undefined;
  /** On this device: the id of the last message read (a message may lack a sequence). */
  #readThrough: string | undefined;
  readonly #byId = new Map<string, MessageRecord>();

  constructor(
    readonly id: string,
    readonly kind: "channel" | "dm",
    /** The channel name, or the peer's user key. */
    readonly target: string,
    readonly maxMessages: number,
  ) {}

  /** True if this message is held. */
  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** The held message `id`. */
  get(id: string): MessageRecord | undefined {
    return this.#byId.get(id);
  }

  /** Replaces the held message `id` with `change(old)`; false when it is not held. */
  update(id: string, change: (m: MessageRecord) => MessageRecord): boolean {
    const old = this.#byId.get(id);
    if (!old) return false;
    const next = change(old);
    if (next === old) return false;
    const at = this.messages.indexOf(old);
    this.messages = this.messages.with(at, next);
    this.#byId.set(id, next);
    this.version++;
    return true;
  }

  /** Appends a live message; false if it is a duplicate (whose missing seq is filled in). */
  append(m: MessageRecord): boolean {
    if (this.#byId.has(m.id)) {
      if (m.seq !== undefined) this.setSeq(m.id, m.seq);
      return false;
    }
    this.messages = [...this.messages, m];
    this.#byId.set(m.id, m);
    this.#trim();
    this.version++;
    return true;
  }

  /** Sets the stream sequence of a held message that had none. */
  setSeq(id: string, seq: number): void {
    this.update(id, (m) => (m.seq === undefined ? { ...m, seq } : m));
  }

  /**
   * Puts history (in stream order) before what arrived live while it loaded; a message in both
   * keeps its history position, and the live record's state (reactions, edits) if history had
   * none. Returns how many history messages were new.
   */
  mergeHistory(history: MessageRecord[]): number {
    const seen = new Set<string>();
    const older: MessageRecord[] = [];
    for (const m of history) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      older.push(m);
    }
    const added = older.filter((m) => !this.#byId.has(m.id)).length;
    this.messages = [...older, ...this.messages.filter((m) => !seen.has(m.id))];
    for (const m of older) this.#byId.set(m.id, m);
    this.#trim();
    this.version++;
    return added;
  }

  // --- read position ----------------------------------------------------------------------

  /** The index of the last message read (by sequence or on this device); -1 when none. */
  #lastRead(): number {
    const through =
      this.#readThrough === undefined
        ? -1
        : this.messages.findIndex((m) => m.id === this.#readThrough);
    for (let i = this.messages.length - 1; i > through; i--) {
      const seq = this.messages[i]?.seq;
      if (seq !== undefined && seq <= this.readSeq) return i;
    }
    return through;
  }

  /** The unread messages held: others' messages after the read position, not deleted. */
  unreadMessages(me: string): MessageRecord[] {
    return this.messages.slice(this.#lastRead() + 1).filter((m) => m.from !== me && !m.deleted);
  }

  /** How many messages `me` has not read here. */
  unread(me: string): number {
    return this.unreadMessages(me).length + this.unreadBeyond;
  }

  /** The id of the first unread message (where a "new messages" separator goes). */
  firstUnread(me: string): string | undefined {
    return this.unreadMessages(me)[0]?.id;
  }

  /** Marks everything held as read on this device; true if that changed anything. */
  markRead(): boolean {
    const last = this.messages.at(-1)?.id;
    if (last === this.#readThrough && this.unreadBeyond === 0) return false;
    this.#readThrough = last;
    this.unreadBeyond = 0;
    this.version++;
    return true;
  }

  /** The newest sequence of a message read here: what the service should be told. */
  readSeqHere(): number | undefined {
    const at = this.#lastRead();
    for (let i = at; i >= 0; i--) {
      const seq = this.messages[i]?.seq;
      if (seq !== undefined) return seq;
    }
    return undefined;
  }

  /** Whether a message read here still lacks a sequence (it must be looked up). */
  readNeedsSeq(): boolean {
    const at = this.#lastRead();
    return at >= 0 && this.messages[at]?.seq === undefined;
  }

  /**
   * Takes the service's read position (forward only) and, with `unread`, its count of unread
   * messages: those older than what is held count as unreadBeyond. `resetHere` drops this
   * device's own position (the service is the truth once it has answered).
   */
  setReadSeq(seq: number, opts: { unread?: number; resetHere?: boolean; me?: string } = {}): void {
    if (opts.resetHere) this.#readThrough = undefined;
    if (seq > this.readSeq) this.readSeq = seq;
    if (opts.unread !== undefined && opts.me !== undefined) {
      const oldest = this.messages.find((m) => m.seq !== undefined)?.seq;
      const held = this.unreadMessages(opts.me).length;
      this.unreadBeyond =
        oldest !== undefined && oldest > this.readSeq + 1 ? Math.max(0, opts.unread - held) : 0;
    } else {
      const oldest = this.messages.find((m) => m.seq !== undefined)?.seq;
      if (oldest !== undefined && oldest <= this.readSeq + 1) this.unreadBeyond = 0;
    }
    this.version++;
  }

  /** Whether the service's position lies past every sequence held (live messages lack theirs). */
  readBeyondKnown(): boolean {
    const known = this.messages.filter((m) => m.seq !== undefined).map((m) => m.seq as number);
    const max = known.length > 0 ? Math.max(...known) : 0;
    return this.readSeq > max && this.messages.some((m) => m.seq === undefined);
  }

  setHistory(state: HistoryState): void {
    if (this.history === state) return;
    this.history = state;
    this.version++;
  }

  setMuted(muted: boolean): void {
    if (this.muted === muted) return;
    this.muted = muted;
    this.version++;
  }

  setTyping(keys: readonly string[]): void {
    if (keys.length === this.typing.length && keys.every((k, i) => this.typing[i] === k)) return;
    this.typing = keys;
    this.version++;
  }

  setSeparator(id: string | undefined): void {
    if (this.separator === id) return;
    this.separator = id;
    this.version++;
  }

  #trim(): void {
    const extra = this.messages.length - this.maxMessages;
    if (extra <= 0) return;
    for (const m of this.messages.slice(0, extra)) this.#byId.delete(m.id);
    this.messages = this.messages.slice(extra);
  }
}
