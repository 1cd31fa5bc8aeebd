// A scripted ChatModel for the terminal UI's tests (no server): a snapshot the test sets, and a
// record of what the UI asked for (selections, sends, reactions, edits, deletes, threads,
// typing, mutes, searches).
import type {
  ChatNotification,
  ChatSnapshot,
  ConversationView,
  MessageView,
  SearchResult,
} from "@natschat/client";
import type { ChatModel } from "@natschat/tui";

export const ME = `U${"A".repeat(55)}`;
export const BOB = `U${"B".repeat(55)}`;
export const CAROL = `U${"C".repeat(55)}`;

/** Message `n` (sent today at 12:n, local time) from `from`, issued `name`. */
export const msg = (
  n: number,
  from: string,
  name: string | undefined,
  text: string,
  over: Partial<MessageView> = {},
): MessageView => ({
  id: `${from}.${n}`,
  from,
  name,
  display: name ?? `~${from.slice(0, 5)}…${from.slice(-4)}`,
  text,
  time: new Date().setHours(12, n, 0, 0),
  mine: from === ME,
  claimedOther: false,
  edited: false,
  reactions: [],
  replies: 0,
  mentionsMe: false,
  segments: [{ text }],
  ...over,
});

export const channel = (
  name: string,
  messages: MessageView[] = [],
  unread = 0,
): ConversationView => ({
  id: `#${name}`,
  kind: "channel",
  title: name,
  messages,
  unread,
  history: "loaded",
  typing: [],
  muted: false,
  mentions: 0,
});

export function snapshot(over: Partial<ChatSnapshot> = {}): ChatSnapshot {
  return {
    version: 1,
    state: "connected",
    reason: undefined,
    me: { key: ME, name: "me" },
    selected: "#KUBECON",
    channels: [
      channel("KUBECON", [msg(1, BOB, "bob", "hello kubecon"), msg(2, ME, "me", "hi bob")]),
      channel("NATS", [], 2),
      channel("General"),
    ],
    dms: [],
    users: [
      { key: ME, name: "me", display: "me", online: true, lastSeen: undefined, me: true },
      { key: BOB, name: "bob", display: "bob", online: true, lastSeen: 1, me: false },
      { key: CAROL, name: "carol", display: "carol", online: false, lastSeen: 1, me: false },
    ],
    drops: {},
    dropped: 0,
    notice: undefined,
    thread: undefined,
    ...over,
  };
}

export class FakeModel implements ChatModel {
  snap = snapshot();
  readonly listeners = new Set<() => void>();
  readonly selected: string[] = [];
  readonly sent: Array<[string, string] | [string, string, { replyTo?: string }]> = [];
  readonly calls: Array<[string, ...unknown[]]> = [];
  readonly notifyListeners = new Set<(n: ChatNotification) => void>();
  searchPages: SearchResult[] = [];
  failNext: string | undefined;
  snapshot = () => this.snap;
  onChange = (cb: () => void) => {
    this.listeners.add(cb);
    return () => void this.listeners.delete(cb);
  };
  select = (target: string) => {
    this.selected.push(target);
    this.update({ selected: target });
  };
  send = async (target: string, text: string, opts?: { replyTo?: string }) => {
    this.#maybeFail();
    this.sent.push(opts ? [target, text, opts] : [target, text]);
  };
  react = async (id: string, emoji: string, on: boolean) => {
    this.#maybeFail();
    this.calls.push(["react", id, emoji, on]);
  };
  edit = async (id: string, text: string) => {
    this.#maybeFail();
    this.calls.push(["edit", id, text]);
  };
  remove = async (id: string) => {
    this.#maybeFail();
    this.calls.push(["remove", id]);
  };
  openThread = (id: string) => {
    this.calls.push(["openThread", id]);
  };
  closeThread = () => {
    this.calls.push(["closeThread"]);
    this.update({ thread: undefined });
  };
  typing = (target: string) => {
    this.calls.push(["typing", target]);
  };
  mute = async (target: string, on: boolean) => {
    this.calls.push(["mute", target, on]);
  };
  search = async (query: string, opts: { conversation?: string; cursor?: string } = {}) => {
    this.calls.push(["search", query, opts.cursor]);
    return this.searchPages.shift() ?? { hits: [] };
  };
  onNotify = (cb: (n: ChatNotification) => void) => {
    this.notifyListeners.add(cb);
    return () => void this.notifyListeners.delete(cb);
  };
  mentionCandidates = (prefix: string) =>
    this.snap.users
      .filter((u) => !u.me && u.name?.startsWith(prefix))
      .map((u) => ({ key: u.key, name: u.name as string }));
  notify(n: ChatNotification) {
    for (const cb of this.notifyListeners) cb(n);
  }
  #maybeFail() {
    if (this.failNext) {
      const m = this.failNext;
      this.failNext = undefined;
      throw new Error(m);
    }
  }
  update(over: Partial<ChatSnapshot>) {
    this.snap = { ...this.snap, ...over, version: this.snap.version + 1 };
    for (const cb of this.listeners) cb();
  }
}
