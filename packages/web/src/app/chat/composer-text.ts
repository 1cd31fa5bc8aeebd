// Text operations of the composer: the `@name` being typed (for autocomplete), putting a picked
// name in its place, and a message's text as its author edits it (mentions as `@name`, which the
// client core turns back into keys when it signs the edit).
import type { MessageView } from "@natschat/client";

/** The `@prefix` that ends at the caret, if the caret is in one. */
export interface MentionQuery {
  /** Index of the "@". */
  start: number;
  /** What follows the "@" up to the caret (may be empty). */
  prefix: string;
}

// "@" at the start or after a space, then name characters up to the caret.
const MENTION_AT_CARET = /(?:^|\s)@([\p{L}\p{N}_-]*)$/u;

/** The mention being typed at `caret`, or undefined. */
export function mentionQuery(text: string, caret: number): MentionQuery | undefined {
  const m = MENTION_AT_CARET.exec(text.slice(0, caret));
  if (!m) return undefined;
  const prefix = m[1] ?? "";
  return { start: caret - prefix.length - 1, prefix };
}

/** `text` with the query replaced by `@name `, and where the caret goes. */
export function applyMention(
  text: string,
  query: MentionQuery,
  caret: number,
  name: string,
): { text: string; caret: number } {
  const inserted = `@${name} `;
  const rest = text.slice(caret).replace(/^ /, "");
  return {
    text: text.slice(0, query.start) + inserted + rest,
    caret: query.start + inserted.length,
  };
}

/**
 * A message's text for editing: mentions of known users as `@name`; a key whose name is not
 * known yet (shown `~UABC…`) stays in its stored form `<@KEY>`, so the edit keeps it.
 */
export function editableText(m: Pick<MessageView, "segments">): string {
  return m.segments
    .map((s) => {
      if (!("mention" in s)) return s.text;
      return s.display.startsWith("~") ? `<@${s.mention}>` : `@${s.display}`;
    })
    .join("");
}

/** A message as one short line (the reply bar, the delete confirmation). */
export function excerpt(m: Pick<MessageView, "segments">, max = 80): string {
  const line = editableText(m).replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
