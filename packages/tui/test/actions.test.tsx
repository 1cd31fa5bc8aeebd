// Ink component tests (scripted model, no server) of what issue 13 adds to the terminal chat:
// a message's marks (edited, tombstones, reactions, quote line, replies, mentions, "new"), select
// mode and its keys (react, edit, delete, reply, thread), the typing line, the bell and the
// sidebar marker, @ + Tab, /search with paging, /mute.
import type { SearchHit } from "@natschat/client";
import { ChatApp, mentionAtEnd, messageRows, metaLine, typingLine } from "@natschat/tui";
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { BOB, CAROL, channel, FakeModel, ME, msg, snapshot } from "./fake-model.ts";

function mount(model: FakeModel, bell: () => void = () => undefined) {
  const r = render(
    <ChatApp model={model} onQuit={() => undefined} columns={110} rows={24} bell={bell} />,
  );
  const frame = () => r.lastFrame() ?? "";
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  const press = async (keys: string) => {
    r.stdin.write(keys);
    await tick();
    await tick();
  };
  return { ...r, frame, press };
}

async function until(frame: () => string, pred: (f: string) => boolean, what: string) {
  const deadline = Date.now() + 2000;
  while (!pred(frame())) {
    if (Date.now() > deadline) throw new Error(`frame never showed ${what}:\n${frame()}`);
    await new Promise((r) => setImmediate(r));
  }
}

const ESC = "\u001B";
const UP = "\u001B[A";
const ALT_UP = "\u001B[1;3A";

let unmount: (() => void) | undefined;
afterEach(() => {
  unmount?.();
  unmount = undefined;
});

/** #KUBECON with bob's message 1 and my message 2. */
function twoMessages(): FakeModel {
  const model = new FakeModel();
  model.snap = snapshot({
    channels: [
      channel("KUBECON", [
        msg(1, BOB, "bob", "hello kubecon", {
          reactions: [{ emoji: "👍", count: 2, mine: false, who: ["bob", "carol"] }],
        }),
        msg(2, ME, "me", "hi bob"),
      ]),
      channel("NATS"),
    ],
  });
  return model;
}

