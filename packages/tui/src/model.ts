// What the terminal chat needs from a session (ChatSession satisfies it; tests pass a fake),
// and the pure derivations the UI renders: sidebar entries and the messages that fit a pane.
import type { ChatSnapshot, MessageView } from "@natschat/client";

/** The part of ChatSession the UI uses. */
export interface ChatModel {
  snapshot(): ChatSnapshot;
  onChange(cb: () => void): () => void;
  select(target: string): void;
  send(target: string, text: string): Promise<void>;
}

/** One line of the sidebar. */
export interface SidebarEntry {
  /** Conversation id: "#CHANNEL" or "@<key>". */
  id: string;
  kind: "channel" | "dm";
  label: string;
  unread: number;
  /** DMs: whether the peer is online. */
  online?: boolean;
}

/** Channels first, then DM conversations and online users to start one with, by name. */
export function sidebarEntries(s: ChatSnapshot): SidebarEntry[] {
  const channels: SidebarEntry[] = s.channels.map((c) => ({
    id: c.id,
    kind: "channel",
    label: `#${c.title}`,
    unread: c.unread,
  }));
  const dms = new Map<string, SidebarEntry>();
  for (const d of s.dms) {
    if (d.peer === s.me.key) continue;
    dms.set(d.id, { id: d.id, kind: "dm", label: d.title, unread: d.unread, online: !!d.online });
  }
  for (const u of s.users) {
    const id = `@${u.key}`;
    if (u.me || !u.online || dms.has(id)) continue;
    dms.set(id, { id, kind: "dm", label: u.display, unread: 0, online: true });
  }
  const people = [...dms.values()].sort((a, b) => a.label.localeCompare(b.label));
  return [...channels, ...people];
}

/** HH:MM in local time. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** Lines a message takes when wrapped to `width` columns. */
export function linesOf(m: MessageView, width: number): number {
  const text = `${clock(m.time)} ${m.display}: ${m.text}`;
  return text
    .split("\n")
    .reduce((n, line) => n + Math.max(1, Math.ceil(line.length / Math.max(1, width))), 0);
}

/** The newest messages that fit `height` lines of `width` columns, skipping `scroll` newest. */
export function visibleMessages(
  messages: readonly MessageView[],
  width: number,
  height: number,
  scroll = 0,
): MessageView[] {
  const end = Math.max(0, messages.length - scroll);
  const out: MessageView[] = [];
  let used = 0;
  for (let i = end - 1; i >= 0; i--) {
    const m = messages[i] as MessageView;
    const n = linesOf(m, width);
    if (used + n > height && out.length > 0) break;
    out.unshift(m);
    used += n;
  }
  return out;
}
