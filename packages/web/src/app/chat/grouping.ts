// Groups a conversation's messages for display: consecutive messages of one sender within a few
// minutes share one header (avatar, issued name, time), and a day line separates days.
import type { MessageView } from "@natschat/client";

/** Messages further apart than this start a new group. */
export const GROUP_GAP_MS = 5 * 60 * 1000;

export interface MessageGroup {
  /** Stable React key: the first message's id. */
  id: string;
  from: string;
  /** The issued name, or undefined while the sender's identity is unknown. */
  name: string | undefined;
  display: string;
  mine: boolean;
  time: number;
  messages: MessageView[];
  /** Set on the first group of a calendar day (local time): the day's label. */
  day?: string;
}

const sameDay = (a: number, b: number) => new Date(a).toDateString() === new Date(b).toDateString();

/** "Today", "Yesterday" or a date like "Mon, 3 Nov 2025". */
export function dayLabel(time: number, now = Date.now()): string {
  if (sameDay(time, now)) return "Today";
  if (sameDay(time, now - 86_400_000)) return "Yesterday";
  return new Date(time).toLocaleDateString(undefined, {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
  });
}

/** "14:05" in the reader's locale. */
export function clockTime(time: number): string {
  return new Date(time).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/**
 * Splits messages (in order) into display groups; `breakBefore` (a message id, where the
 * "new messages" line goes) starts a group of its own.
 */
export function groupMessages(
  messages: readonly MessageView[],
  now = Date.now(),
  breakBefore?: string,
): MessageGroup[] {
  const groups: MessageGroup[] = [];
  let last: MessageGroup | undefined;
  let lastTime = 0;
  for (const m of messages) {
    const newDay = last === undefined || !sameDay(lastTime, m.time);
    if (
      last === undefined ||
      newDay ||
      last.from !== m.from ||
      last.display !== m.display ||
      m.time - lastTime > GROUP_GAP_MS ||
      m.id === breakBefore
    ) {
      last = {
        id: m.id,
        from: m.from,
        name: m.name,
        display: m.display,
        mine: m.mine,
        time: m.time,
        messages: [],
        ...(newDay ? { day: dayLabel(m.time, now) } : {}),
      };
      groups.push(last);
    }
    last.messages.push(m);
    lastTime = m.time;
  }
  return groups;
}

/** A stable hue for a user key, for its avatar. */
export function hueOf(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) % 360;
  return h;
}

/** One or two letters for an avatar. */
export function initials(display: string): string {
  // An unverified sender is shown by its key (`~UABCD…WXYZ`): take the key's first letters.
  if (display.startsWith("~")) return display.slice(1, 3).toUpperCase() || "?";
  const clean = display.replace(/[^\p{L}\p{N}]+/gu, " ").trim();
  const parts = clean.split(" ").filter(Boolean);
  const letters =
    parts.length >= 2 ? `${parts[0]?.[0] ?? ""}${parts[1]?.[0] ?? ""}` : clean.slice(0, 2);
  return letters.toUpperCase() || "?";
}
