// Ink component tests of the chat screen with a scripted model (no server): layout, names,
// unread markers, online dots, focus and keys, sending, slash commands, status line.
import { commandHelp } from "@natschat/client";
import { ChatApp, messageRows, printable, sidebarEntries, stamp, visibleRows } from "@natschat/tui";
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { BOB, CAROL, channel, FakeModel, msg, snapshot } from "./fake-model.ts";

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
    expect(f).toContain("○ carol"); // known, offline: listed for a DM that waits for her
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
      (f) => f.includes("› hello") === false && f.includes("#NATS is empty: say hello"),
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

describe("slash commands", () => {
  it("/help shows the commands in the pane, sends nothing, and Esc closes it", async () => {
    const model = new FakeModel();
    const r = mount(model);
    unmount = r.unmount;
    await r.press("/help\r");
    await until(r.frame, (f) => f.includes("Commands"), "the help");
    for (const line of commandHelp()) expect(r.frame()).toContain(line.slice(0, 40));
    expect(model.sent).toEqual([]);
    await r.press("\u001B");
    await until(r.frame, (f) => f.includes("hello kubecon"), "the messages again");
  });

  it("/join switches channel; an unknown channel or command gets a notice and is not sent", async () => {
    const model = new FakeModel();
    const r = mount(model);
    unmount = r.unmount;
    await r.press("/join #NATS\r");
    expect(model.selected).toEqual(["#NATS"]);
    await r.press("/join #nope\r");
    await until(
      r.frame,
      (f) => f.includes("#nope is not one of this chat's channels"),
      "the notice",
    );
    expect(r.frame()).toContain("› /join #nope"); // kept, to fix
    await r.press("\u001B");
    for (let i = 0; i < 11; i++) await r.press("\u007F");
    await r.press("/hlep\r");
    await until(r.frame, (f) => f.includes("did you mean /help?"), "the did-you-mean");
    expect(model.sent).toEqual([]);
  });

  it("/dm NAME message reaches a known user who is offline; /me posts an action; /quit quits", async () => {
    const model = new FakeModel();
    let quits = 0;
    const r = mount(model, () => quits++);
    unmount = r.unmount;
    await r.press("/dm carol see you tomorrow\r");
    expect(model.selected).toEqual([`@${CAROL}`]);
    expect(model.sent).toEqual([[`@${CAROL}`, "see you tomorrow"]]);
    await until(r.frame, (f) => f.includes("carol is offline: DMs are kept"), "the offline note");
    await r.press("/dm nobody\r");
    await until(
      r.frame,
      (f) => f.includes(`no one called "nobody" is known here yet`),
      "the notice",
    );
    await r.press("\u001B");
    for (let i = 0; i < 10; i++) await r.press("\u007F");
    await r.press("/me waves\r");
    expect(model.sent.at(-1)).toEqual([`@${CAROL}`, "_waves_"]);
    await r.press("/quit\r");
    expect(quits).toBe(1);
  });
});

describe("model helpers", () => {
  it("lists DM conversations and online users", () => {
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
          typing: [],
          muted: false,
          mentions: 0,
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
  });

  it("wraps messages into rows and shows full pages of them", () => {
    const now = Date.now();
    const many = Array.from({ length: 50 }, (_, i) => msg(i, BOB, "bob", `m${i}`));
    const rows = messageRows(many, 80, now);
    expect(rows).toHaveLength(50);
    expect(visibleRows(rows, 10, undefined).map((r) => r.text)).toEqual(
      Array.from({ length: 10 }, (_, i) => `m${40 + i}`),
    );
    // a top beyond the last page is the last page; a page is always full
    expect(visibleRows(rows, 10, 45).map((r) => r.text)[0]).toBe("m40");
    expect(visibleRows(rows, 10, 0).map((r) => r.text)).toHaveLength(10);
    // a long word (a link) breaks at the width; the first row carries the head
    const link = `https://docs.nats.io/${"x".repeat(100)}`;
    const wrapped = messageRows([msg(1, BOB, "bob", `see ${link}`)], 40, now);
    expect(wrapped[0]?.head?.name).toBe("bob");
    expect(wrapped.map((r) => r.text).join("")).toBe(`see ${link}`);
    expect(wrapped.every((r) => r.text.length <= 40)).toBe(true);
  });

  it("shows the day of a message from another day, and escapes control characters", () => {
    const now = new Date(2024, 5, 10, 15, 0).getTime();
    expect(stamp(new Date(2024, 5, 10, 9, 5).getTime(), now)).toBe("09:05");
    expect(stamp(new Date(2024, 5, 9, 23, 59).getTime(), now)).toBe("Jun 9 23:59");
    expect(printable("a\u001b]52;c;ZXZpbA==\u0007b\tc\u009bd")).toBe(
      "a\uFFFD]52;c;ZXZpbA==\uFFFDb c\uFFFDd",
    );
  });
});