describe("a message's marks", () => {
  it("edited, tombstones, reactions, quote line, replies, a mention of me, the 'new' separator", () => {
    const model = new FakeModel();
    model.snap = snapshot({
      channels: [
        channel("KUBECON", [
          msg(1, BOB, "bob", "first words of a long message", {
            edited: true,
            replies: 2,
            reactions: [
              { emoji: "👍", count: 2, mine: true, who: ["me", "carol"] },
              { emoji: "🎉", count: 1, mine: false, who: ["carol"] },
            ],
          }),
          msg(2, CAROL, "carol", "", { deleted: "author", segments: [] }),
          msg(3, BOB, "bob", "", { deleted: "admin", segments: [] }),
          msg(4, CAROL, "carol", "agreed", {
            replyTo: { id: `${BOB}.1`, display: "bob", excerpt: "first words…" },
          }),
          msg(5, CAROL, "carol", "", { replyTo: { id: "gone", missing: true }, segments: [] }),
          msg(6, BOB, "bob", `hey <@${ME}> look`, {
            mentionsMe: true,
            segments: [{ text: "hey " }, { mention: ME, display: "me" }, { text: " look" }],
          }),
        ]),
        { ...channel("NATS"), muted: true },
      ],
    });
    model.snap = { ...model.snap, channels: model.snap.channels };
    const kubecon = model.snap.channels[0];
    if (kubecon) {
      model.snap = {
        ...model.snap,
        channels: [{ ...kubecon, firstUnread: `${CAROL}.4` }, ...model.snap.channels.slice(1)],
      };
    }
    const r = mount(model);
    unmount = r.unmount;
    const f = r.frame();
    expect(f).toMatch(/bob: first words of a long message \(edited\)/);
    expect(f).toContain("👍 2  🎉 1 · 2 replies");
    expect(f).toMatch(/carol: message deleted/);
    expect(f).toMatch(/bob: removed by an admin/);
    expect(f).toContain("── new ──");
    expect(f.indexOf("── new ──")).toBeLessThan(f.indexOf("↪ bob: first words…"));
    expect(f).toMatch(/↪ bob: first words…\s*│\n.*carol: agreed/);
    expect(f).toContain("↪ original not available");
    expect(f).toMatch(/bob: hey @me look/);
    expect(f).toMatch(/#NATS muted/);
  });

  it("meta line, typing line and the mention being typed, as text", () => {
    expect(metaLine(msg(1, BOB, "bob", "x"))).toBe("");
    expect(metaLine(msg(1, BOB, "bob", "x", { replies: 1 }))).toContain("1 reply");
    expect(typingLine([])).toBe("");
    expect(typingLine(["alice"])).toBe("alice is typing…");
    expect(typingLine(["alice", "bob"])).toBe("alice and bob are typing…");
    expect(typingLine(["a", "b", "c", "d"])).toBe("a, b and 2 others are typing…");
    expect(mentionAtEnd("hi @bo")).toEqual({ at: 3, prefix: "bo" });
    expect(mentionAtEnd("@")).toEqual({ at: 0, prefix: "" });
    expect(mentionAtEnd("mail a@b")).toBeUndefined();
    // a separator row goes above the first unread message, and rows know their message
    const rows = messageRows([msg(1, BOB, "bob", "a"), msg(2, BOB, "bob", "b")], 40, Date.now(), {
      firstUnread: `${BOB}.2`,
    });
    expect(rows.map((r) => [r.kind, r.message])).toEqual([
      ["body", `${BOB}.1`],
      ["separator", undefined],
      ["body", `${BOB}.2`],
    ]);
  });
});

describe("select mode", () => {
  it("Esc selects the newest message, ↑ moves, + and 1-5 react (a second press removes mine)", async () => {
    const model = twoMessages();
    const r = mount(model);
    unmount = r.unmount;
    await r.press(ESC);
    await until(r.frame, (f) => f.includes("r reply · e edit · d delete"), "the select hints");
    await r.press(UP);
    await r.press("+");
    await until(r.frame, (f) => f.includes("react 1 👍"), "the emoji prompt");
    await r.press("4");
    expect(model.calls).toContainEqual(["react", `${BOB}.1`, "🎉", true]);
    // 👍 is not mine yet: on; then mark it mine and press 1 again: off
    await r.press("1");
    expect(model.calls).toContainEqual(["react", `${BOB}.1`, "👍", true]);
    const kubecon = model.snap.channels[0];
    if (!kubecon) throw new Error("no channel");
    const [bob, mine] = kubecon.messages;
    if (!bob || !mine) throw new Error("no messages");
    model.update({
      channels: [
        {
          ...kubecon,
          messages: [{ ...bob, reactions: [{ emoji: "👍", count: 3, mine: true, who: [] }] }, mine],
        },
        ...model.snap.channels.slice(1),
      ],
    });
    await until(r.frame, (f) => f.includes("👍 3"), "the new count");
    await r.press("1");
    expect(model.calls.at(-1)).toEqual(["react", `${BOB}.1`, "👍", false]);
    // a typed emoji in the prompt
    await r.press("+");
    await r.press("🚀\r");
    expect(model.calls.at(-1)).toEqual(["react", `${BOB}.1`, "🚀", true]);
    await r.press(ESC);
    await until(r.frame, (f) => f.includes("› "), "the input again");
  });

  it("e prefills the input with my message and Enter edits it; someone else's is refused", async () => {
    const model = twoMessages();
    const r = mount(model);
    unmount = r.unmount;
    await r.press(ALT_UP); // the newest: mine
    await r.press("e");
    await until(r.frame, (f) => f.includes("edit › hi bob"), "the prefilled edit");
    await r.press(" again\r");
    expect(model.calls).toContainEqual(["edit", `${ME}.2`, "hi bob again"]);
    expect(model.sent).toEqual([]);
    await r.press(ESC);
    await r.press(UP);
    await r.press("e");
    await until(r.frame, (f) => f.includes("you can edit only your own messages"), "the refusal");
  });

  it("Esc and the next key in one chunk (as a fast typist or tmux sends them) are Esc, then the key", async () => {
    const model = twoMessages();
    const r = mount(model);
    unmount = r.unmount;
    await r.press(`${ESC}e`);
    await until(r.frame, (f) => f.includes("edit › hi bob"), "the edit of the newest message");
    // in select mode, keys in one chunk act one by one: k (up), r (reply), then typed text
    await r.press(ESC);
    await r.press(ESC);
    await r.press("kryes");
    await until(r.frame, (f) => f.includes("↪ bob › yes"), "the reply to bob, with its text");
  });

  it("d asks first: n keeps the message, y deletes it", async () => {
    const model = twoMessages();
    const r = mount(model);
    unmount = r.unmount;
    await r.press(ESC);
    await r.press("d");
    await until(r.frame, (f) => f.includes(`delete your message "hi bob"?`), "the question");
    await r.press("n");
    expect(model.calls.filter((c) => c[0] === "remove")).toEqual([]);
    await r.press("d");
    await r.press("y");
    expect(model.calls).toContainEqual(["remove", `${ME}.2`]);
  });

  it("r replies to the selected message; t opens its thread, where a post answers the root", async () => {
    const model = twoMessages();
    const r = mount(model);
    unmount = r.unmount;
    await r.press(ESC);
    await r.press(UP);
    await r.press("r");
    await until(r.frame, (f) => f.includes("↪ bob › "), "the reply prompt");
    await r.press("sure\r");
    expect(model.sent).toEqual([["#KUBECON", "sure", { replyTo: `${BOB}.1` }]]);
    await r.press(ESC);
    await r.press(UP);
    await r.press("t");
    expect(model.calls).toContainEqual(["openThread", `${BOB}.1`]);
    const root = model.snap.channels[0]?.messages[0];
    if (!root) throw new Error("no root");
    model.update({
      thread: {
        root,
        replies: [
          msg(3, ME, "me", "sure", { replyTo: { id: root.id, display: "bob", excerpt: "hello" } }),
        ],
        loading: false,
        conversation: "#KUBECON",
      },
    });
    await until(
      r.frame,
      (f) => f.includes("thread in #KUBECON") && f.includes("1 reply"),
      "the thread",
    );
    // a reply to the root has no quote line in its thread
    expect(r.frame()).not.toContain("↪ bob: hello");
    await r.press("in the thread\r");
    expect(model.sent.at(-1)).toEqual(["#KUBECON", "in the thread", { replyTo: root.id }]);
    await r.press(ESC);
    expect(model.calls.at(-1)).toEqual(["closeThread"]);
    await until(r.frame, (f) => f.includes("#KUBECON") && !f.includes("thread in"), "the channel");
  });
});

describe("typing, notifications, completion, search, mute", () => {
  it("keys call typing(); the typing line shows who types", async () => {
    const model = twoMessages();
    const r = mount(model);
    unmount = r.unmount;
    await r.press("h");
    expect(model.calls).toContainEqual(["typing", "#KUBECON"]);
    const before = model.calls.length;
    await r.press("\u007F");
    await r.press("/hel");
    expect(model.calls.length).toBe(before); // a command is not typing
    const kubecon = model.snap.channels[0];
    if (!kubecon) throw new Error("no channel");
    model.update({ channels: [{ ...kubecon, typing: ["bob"] }, ...model.snap.channels.slice(1)] });
    await until(r.frame, (f) => f.includes("bob is typing…"), "the typing line");
  });

  it("a mention or a DM rings the bell and marks its conversation until it is opened", async () => {
    const model = twoMessages();
    let bells = 0;
    const r = mount(model, () => bells++);
    unmount = r.unmount;
    model.notify({ conversation: "#NATS", message: msg(9, BOB, "bob", "@me"), reason: "mention" });
    model.notify({ conversation: `@${BOB}`, message: msg(9, BOB, "bob", "psst"), reason: "dm" });
    await until(r.frame, (f) => /#NATS @/.test(f) && /● bob !/.test(f), "the markers");
    expect(bells).toBe(2);
    await r.press("/join #NATS\r");
    await until(r.frame, (f) => !/#NATS @/.test(f), "the marker gone");
  });

  it("@ + Tab completes a name; Tab again cycles", async () => {
    const model = twoMessages();
    const r = mount(model);
    unmount = r.unmount;
    await r.press("hi @b");
    await r.press("\t");
    await until(r.frame, (f) => f.includes("› hi @bob "), "the completed name");
    await r.press("\u007F\u007F\u007F\u007F");
    await r.press("\t"); // "hi @" + Tab: every candidate, the first, then the next
    await until(r.frame, (f) => f.includes("Tab again: bob, carol"), "the candidates");
    await r.press("\t");
    await until(r.frame, (f) => f.includes("› hi @carol "), "the second name");
    // typed fast, the Tab comes in the same chunk as the text
    await r.press("\rping @bo\tnow");
    await until(r.frame, (f) => f.includes("› ping @bob now"), "the name completed in a chunk");
  });

  it("/search shows hits under their conversation; n loads the next page; Enter opens one", async () => {
    const model = twoMessages();
    const hit = (n: number, text: string, conversation: string): SearchHit => ({
      ...msg(n, BOB, "bob", text),
      conversation,
    });
    model.searchPages = [
      { hits: [hit(30, "jwt one", "#NATS"), hit(29, "jwt two", "#KUBECON")], cursor: "c1" },
      { hits: [hit(28, "jwt three", `@${BOB}`)] },
    ];
    const r = mount(model);
    unmount = r.unmount;
    await r.press("/search jwt\r");
    await until(
      r.frame,
      (f) => f.includes(`search "jwt"`) && f.includes("n: more results"),
      "page 1",
    );
    expect(r.frame()).toMatch(/#NATS\s*│\n.*bob: jwt one/);
    await r.press("n");
    await until(r.frame, (f) => f.includes("jwt three") && f.includes("end of results"), "page 2");
    expect(model.calls.filter((c) => c[0] === "search")).toEqual([
      ["search", "jwt", undefined],
      ["search", "jwt", "c1"],
    ]);
    expect(r.frame()).toContain("@bob");
    await r.press(UP);
    await r.press(UP);
    await r.press("\r");
    expect(model.selected.at(-1)).toBe("#NATS");
    await until(r.frame, (f) => !f.includes(`search "jwt"`), "the search closed");
  });

  it("/mute and /unmute the conversation on screen or a named one", async () => {
    const model = twoMessages();
    const r = mount(model);
    unmount = r.unmount;
    await r.press("/mute\r");
    await until(r.frame, (f) => f.includes("#KUBECON muted: no bell"), "the notice");
    await r.press("/unmute bob\r");
    await r.press("/mute #nope\r");
    await until(
      r.frame,
      (f) => f.includes("#nope is not one of this chat's channels"),
      "the error",
    );
    expect(model.calls.filter((c) => c[0] === "mute")).toEqual([
      ["mute", "#KUBECON", true],
      ["mute", `@${BOB}`, false],
    ]);
  });
});
