// ChatSession's read state, typing and search against a real nats-server and the real history
// service (issue 13): one user's two sessions with the same creds (say the web page and the
// terminal) agree on unread counts through the service and its private feed; a mute reaches
// both and stops notifications; a typing signal shows through the relay and expires by itself
// or when the message arrives; search pages through the service. One stack for the whole file.
import { connect } from "@nats-io/transport-node";
import {
  type ChatNotification,
  ChatSession,
  type ChatSessionOptions,
  type ChatSnapshot,
  type ConversationView,
  waitForSnapshot,
} from "@natschat/client";
import type { HistoryService } from "@natschat/history";
import {
  type MintedUser,
  mintChatUser,
  startTestDirectory,
  startTestHistory,
  startTestStack,
  type TestDirectory,
  type TestStack,
} from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let history: HistoryService;
let directory: TestDirectory;
const open: ChatSession[] = [];
let dan: MintedUser;
let eve: MintedUser;
/** Dan's two sessions on the same creds, and eve's. */
let web: ChatSession;
let term: ChatSession;
let e: ChatSession;

function options(): ChatSessionOptions {
  const chat = stack.trust.summary.accounts.CHAT;
  return {
    servers: stack.urls,
    connect,
    chatAccount: chat.publicKey,
    chatSigningKeys: chat.signingKeys,
  };
}

async function join(user: MintedUser): Promise<ChatSession> {
  const s = new ChatSession({ jwt: user.jwt, seed: user.seed }, options());
  open.push(s);
  await s.start();
  await s.historyLoaded();
  return s;
}

const conv = (s: ChatSnapshot, id: string): ConversationView | undefined =>
  [...s.channels, ...s.dms].find((c) => c.id === id);

function until(s: ChatSession, pred: (x: ChatSnapshot) => boolean, what: string, ms = 10_000) {
  return waitForSnapshot(s, pred, { timeoutMs: ms, what });
}

beforeAll(async () => {
  stack = await startTestStack();
  history = await startTestHistory(stack);
  directory = await startTestDirectory(stack);
  [dan, eve] = await Promise.all([mintChatUser(stack.dir, "dan"), mintChatUser(stack.dir, "eve")]);
  directory.register(dan);
  directory.register(eve);
  [web, term, e] = await Promise.all([join(dan), join(dan), join(eve)]);
  // eve mentions dan by name: she must know it
  await until(e, (s) => s.users.some((u) => u.name === "dan"), "eve to know dan");
}, 60_000);

afterAll(async () => {
  await Promise.all(open.splice(0).map((s) => s.stop()));
  await directory?.stop();
  await history?.stop();
  await stack?.stop();
});

describe("read state across sessions", () => {
  it("two sessions with the same creds agree on unread counts, mentions and the separator", async () => {
    await e.send("#NATS", "first news");
    await e.send("#NATS", "hey @dan, look");
    for (const s of [web, term]) {
      const snap = await until(s, (x) => conv(x, "#NATS")?.unread === 2, "2 unread in #NATS");
      expect(conv(snap, "#NATS")).toMatchObject({ unread: 2, mentions: 1 });
      expect(conv(snap, "#NATS")?.firstUnread).toBe(
        conv(snap, "#NATS")?.messages.find((m) => m.text === "first news")?.id,
      );
    }
    await until(e, () => e.unsaved === 0, "eve's posts stored");

    const t0 = Date.now();
    web.select("#NATS");
    expect(conv(web.snapshot(), "#NATS")).toMatchObject({ unread: 0, mentions: 0 });
    // the separator stays where the first unread message was while #NATS is on screen
    expect(conv(web.snapshot(), "#NATS")?.firstUnread).toBeDefined();
    await until(term, (x) => conv(x, "#NATS")?.unread === 0, "the terminal to agree");
    const agreedMs = Date.now() - t0;
    console.log(`read state: the other session agreed after ${agreedMs} ms`);
    expect(conv(term.snapshot(), "#NATS")?.mentions).toBe(0);

    // a message while #NATS is on screen in the web session is read there, and so everywhere
    await e.send("#NATS", "more");
    await until(
      term,
      (x) => conv(x, "#NATS")?.messages.some((m) => m.text === "more") === true,
      "more",
    );
    await until(term, (x) => conv(x, "#NATS")?.unread === 0, "read on the web, so on the terminal");

    // a fresh session starts from the stored position
    const third = await join(dan);
    await until(third, (x) => conv(x, "#NATS")?.messages.length === 3, "history");
    await until(third, (x) => conv(x, "#NATS")?.unread === 0, "the stored position");
  }, 60_000);

  it("a mute reaches the other session and silences its notifications; DMs still notify", async () => {
    const notes: ChatNotification[] = [];
    const off = term.onNotify((n) => notes.push(n));
    await web.mute("#General", true);
    expect(conv(web.snapshot(), "#General")?.muted).toBe(true);
    await until(term, (x) => conv(x, "#General")?.muted === true, "the mute to reach the terminal");
    await e.send("#General", "@dan are you there?");
    await e.send(`@${dan.publicKey}`, "psst");
    await until(term, (x) => conv(x, `@${eve.publicKey}`)?.messages.length === 1, "the DM");
    // the mention in the muted channel came first on the same connection, and did not notify
    expect(notes.map((n) => n.reason)).toEqual(["dm"]);
    await web.mute("#General", false);
    await until(term, (x) => conv(x, "#General")?.muted === false, "the unmute");
    off();
  }, 60_000);
});

describe("typing", () => {
  it("shows through the relay, ends with the message, and expires by itself", async () => {
    e.typing("#KUBECON");
    await until(web, (x) => conv(x, "#KUBECON")?.typing.join() === "eve", "eve typing");
    await e.send("#KUBECON", "typed");
    await until(
      web,
      (x) => conv(x, "#KUBECON")?.typing.length === 0,
      "typing to end with the message",
    );
    // in another conversation (the 3 s limit is per conversation) she types and stops
    e.typing("#General");
    await until(web, (x) => conv(x, "#General")?.typing.join() === "eve", "eve typing in #General");
    const shown = Date.now();
    await until(
      web,
      (x) => conv(x, "#General")?.typing.length === 0,
      "the signal to expire",
      15_000,
    );
    console.log(`typing: shown for ${Date.now() - shown} ms (ttl 6 s)`);
  }, 60_000);
});

describe("search", () => {
  it("finds posts and DMs by their current text, newest first, paged by cursor", async () => {
    for (let i = 0; i < 23; i++) await e.send("#General", `needle ${i}`);
    await e.send(`@${dan.publicKey}`, "a needle in a DM");
    await until(e, () => e.unsaved === 0, "stored");
    const first = await web.search("NEEDLE");
    expect(first.hits.length).toBeGreaterThan(0);
    expect(first.hits[0]).toMatchObject({ conversation: `@${eve.publicKey}`, display: "eve" });
    const all = [...first.hits];
    let cursor = first.cursor;
    while (cursor !== undefined) {
      const next = await web.search("needle", { cursor });
      all.push(...next.hits);
      cursor = next.cursor;
    }
    expect(all.map((h) => h.text)).toEqual([
      "a needle in a DM",
      ...Array.from({ length: 23 }, (_, i) => `needle ${22 - i}`),
    ]);
    const only = await web.search("needle", { conversation: "#General" });
    expect(only.hits.every((h) => h.conversation === "#General")).toBe(true);
  }, 60_000);
});
