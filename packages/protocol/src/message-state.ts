// The current state of a stored message — its latest edit, its deletion, its reactions and its
// thread — and the one pure reducer that decides every rule of the message events (issue 13).
// The history service keeps one state per message (KV bucket natschat-state, key `p.<seq>` or
// `d.<seq>`), applies each verified event with applyMessageEvent and compare-and-sets the result,
// so a page returns the current state without the client replaying events. Clients show what the
// service returns; the edited text stays the author's own signed words (the `edit` token).
import type { EventEnvelope, ModerateEnvelope } from "./envelope.ts";
import { DELETE_TYPE, EDIT_TYPE, MODERATE_TYPE, REACT_TYPE } from "./envelope.ts";
import { isMessageId } from "./message-id.ts";
import { isPublicKey } from "./nkey.ts";
import type { Conv } from "./subjects.ts";

/** Most distinct emoji on one message. */
export const MAX_DISTINCT_REACTIONS = 20;
/** Most reactions on one message, over all emoji. */
export const MAX_REACTIONS = 500;

/** Who deleted a message: its author, or an admin (moderation). */
export type DeletedBy = "author" | "admin";

/** A stored message's current state; absent fields mean "as sent". */
export interface MessageState {
  /** The latest chat-edit token (signed by the author): its `msg` is the current text. */
  edit?: string;
  /** Set once the message is deleted; the service then withholds its body and edit. */
  deleted?: { by: DeletedBy; at: string };
  /** Emoji → the user keys that reacted with it, in the order they did. */
  reactions?: Record<string, string[]>;
  /** Replies in its thread: how many, and the newest one's message id. */
  replies?: { count: number; last: string };
}

/** What the service knows of a stored target message. */
export interface TargetMessage {
  /** `<authorKey>.<jti>`. */
  id: string;
  /** The author's key (its stored subject's last token, which the server proved). */
  author: string;
  /** Where it is stored: a channel, or the DM between `recipient` and the author. */
  where: { kind: "post"; channel: string } | { kind: "dm"; recipient: string };
}

/** The outcome of applying an event. */
export type ApplyResult =
  | { ok: true; state: MessageState; changed: boolean }
  | { ok: false; code: "NOT_FOUND" | "FORBIDDEN" | "LIMIT"; message: string };

/** Whether the event's conversation, seen from its sender, is the one the target is stored in. */
function sameConversation(target: TargetMessage, sender: string, conv: Conv): boolean {
  if (target.where.kind === "post")
    return conv.kind === "post" && conv.channel === target.where.channel;
  if (conv.kind !== "dm") return false;
  const pair = [target.author, target.where.recipient].sort().join(" ");
  return [sender, conv.peer].sort().join(" ") === pair;
}

const refuse = (code: "NOT_FOUND" | "FORBIDDEN" | "LIMIT", message: string): ApplyResult => ({
  ok: false,
  code,
  message,
});

/**
 * Applies one verified event (or an admin removal) to the state of `target` (undefined: no such
 * stored message). `token` is the event's signed form (kept as the latest edit); `now` dates a
 * deletion. Never throws; the input state is not modified.
 */
export function applyMessageEvent(
  target: TargetMessage | undefined,
  state: MessageState,
  event: EventEnvelope | ModerateEnvelope,
  token: string,
  now: Date,
): ApplyResult {
  if (!target || target.id !== event.target) {
    return refuse("NOT_FOUND", "there is no such message");
  }
  if (event.type === MODERATE_TYPE) {
    if (state.deleted) return { ok: true, state, changed: false };
    return { ok: true, state: tombstone(state, "admin", now), changed: true };
  }
  if (!sameConversation(target, event.iss, event.conv)) {
    return refuse("NOT_FOUND", "there is no such message in this conversation");
  }
  if (event.type === DELETE_TYPE) {
    if (event.iss !== target.author)
      return refuse("FORBIDDEN", "only its author may delete a message");
    if (state.deleted) return { ok: true, state, changed: false };
    return { ok: true, state: tombstone(state, "author", now), changed: true };
  }
  if (state.deleted) return refuse("NOT_FOUND", "the message was deleted");
  if (event.type === EDIT_TYPE) {
    if (event.iss !== target.author)
      return refuse("FORBIDDEN", "only its author may edit a message");
    return { ok: true, state: { ...state, edit: token }, changed: true };
  }
  if (event.type === REACT_TYPE) return react(state, event.iss, event.emoji, event.op);
  return refuse("NOT_FOUND", "unknown event");
}

