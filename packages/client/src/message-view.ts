// How a message is shown: the MessageView the UIs render, built from a held record. The text is
// cut at its mentions (stored as `<@KEY>`, shown under the key's current issued name), the
// reactions become counts with who reacted, a reply quotes its target when it is held here, and
// a deleted message shows no text. Pure: the store, the thread and search build views with it.
import { type DeletedBy, splitMentions } from "@natschat/protocol";
import { currentText, type MessageRecord } from "./conversation.ts";
import { shortKey } from "./identity.ts";

/** A run of a message's text: plain text, or a mention of a user key with the name to show. */
export type Segment = { text: string } | { mention: string; display: string };

/** One emoji's reactions on a message. */
export interface ReactionView {
  emoji: string;
  count: number;
  /** Whether we reacted with it. */
  mine: boolean;
  /** Display names of who reacted, in order. */
  who: readonly string[];
}

/** What a reply answers: the target's sender and the start of its text, or "not available". */
export type ReplyRef =
  | { id: string; display: string; excerpt: string }
  | { id: string; missing: true };

/** A message as the UIs show it. */
export interface MessageView {
  /** The message id, `<sender key>.<jti>`: what react/edit/remove/openThread take. */
  id: string;
  /** Sender's user key. */
  from: string;
  /** The issued name of the sender, or undefined while its identity is unknown. */
  name: string | undefined;
  /** What to show as the sender: the issued name, or the key's short form (`~UABCD…WXYZ`). */
  display: string;
  /** The current text (edited text once edited; empty once deleted; mentions as `<@KEY>`). */
  text: string;
  /** The current text cut at its mentions. */
  segments: readonly Segment[];
  /** Sender's signing time, ms since the epoch. */
  time: number;
  mine: boolean;
  /** The message claims a name other than the sender's issued name (shown under the issued). */
  claimedOther: boolean;
  /** Stream sequence, once known. */
  seq?: number;
  /** Edited by its author (the text is the edit's). */
  edited: boolean;
  /** Deleted, by its author or an admin: show a tombstone. */
  deleted?: DeletedBy;
  reactions: readonly ReactionView[];
  /** A reply: what it answers. */
  replyTo?: ReplyRef;
  /** Replies in its thread. */
  replies: number;
  /** Its text mentions us. */
  mentionsMe: boolean;
}

/** What building a view needs to know. */
export interface ViewContext {
  me: string;
  /** The issued name of a key, if known. */
  names: (key: string) => string | undefined;
  /** A held message by id (for a reply's quote). */
  find: (id: string) => MessageRecord | undefined;
}

/** The name to show for a key: its issued name, or its short form. */
export function displayOf(ctx: ViewContext, key: string): string {
  return ctx.names(key) ?? shortKey(key);
}

/** Longest quote of a reply's target, in characters. */
const EXCERPT_MAX = 80;

/** A text as one short line, mentions as `@name`. */
export function excerptOf(ctx: ViewContext, m: MessageRecord): string {
  const plain = segmentsOf(ctx, currentText(m))
    .map((s) => ("mention" in s ? `@${s.display}` : s.text))
    .join("")
    .replace(/\s+/g, " ")
    .trim();
  return plain.length > EXCERPT_MAX ? `${plain.slice(0, EXCERPT_MAX - 1)}…` : plain;
}

/** A text cut at its mentions, each with its current display name. */
export function segmentsOf(ctx: ViewContext, text: string): Segment[] {
  return splitMentions(text).map((s) =>
    "mention" in s ? { mention: s.mention, display: displayOf(ctx, s.mention) } : s,
  );
}

/** The view of a held message. */
export function messageView(ctx: ViewContext, m: MessageRecord): MessageView {
  const name = ctx.names(m.from);
  const text = currentText(m);
  const segments = segmentsOf(ctx, text);
  const reactions = Object.entries(m.reactions ?? {}).map(
    ([emoji, keys]): ReactionView =>
      Object.freeze({
        emoji,
        count: keys.length,
        mine: keys.includes(ctx.me),
        who: Object.freeze(keys.map((k) => displayOf(ctx, k))),
      }),
  );
  return Object.freeze({
    id: m.id,
    from: m.from,
    name,
    display: name ?? shortKey(m.from),
    text,
    segments: Object.freeze(segments),
    time: m.time,
    mine: m.from === ctx.me,
    claimedOther: !m.deleted && name !== undefined && m.claimedName !== name,
    ...(m.seq === undefined ? {} : { seq: m.seq }),
    edited: m.edited !== undefined && !m.deleted,
    ...(m.deleted ? { deleted: m.deleted } : {}),
    reactions: Object.freeze(reactions),
    ...(m.re === undefined ? {} : { replyTo: replyRef(ctx, m.re) }),
    replies: m.replies ?? 0,
    mentionsMe: segments.some((s) => "mention" in s && s.mention === ctx.me),
  });
}

function replyRef(ctx: ViewContext, id: string): ReplyRef {
  const target = ctx.find(id);
  if (!target || target.deleted) return Object.freeze({ id, missing: true as const });
  return Object.freeze({
    id,
    display: displayOf(ctx, target.from),
    excerpt: excerptOf(ctx, target),
  });
}
