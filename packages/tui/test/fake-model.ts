// A scripted ChatModel for the terminal UI's tests (no server): a snapshot the test sets, and a
// record of what the UI asked for (selections, sends).
import type { ChatSnapshot, ConversationView, MessageView } from "@natschat/client";
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
): MessageView => ({
  id: `${from} ${n}`,
  from,
  name,
  display: name ?? `~${from.slice(0, 5)}…${from.slice(-4)}`,
  text,
  time: new Date().setHours(12, n, 0, 0),
  mine: from === ME,
  claimedOther: false,
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
    ...over,
  };
}

export class FakeModel implements ChatModel {
  snap = snapshot();
  readonly listeners = new Set<() => void>();
  readonly selected: string[] = [];
  readonly sent: Array<[string, string]> = [];
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
  send = async (target: string, text: string) => {
    if (this.failNext) {
      const m = this.failNext;
      this.failNext = undefined;
      throw new Error(m);
    }
    this.sent.push([target, text]);
  };
  update(over: Partial<ChatSnapshot>) {
    this.snap = { ...this.snap, ...over, version: this.snap.version + 1 };
    for (const cb of this.listeners) cb();
  }
}
