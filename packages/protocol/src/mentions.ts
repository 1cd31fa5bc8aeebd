// Mentions (issue 13): a message text holds a mention as `<@KEY>` (the user key), never the name,
// so a rename cannot retarget it; clients show it as `@<current issued name>`.
import { isPublicKey } from "./nkey.ts";

const MENTION = /<@(U[A-Z2-7]{55})>/g;

/** The text form of a mention of `key`. */
export function mentionOf(key: string): string {
  return `<@${key}>`;
}

/** The user keys a text mentions, each once, in order. */
export function mentionsOf(text: string): string[] {
  const keys: string[] = [];
  for (const m of text.matchAll(MENTION)) {
    const key = m[1] as string;
    if (isPublicKey(key, "U") && !keys.includes(key)) keys.push(key);
  }
  return keys;
}

/** A text cut at its mentions. */
export type TextSegment = { text: string } | { mention: string };

/** Splits a text into plain runs and mentions (keys), in order. */
export function splitMentions(text: string): TextSegment[] {
  const out: TextSegment[] = [];
  let at = 0;
  for (const m of text.matchAll(MENTION)) {
    const key = m[1] as string;
    if (!isPublicKey(key, "U")) continue;
    if (m.index > at) out.push({ text: text.slice(at, m.index) });
    out.push({ mention: key });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}
