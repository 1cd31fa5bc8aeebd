// What the terminal chat needs from a session (ChatSession satisfies it; tests pass a fake),
// and the pure derivations the UI renders from a snapshot: sidebar entries, names to keys.
import type {
  ChatNotification,
  ChatSnapshot,
  MentionCandidate,
  NotifyReason,
  SearchOptions,
  SearchResult,
  SendOptions,
} from "@natschat/client";

/** Why a conversation asks for attention: someone mentioned me, or sent me a DM. */
export type AlertReason = NotifyReason;

/** The part of ChatSession the UI uses. */
export interface ChatModel {
  snapshot(): ChatSnapshot;
  onChange(cb: () => void): () => void;
  select(target: string): void;
  send(target: string, text: string, opts?: SendOptions): Promise<void>;
  react(messageId: string, emoji: string, on: boolean): Promise<void>;
  edit(messageId: string, text: string): Promise<void>;
  remove(messageId: string): Promise<void>;
  openThread(messageId: string): unknown;
  closeThread(): unknown;
  typing(target: string): unknown;
  mute(target: string, on: boolean): unknown;
  search(query: string, opts?: SearchOptions): Promise<SearchResult>;
  onNotify(cb: (n: ChatNotification) => void): () => void;
  mentionCandidates(prefix: string): MentionCandidate[];
}

/** One line of the sidebar. */
export interface SidebarEntry {
  /** Conversation id: "#CHANNEL" or "@<key>". */
  id: string;
  kind: "channel" | "dm";
  label: string;
  unread: number;
  /** Unread messages that mention me. */
  mentions: number;
  muted: boolean;
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
    mentions: c.mentions,
    muted: c.muted,
  }));
  const dms = new Map<string, SidebarEntry>();
  for (const d of s.dms) {
    if (d.peer === s.me.key) continue;
    dms.set(d.id, {
      id: d.id,
      kind: "dm",
      label: d.title,
      unread: d.unread,
      mentions: d.mentions,
      muted: d.muted,
      online: !!d.online,
    });
  }
  const person = (id: string, label: string, online: boolean): SidebarEntry => ({
    id,
    kind: "dm",
    label,
    unread: 0,
    mentions: 0,
    muted: false,
    online,
  });
  for (const u of s.users) {
    const id = `@${u.key}`;
    if (u.me || !u.online || dms.has(id)) continue;
    dms.set(id, person(id, u.display, true));
  }
  const byLabel = (a: SidebarEntry, b: SidebarEntry) => a.label.localeCompare(b.label);
  const offline: SidebarEntry[] = s.users
    .filter((u) => !u.me && !u.online && u.name !== undefined && !dms.has(`@${u.key}`))
    .map((u) => person(`@${u.key}`, u.display, false));
  return [...channels, ...[...dms.values()].sort(byLabel), ...offline.sort(byLabel)];
}

/** The key of the known user issued `name` (online or not), if there is one. */
export function userKeyByName(s: ChatSnapshot, name: string): string | undefined {
  return s.users.find((u) => u.name === name)?.key;
}

/** How a conversation id reads in a line: "#NATS", or "@bob" for a DM. */
export function conversationLabel(s: ChatSnapshot, id: string): string {
  if (!id.startsWith("@")) return id;
  const key = id.slice(1);
  return `@${s.users.find((u) => u.key === key)?.display ?? `${key.slice(0, 6)}…`}`;
}
