// What the terminal chat needs from a session (ChatSession satisfies it; tests pass a fake),
// and the pure derivations the UI renders from a snapshot: sidebar entries, names to keys.
import type { ChatSnapshot } from "@natschat/client";

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

/**
 * Channels first; then DM conversations and online users, by name; then the other users this
 * chat knows by name (offline: a DM to them is kept until they are back).
 */
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
  const byLabel = (a: SidebarEntry, b: SidebarEntry) => a.label.localeCompare(b.label);
  const offline: SidebarEntry[] = s.users
    .filter((u) => !u.me && !u.online && u.name !== undefined && !dms.has(`@${u.key}`))
    .map((u) => ({ id: `@${u.key}`, kind: "dm", label: u.display, unread: 0, online: false }));
  return [...channels, ...[...dms.values()].sort(byLabel), ...offline.sort(byLabel)];
}

/** The key of the known user issued `name` (online or not), if there is one. */
export function userKeyByName(s: ChatSnapshot, name: string): string | undefined {
  return s.users.find((u) => u.name === name)?.key;
}
