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
// Around a message's text: a quote row above a reply ("↪ alice: first words…"), "(edited)", a
// tombstone for a deleted message, and a row under it with its reactions and reply count
// ("👍 2  🎉 1 · 2 replies"). Mentions are shown as "@name" in bold (yellow when they name me);
// the styles are SGR codes added by chalk after the text was made printable, and wrap-ansi
// carries them across wrapped rows.
import type { MessageView } from "@natschat/client";
import chalk from "chalk";
import wrapAnsi from "wrap-ansi";

/** One row of the message pane. */
export interface Row {
  /** Unique and stable for React: the message id and the row's index in it. */
  key: string;
  /** The id of the message this row belongs to (none: a separator). */
  message?: string;
  /** How the row is drawn: a message's own rows, its quote, its reactions, or a separator. */
  kind: "body" | "quote" | "meta" | "separator";
  /** On a message's first row: its time and sender, as shown at the row's start. */
  head?: { time: string; name: string; mine: boolean; known: boolean };
  /** The rest of the row (after the head and ": " on a first row); may carry SGR styles. */
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

/** What a tombstone says. */
export function tombstone(by: "author" | "admin"): string {
  return by === "admin" ? "removed by an admin" : "message deleted";
}

/** The text of a message as typed (mentions as "@name"), to edit it. */
export function plainText(m: MessageView): string {
  return m.segments.map((s) => ("mention" in s ? `@${s.display}` : s.text)).join("");
}

/** The text of a message, printable, with its mentions styled and its edit mark. */
function styledText(m: MessageView, me: string | undefined): string {
  if (m.deleted) return chalk.dim.italic(tombstone(m.deleted));
  const body = m.segments
    .map((s) => {
      if (!("mention" in s)) return printable(s.text);
      const at = `@${printable(s.display)}`;
      return s.mention === me ? chalk.bold.yellow(at) : chalk.bold(at);
    })
    .join("");
  return m.edited ? `${body} ${chalk.dim("(edited)")}` : body;
}

/** "👍 2  🎉 1 · 2 replies", or "" when there is neither. */
export function metaLine(m: MessageView): string {
  const reactions = m.reactions.map((r) => {
    const item = `${printable(r.emoji)} ${r.count}`;
    return r.mine ? chalk.bold.cyan(item) : item;
  });
  const replies =
    m.replies > 0 ? [chalk.dim(m.replies === 1 ? "1 reply" : `${m.replies} replies`)] : [];
  return [reactions.join("  "), ...replies].filter((p) => p !== "").join(" · ");
}

/** The quote row of a reply: "↪ alice: first words…" (one row, cut by the pane). */
export function quoteLine(m: MessageView): string | undefined {
  const r = m.replyTo;
  if (!r) return undefined;
  if ("missing" in r) return "↪ original not available";
  return `↪ ${printable(r.display)}: ${printable(r.excerpt)}`;
}

const cache = new WeakMap<
  MessageView,
  { width: number; now: string; me: string | undefined; quote: boolean; rows: Row[] }
>();

/**
 * The rows of one message at `width` cells (cached per message view and width); mentions of
 * `me` (a user key) stand out. A reply to `rootId` has no quote line (in its thread, it is
 * under its root already).
 */
export function rowsOf(
  m: MessageView,
  width: number,
  now: number,
  me?: string,
  rootId?: string,
): Row[] {
  const time = stamp(m.time, now);
  const quote = quoteLine(m);
  const quoted = quote !== undefined && (rootId === undefined || m.replyTo?.id !== rootId);
  const hit = cache.get(m);
  if (hit && hit.width === width && hit.now === time && hit.me === me && hit.quote === quoted) {
    return hit.rows;
  }
  const head = `${time} ${m.display}`;
  const cells = Math.max(1, width);
  const lines = wrapAnsi(`${head}: ${styledText(m, me)}`, cells, { hard: true, trim: true }).split(
    "\n",
  );
  const rows: Row[] = [];
  if (quoted && quote !== undefined)
    rows.push({ key: `${m.id}/q`, message: m.id, kind: "quote", text: quote });
  lines.forEach((line, i) => {
    if (i === 0 && line.startsWith(`${head}:`)) {
      rows.push({
        key: `${m.id}/0`,
        message: m.id,
        kind: "body",
        head: { time, name: m.display, mine: m.mine, known: m.name !== undefined },
        text: line.slice(head.length + 1).trimStart(),
      });
    } else rows.push({ key: `${m.id}/${i}`, message: m.id, kind: "body", text: line });
  });
  const meta = metaLine(m);
  if (meta !== "") {
    wrapAnsi(`  ${meta}`, cells, { hard: true, trim: false })
      .split("\n")
      .forEach((line, i) => {
        rows.push({ key: `${m.id}/m${i}`, message: m.id, kind: "meta", text: line });
      });
  }
  cache.set(m, { width, now: time, me, quote: quoted, rows });
  return rows;
}

/** A separator row across the pane: "── new ───…". */
export function separator(key: string, label: string, width: number): Row {
  const lead = `── ${label} `;
  return { key, kind: "separator", text: lead + "─".repeat(Math.max(2, width - lead.length)) };
}

/**
 * Every row of `messages`, oldest first, with the "new" separator above `firstUnread` (the
 * first message after the read position) when given; mentions of `me` stand out; replies to
 * `rootId` (a thread's) without their quote line.
 */
export function messageRows(
  messages: readonly MessageView[],
  width: number,
  now: number,
  opts: { me?: string; firstUnread?: string; rootId?: string } = {},
): Row[] {
  return messages.flatMap((m) => {
    const rows = rowsOf(m, width, now, opts.me, opts.rootId);
    return m.id === opts.firstUnread ? [separator("new", "new", width), ...rows] : rows;
  });
}

/** The first and last row of message `id` in `rows`, if it is there. */
export function spanOf(
  rows: readonly Row[],
  id: string,
): { first: number; last: number } | undefined {
  const first = rows.findIndex((r) => r.message === id);
  if (first < 0) return undefined;
  let last = first;
  while (rows[last + 1]?.message === id) last++;
  return { first, last };
}

/**
 * The top row that shows rows `span` in a pane of `height` that now starts at `top` (undefined:
 * following the newest): unchanged when they are on screen already.
 */
export function topShowing(
  total: number,
  height: number,
  top: number | undefined,
  span: { first: number; last: number },
): number | undefined {
  const last = lastPageTop(total, height);
  const start = top === undefined ? last : Math.min(Math.max(0, top), last);
  let next = start;
  if (span.last >= start + height) next = span.last - height + 1;
  if (span.first < next) next = span.first;
  return next >= last ? undefined : next;
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
