// The message pane as terminal rows: every message wrapped here, to the pane's width, into rows
// of one line each, so the pane shows exactly the rows that fit and scrolls by rows. Ink is not
// left to wrap and clip the messages itself: a message cut at the top of an overflow-hidden box
// drew its wrapped tail over the next message's first line (Ink 6.8), and a message count cannot
// say how many rows a scroll moves. Widths are terminal cells (wrap-ansi measures with string-width:
// wide CJK and emoji take two), and words wrap as Ink's own do (a link longer than a row breaks).
//
// Message text is someone else's: every control character (ESC, so no colors, cursor moves,
// OSC 8 links or OSC 52 clipboard writes, and C1 controls) is shown as a visible '�', and a tab
// as a space, before it reaches the terminal.
import type { MessageView } from "@natschat/client";
import wrapAnsi from "wrap-ansi";

/** One row of the message pane. */
export interface Row {
  /** Unique and stable for React: the message id and the row's index in it. */
  key: string;
  /** On a message's first row: its time and sender, as shown at the row's start. */
  head?: { time: string; name: string; mine: boolean; known: boolean };
  /** The rest of the row (after the head and ": " on a first row). */
  text: string;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** HH:MM in local time. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** When a message was sent: HH:MM today, "Mon D HH:MM" on another day (local time). */
export function stamp(ms: number, now: number): string {
  const d = new Date(ms);
  const today = new Date(now);
  const sameDay =
    d.getFullYear() === today.getFullYear() &&
    d.getMonth() === today.getMonth() &&
    d.getDate() === today.getDate();
  return sameDay ? clock(ms) : `${MONTHS[d.getMonth()]} ${d.getDate()} ${clock(ms)}`;
}

// C0 controls but newline, DEL, and C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/** Message text safe to print: tabs as a space, other control characters as '�'. */
export function printable(text: string): string {
  return text.replace(/\t/g, " ").replace(CONTROL, "\uFFFD");
}

const cache = new WeakMap<MessageView, { width: number; now: string; rows: Row[] }>();

/** The rows of one message at `width` cells (cached per message view and width). */
export function rowsOf(m: MessageView, width: number, now: number): Row[] {
  const time = stamp(m.time, now);
  const hit = cache.get(m);
  if (hit && hit.width === width && hit.now === time) return hit.rows;
  const head = `${time} ${m.display}`;
  const lines = wrapAnsi(`${head}: ${printable(m.text)}`, Math.max(1, width), {
    hard: true,
    trim: true,
  }).split("\n");
  const rows = lines.map((line, i): Row => {
    if (i === 0 && line.startsWith(`${head}:`)) {
      return {
        key: `${m.id}/0`,
        head: { time, name: m.display, mine: m.mine, known: m.name !== undefined },
        text: line.slice(head.length + 1).trimStart(),
      };
    }
    return { key: `${m.id}/${i}`, text: line };
  });
  cache.set(m, { width, now: time, rows });
  return rows;
}

/** Every row of `messages`, oldest first. */
export function messageRows(messages: readonly MessageView[], width: number, now: number): Row[] {
  return messages.flatMap((m) => rowsOf(m, width, now));
}

/** The first row of the newest page: where a pane of `height` rows that follows the chat starts. */
export function lastPageTop(total: number, height: number): number {
  return Math.max(0, total - height);
}

/**
 * The rows a pane of `height` shows: from row `top` when the reader scrolled up (clamped so the
 * page is full), or the newest page when `top` is undefined (following the chat).
 */
export function visibleRows(rows: readonly Row[], height: number, top: number | undefined): Row[] {
  const last = lastPageTop(rows.length, height);
  const start = top === undefined ? last : Math.min(Math.max(0, top), last);
  return rows.slice(start, start + height);
}

/** Plain lines (help text) wrapped to `width` cells, one row each. */
export function wrapLines(lines: readonly string[], width: number): string[] {
  return lines.flatMap((l) =>
    l === "" ? [""] : wrapAnsi(l, Math.max(1, width), { hard: true, trim: true }).split("\n"),
  );
}
