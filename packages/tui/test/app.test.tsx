// Ink component tests of the chat screen with a scripted model (no server): layout, names,
// unread markers, online dots, focus and keys, sending, status line.
import type { ChatSnapshot, ConversationView, MessageView } from "@natschat/client";
import { ChatApp, type ChatModel, sidebarEntries, visibleMessages } from "@natschat/tui";
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";

const ME = `U${"A".repeat(55)}`;
const BOB = `U${"B".repeat(55)}`;
const CAROL = `U${"C".repeat(55)}`;

const msg = (n: number, from: string, name: string | undefined, text: string): MessageView => ({
  id: `${from} ${n}`,
  from,
  name,
  display: name ?? `~${from.slice(0, 5)}…${from.slice(-4)}`,
  text,
  time: Date.UTC(2024, 0, 1, 12, n),
  mine: from === ME,
  claimedOther: false,
});

const channel = (name: string, messages: MessageView[] = [], unread = 0): ConversationView => ({
  id: `#${name}`,
  kind: "channel",
  title: name,
  messages,
  unread,
  history: "loaded",
});

function snapshot(over: Partial<ChatSnapshot> = {}): ChatSnapshot {
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

class FakeModel implements ChatModel {
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

/** Renders and returns helpers; waits for Ink to flush between key presses. */
function mount(model: FakeModel, quit: () => void = () => undefined) {
  const r = render(<ChatApp model={model} onQuit={quit} columns={100} rows={20} />);
  const frame = () => r.lastFrame() ?? "";
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  const press = async (keys: string) => {
    r.stdin.write(keys);
    await tick();
    await tick();
  };
  return { ...r, frame, press, tick };
}

/** Waits until the frame satisfies `pred`, failing loudly after 2 s. */
async function until(frame: () => string, pred: (f: string) => boolean, what: string) {
  const deadline = Date.now() + 2000;
  while (!pred(frame())) {
    if (Date.now() > deadline) throw new Error(`frame never showed ${what}:\n${frame()}`);
    await new Promise((r) => setImmediate(r));
  }
}

let unmount: (() => void) | undefined;
afterEach(() => {
  unmount?.();
  unmount = undefined;
});

describe("ChatApp", () => {
  it("shows channels, DMs with online dots, unread markers, messages and the status", () => {
    const model = new FakeModel();
    const r = mount(model);
    unmount = r.unmount;
    const f = r.frame();
    expect(f).toContain("#KUBECON");
    expect(f).toContain("#NATS (2)");
    expect(f).toContain("● bob");
    expect(f).not.toContain("carol"); // offline, no conversation: not listed
    expect(f).toMatch(/\d\d:\d\d bob: hello kubecon/);
    expect(f).toMatch(/\d\d:\d\d me: hi bob/);
    expect(f).toContain("connected");
    expect(f).toContain("as me");
    expect(f).toContain("1 online");
  });

  it("labels an unknown sender by its key's short form and wraps long text", () => {
    const model = new FakeModel();
    const long = "word ".repeat(40).trim();
    model.snap = snapshot({
      channels: [channel("KUBECON", [msg(1, CAROL, undefined, long)]), channel("NATS")],
    });
    const r = mount(model);
    unmount = r.unmount;
    const f = r.frame();
    expect(f).toContain("~UCCCC…CCCC");
    const lines = f.split("\n").filter((l) => l.includes("word"));
    expect(lines.length).toBeGreaterThan(1);
  });

  it("sends the typed line to the selected conversation on Enter", async () => {
    const model = new FakeModel();
    const r = mount(model);
    unmount = r.unmount;
    await r.press("hello there");
    await until(r.frame, (f) => f.includes("› hello there"), "the typed text");
    await r.press("\r");
    expect(model.sent).toEqual([["#KUBECON", "hello there"]]);
    await until(r.frame, (f) => !f.includes("hello there"), "the input cleared");
  });

  it("sends each line of a chunk that carries its Enter (fast typing, paste)", async () => {
    const model = new FakeModel();
    const r = mount(model);
    unmount = r.unmount;
    await r.press("first line\rsecond line\r");
    expect(model.sent).toEqual([
      ["#KUBECON", "first line"],
      ["#KUBECON", "second line"],
    ]);
  });

  it("shows a send error and keeps the text", async () => {
    const model = new FakeModel();
    model.failNext = "message is 5000 characters long, the maximum is 4000; split it";
    const r = mount(model);
    unmount = r.unmount;
    await r.press("too long");
    await r.press("\r");
    await until(r.frame, (f) => f.includes("the maximum is 4000"), "the error");
    expect(r.frame()).toContain("› too long");
  });

  it("Tab focuses the sidebar, arrows move, Enter selects, and a DM can be started", async () => {
    const model = new FakeModel();
    const r = mount(model);
    unmount = r.unmount;
    await r.press("\t");
    await r.press("\u001B[B"); // down: #NATS
    await r.press("\r");
    expect(model.selected).toEqual(["#NATS"]);
    await until(
      r.frame,
      (f) => f.includes("› hello") === false && f.includes("no messages yet"),
      "#NATS shown",
    );
    await r.press("\t");
    await r.press("\u001B[B");
    await r.press("\u001B[B"); // #General, then bob
    await r.press("\r");
    expect(model.selected.at(-1)).toBe(`@${BOB}`);
  });

  it("Ctrl-C quits", async () => {
    const model = new FakeModel();
    let quits = 0;
    const r = mount(model, () => quits++);
    unmount = r.unmount;
    await r.press("\u0003");
    expect(quits).toBe(1);
  });

  it("re-renders on model changes and shows a revocation in the status line", async () => {
    const model = new FakeModel();
    const r = mount(model);
    unmount = r.unmount;
    model.update({ state: "revoked", reason: "your access was revoked by an administrator" });
    await until(r.frame, (f) => f.includes("revoked"), "the revoked state");
    expect(r.frame()).toContain("your access was revoked by an administrator");
  });
});

describe("model helpers", () => {
  it("lists DM conversations and online users, and fits the newest messages", () => {
    const s = snapshot({
      dms: [
        {
          id: `@${CAROL}`,
          kind: "dm",
          title: "carol",
          peer: CAROL,
          online: false,
          messages: [],
          unread: 3,
          history: "loaded",
        },
      ],
    });
    expect(sidebarEntries(s).map((e) => [e.label, e.unread, e.online])).toEqual([
      ["#KUBECON", 0, undefined],
      ["#NATS", 2, undefined],
      ["#General", 0, undefined],
      ["bob", 0, true],
      ["carol", 3, false],
    ]);
    const many = Array.from({ length: 50 }, (_, i) => msg(i, BOB, "bob", `m${i}`));
    const shown = visibleMessages(many, 80, 10);
    expect(shown.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `m${40 + i}`));
    expect(visibleMessages(many, 80, 10, 5).at(-1)?.text).toBe("m44");
  });
});