function tombstone(state: MessageState, by: DeletedBy, now: Date): MessageState {
  // the words and reactions go; the thread stays (its replies are their authors' messages)
  return {
    deleted: { by, at: now.toISOString() },
    ...(state.replies ? { replies: state.replies } : {}),
  };
}

function react(state: MessageState, who: string, emoji: string, op: "add" | "remove"): ApplyResult {
  const reactions = { ...(state.reactions ?? {}) };
  const list = reactions[emoji] ?? [];
  if (op === "remove") {
    if (!list.includes(who)) return { ok: true, state, changed: false };
    const rest = list.filter((k) => k !== who);
    if (rest.length > 0) reactions[emoji] = rest;
    else delete reactions[emoji];
    const { reactions: _, ...others } = state;
    return {
      ok: true,
      state: Object.keys(reactions).length > 0 ? { ...others, reactions } : others,
      changed: true,
    };
  }
  if (list.includes(who)) return { ok: true, state, changed: false };
  if (list.length === 0 && Object.keys(reactions).length >= MAX_DISTINCT_REACTIONS) {
    return refuse("LIMIT", `a message holds at most ${MAX_DISTINCT_REACTIONS} different emoji`);
  }
  const total = Object.values(reactions).reduce((n, l) => n + l.length, 0);
  if (total >= MAX_REACTIONS) {
    return refuse("LIMIT", `a message holds at most ${MAX_REACTIONS} reactions`);
  }
  reactions[emoji] = [...list, who];
  return { ok: true, state: { ...state, reactions }, changed: true };
}

/** Counts one more reply (message id `reply`) in the thread of a message. */
export function addReply(state: MessageState, reply: string): MessageState {
  return { ...state, replies: { count: (state.replies?.count ?? 0) + 1, last: reply } };
}

/** Encodes a state (JSON). */
export function encodeMessageState(state: MessageState): string {
  return JSON.stringify(state);
}

/**
 * Parses a state written by the service; undefined when it is not one (a reader then treats the
 * message as having no state, and a writer refuses to build on it).
 */
export function parseMessageState(value: unknown): MessageState | undefined {
  let o: unknown = value;
  if (typeof value === "string") {
    try {
      o = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  const out: MessageState = {};
  if (r.edit !== undefined) {
    if (typeof r.edit !== "string" || r.edit.length > 16_384) return undefined;
    out.edit = r.edit;
  }
  if (r.deleted !== undefined) {
    const d = r.deleted as Record<string, unknown> | null;
    if (typeof d !== "object" || d === null) return undefined;
    if ((d.by !== "author" && d.by !== "admin") || typeof d.at !== "string") return undefined;
    out.deleted = { by: d.by, at: d.at };
  }
  if (r.reactions !== undefined) {
    const re = r.reactions as Record<string, unknown> | null;
    if (typeof re !== "object" || re === null || Array.isArray(re)) return undefined;
    const reactions: Record<string, string[]> = {};
    for (const [emoji, keys] of Object.entries(re)) {
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string" && isPublicKey(k, "U")))
        return undefined;
      reactions[emoji] = keys as string[];
    }
    out.reactions = reactions;
  }
  if (r.replies !== undefined) {
    const rp = r.replies as Record<string, unknown> | null;
    if (typeof rp !== "object" || rp === null) return undefined;
    if (!Number.isSafeInteger(rp.count) || (rp.count as number) < 0 || !isMessageId(rp.last))
      return undefined;
    out.replies = { count: rp.count as number, last: rp.last as string };
  }
  return out;
}
