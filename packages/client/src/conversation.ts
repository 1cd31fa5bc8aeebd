// One conversation (a channel or a DM peer): its verified messages in order, deduplicated by
// sender key + jti so that history and live delivery never show a message twice, and its unread
// count. Names are not stored here: the session resolves them from the identity cache when it
// builds a snapshot, so a sender is always shown under its issued name once that is known.

import type { DmEnvelope, PostEnvelope } from "@natschat/protocol";

/** A verified message as the session keeps it. */
export interface MessageRecord {
  /** `<sender key> <jti>`: unique per message. */
  id: string;
  /** The sender's user key (proven by the signature). */
  from: string;
  /** The name the sender wrote into the message: unverified, never shown as the sender. */
  claimedName: string;
  text: string;
  /** When the sender signed it (its `iat`), ms since the epoch. */
  time: number;
  /** Position in the history stream, for messages that came from history. */
  seq?: number;
  /** For DMs: the recipient key. */
  to?: string;
}

/** The record of a verified post or DM (`seq`: its place in history, if it came from there). */
export function recordOf(e: PostEnvelope | DmEnvelope, seq?: number): MessageRecord {
  return {
    id: `${e.iss} ${e.jti}`,
    from: e.iss,
    claimedName: e.claimedName,
    text: e.msg,
    time: e.iat * 1000,
    ...(seq === undefined ? {} : { seq }),
    ...("to" in e ? { to: e.to } : {}),
  };
}

/** Where a conversation's history stands. */
export type HistoryState = "loading" | "loaded" | "failed";

/** A channel or a DM conversation. */
export class Conversation {
  messages: MessageRecord[] = [];
  unread = 0;
  history: HistoryState = "loading";
  /** Bumped on every change; snapshots cache their view per version. */
  version = 0;
  readonly #ids = new Set<string>();

  constructor(
    readonly id: string,
    readonly kind: "channel" | "dm",
    /** The channel name, or the peer's user key. */
    readonly target: string,
    readonly maxMessages: number,
  ) {}

  /** True if this message is already shown. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Appends a live message; false if it is a duplicate. */
  append(m: MessageRecord): boolean {
    if (this.#ids.has(m.id)) return false;
    this.messages.push(m);
    this.#ids.add(m.id);
    this.#trim();
    this.version++;
    return true;
  }

  /**
   * Puts history (in stream order) before what arrived live while it loaded; a message in both
   * keeps its history position. Returns how many history messages were new.
   */
  mergeHistory(history: MessageRecord[]): number {
    const seen = new Set<string>();
    const older: MessageRecord[] = [];
    for (const m of history) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      older.push(m);
    }
    const added = older.filter((m) => !this.#ids.has(m.id)).length;
    this.messages = [...older, ...this.messages.filter((m) => !seen.has(m.id))];
    for (const id of seen) this.#ids.add(id);
    this.#trim();
    this.version++;
    return added;
  }

  /** Marks everything read; true if that changed anything. */
  markRead(): boolean {
    if (this.unread === 0) return false;
    this.unread = 0;
    this.version++;
    return true;
  }

  setHistory(state: HistoryState): void {
    if (this.history === state) return;
    this.history = state;
    this.version++;
  }

  #trim(): void {
    const extra = this.messages.length - this.maxMessages;
    if (extra <= 0) return;
    for (const m of this.messages.slice(0, extra)) this.#ids.delete(m.id);
    this.messages = this.messages.slice(extra);
  }
}
