// ChatSession's message events against a real nats-server and the real history service (issue
// 13): a mention stored as a key, reactions, edits and deletions seen by a second session and by a
// fresh one from history, replies and the thread, notifications, and the author-only rule
// surfacing as ChatError FORBIDDEN. One stack for the whole file.
import { connect } from "@nats-io/transport-node";
import {
  ChatError,
  type ChatNotification,
  ChatSession,
  type ChatSessionOptions,
  type ChatSnapshot,
  type MessageView,
  waitForSnapshot,
} from "@natschat/client";
import type { HistoryService } from "@natschat/history";
import {
  decodeJwtUnverified,
  encodeHistoryPostsRequest,
  HISTORY_POSTS_SUBJECT,
  mentionOf,
  parseHistoryReply,
} from "@natschat/protocol";
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
let ann: MintedUser;
let ben: MintedUser;
let carol: MintedUser;

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

const general = (s: ChatSnapshot) => s.channels.find((c) => c.id === "#General");
const msg = (s: ChatSnapshot, text: RegExp | string) =>
  general(s)?.messages.find((m) =>
    typeof text === "string" ? m.text === text : text.test(m.text),
  );

/** Waits until `session`'s message `id` in #General satisfies `pred`. */
function until(session: ChatSession, id: string, pred: (m: MessageView) => boolean, what: string) {
  return waitForSnapshot(
    session,
    (s) => {
      const m = general(s)?.messages.find((x) => x.id === id);
      return m !== undefined && pred(m);
    },
    { timeoutMs: 10_000, what },
  );
}

beforeAll(async () => {
  stack = await startTestStack();
  history = await startTestHistory(stack);
  directory = await startTestDirectory(stack);
  [ann, ben, carol] = await Promise.all([
    mintChatUser(stack.dir, "ann"),
    mintChatUser(stack.dir, "ben"),
    mintChatUser(stack.dir, "carol"),
  ]);
  for (const u of [ann, ben, carol]) directory.register(u);
}, 60_000);

afterAll(async () => {
  await Promise.all(open.splice(0).map((s) => s.stop()));
  await directory?.stop();
  await history?.stop();
  await stack?.stop();
});

describe("message events", () => {
  it("a mention is stored as the key, shown under the issued name, and notifies", async () => {
    const a = await join(ann);
    const b = await join(ben);
    // ann knows ben's name once the directory answered for him (he is in her roster)
    await waitForSnapshot(a, (s) => s.users.some((u) => u.name === "ben"), {
      timeoutMs: 10_000,
      what: "ann to know ben",
    });
    expect(a.mentionCandidates("be")).toEqual([{ key: ben.publicKey, name: "ben" }]);
    const notes: ChatNotification[] = [];
    b.onNotify((n) => notes.push(n));
    await a.send("#General", "hi @ben, see @nobody");
    const seen = await waitForSnapshot(b, (s) => msg(s, /^hi /) !== undefined, {
      timeoutMs: 10_000,
      what: "ben to get ann's mention",
    });
    const m = msg(seen, /^hi /) as MessageView;
    expect(m.text).toBe(`hi ${mentionOf(ben.publicKey)}, see @nobody`);
    expect(m.segments).toEqual([
      { text: "hi " },
      { mention: ben.publicKey, display: "ben" },
      { text: ", see @nobody" },
    ]);
    expect(m.mentionsMe).toBe(true);
    expect(m.id).toBe(`${ann.publicKey}.${m.id.split(".")[1]}`);
    expect(notes).toMatchObject([{ conversation: "#General", reason: "mention" }]);
    expect(notes[0]?.message.id).toBe(m.id);

    // what the history service stored is the key, not the name
    await waitForSnapshot(a, () => a.unsaved === 0, { timeoutMs: 10_000, what: "the store ack" });
    const page = await historyPage("General");
    const stored = page.find(
      (t) => String(decodeJwtUnverified(t).payload.jti) === m.id.split(".")[1],
    );
    expect(stored).toBeDefined();
    const nats = decodeJwtUnverified(stored as string).payload.nats as { msg: string };
    expect(nats.msg).toBe(`hi <@${ben.publicKey}>, see @nobody`);
  }, 60_000);

  it("reactions, a reply and its thread, an edit and a deletion reach the other session", async () => {
    const a = open[0] as ChatSession;
    const b = open[1] as ChatSession;
    await a.send("#General", "react to me");
    const mine = (await waitForSnapshot(b, (s) => msg(s, "react to me") !== undefined, {
      timeoutMs: 10_000,
      what: "ben to see the post",
    }).then((s) => msg(s, "react to me"))) as MessageView;
    await waitForSnapshot(a, () => a.unsaved === 0, { timeoutMs: 10_000, what: "stored" });

    await b.react(mine.id, "👍", true);
    const reacted = await until(a, mine.id, (m) => m.reactions.length === 1, "ann to see 👍");
    expect(general(reacted)?.messages.find((x) => x.id === mine.id)?.reactions).toEqual([
      { emoji: "👍", count: 1, mine: false, who: ["ben"] },
    ]);
    expect(general(b.snapshot())?.messages.find((x) => x.id === mine.id)?.reactions[0]?.mine).toBe(
      true,
    );
    await b.react(mine.id, "👍", false);
    await until(a, mine.id, (m) => m.reactions.length === 0, "ann to see 👍 removed");

    // a reply: a quote in the channel, and the thread with live replies joining it
    await b.send("#General", "a reply", { replyTo: mine.id });
    const replied = await waitForSnapshot(a, (s) => msg(s, "a reply") !== undefined, {
      timeoutMs: 10_000,
      what: "ann to see the reply",
    });
    expect(msg(replied, "a reply")?.replyTo).toEqual({
      id: mine.id,
      display: "ann",
      excerpt: "react to me",
    });
    await until(a, mine.id, (m) => m.replies === 1, "the root's reply count");
    a.openThread(mine.id);
    expect(a.snapshot().thread).toMatchObject({ loading: true, conversation: "#General" });
    const loaded = await waitForSnapshot(a, (s) => s.thread?.loading === false, {
      timeoutMs: 10_000,
      what: "the thread to load",
    });
    expect(loaded.thread?.root?.id).toBe(mine.id);
    expect(loaded.thread?.replies.map((r) => r.text)).toEqual(["a reply"]);
    await b.send("#General", "another reply", { replyTo: mine.id });
    await waitForSnapshot(a, (s) => s.thread?.replies.length === 2, {
      timeoutMs: 10_000,
      what: "a live reply to join the thread",
    });
    a.closeThread();
    expect(a.snapshot().thread).toBeUndefined();

    // only the author edits: ben's edit of ann's message is refused by the service
    const refused = await b.edit(mine.id, "ben was here").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ChatError);
    expect((refused as ChatError).code).toBe("FORBIDDEN");
    await expect(b.remove(mine.id)).rejects.toMatchObject({ code: "FORBIDDEN" });

    await a.edit(mine.id, "edited by ann");
    const edited = await until(b, mine.id, (m) => m.edited, "ben to see the edit");
    expect(general(edited)?.messages.find((x) => x.id === mine.id)?.text).toBe("edited by ann");

    await a.remove(mine.id);
    const gone = await until(b, mine.id, (m) => m.deleted !== undefined, "ben to see it deleted");
    expect(general(gone)?.messages.find((x) => x.id === mine.id)).toMatchObject({
      deleted: "author",
      text: "",
      segments: [],
      edited: false,
    });
    // a reaction to a deleted message is refused
    await expect(b.react(mine.id, "🎉", true)).rejects.toBeInstanceOf(ChatError);
  }, 60_000);

  it("a fresh session reads the current states from history", async () => {
    const c = await join(carol);
    const s = c.snapshot();
    const tomb = general(s)?.messages.find((m) => m.deleted !== undefined);
    expect(tomb).toMatchObject({ deleted: "author", text: "" });
    const reply = msg(s, "a reply");
    // its target is deleted: the quote says the original is not available
    expect(reply?.replyTo).toMatchObject({ missing: true });
    expect(general(s)?.messages.find((m) => m.replies === 2)).toBeDefined();
    // the quote's target is not held (deleted): its thread opens by id, in the channel on screen
    c.select("#General");
    c.openThread(reply?.replyTo?.id ?? "no reply");
    const t = await waitForSnapshot(c, (x) => x.thread?.loading === false, {
      timeoutMs: 10_000,
      what: "the thread of a message not held",
    });
    expect(t.thread?.conversation).toBe("#General");
    expect(t.thread?.replies.map((r) => r.text)).toEqual(["a reply", "another reply"]);
    expect(t.thread?.root).toMatchObject({ deleted: "author", text: "" });
  }, 60_000);

  it("a DM notifies its recipient; a muted conversation does not", async () => {
    const a = open[0] as ChatSession;
    const b = open[1] as ChatSession;
    const notes: ChatNotification[] = [];
    b.onNotify((n) => notes.push(n));
    await a.send(`@${ben.publicKey}`, "psst");
    await waitForSnapshot(b, (s) => s.dms.some((d) => d.messages.some((m) => m.text === "psst")), {
      timeoutMs: 10_000,
      what: "ben to get the DM",
    });
    expect(notes.map((n) => [n.conversation, n.reason])).toEqual([[`@${ann.publicKey}`, "dm"]]);
    // a reaction in a DM reaches the other side through its private feed
    const psst = b
      .snapshot()
      .dms.find((d) => d.id === `@${ann.publicKey}`)
      ?.messages.find((m) => m.text === "psst") as MessageView;
    await waitForSnapshot(a, () => a.unsaved === 0, { timeoutMs: 10_000, what: "the DM stored" });
    await b.react(psst.id, "👀", true);
    await waitForSnapshot(
      a,
      (s) =>
        s.dms
          .find((d) => d.id === `@${ben.publicKey}`)
          ?.messages.find((m) => m.id === psst.id)
          ?.reactions[0]?.who.join() === "ben",
      { timeoutMs: 10_000, what: "ann to see ben's reaction to her DM" },
    );
  }, 60_000);
});

describe("a rename", () => {
  it("cannot retarget a mention: a fresh session shows it under the key's new name", async () => {
    // ben goes offline (the online set would name him as he was when he came online)
    const b = open[1] as ChatSession;
    await b.stop();
    const deadline = Date.now() + 10_000;
    while (directory.online.has(ben.publicKey)) {
      if (Date.now() > deadline) throw new Error("ben is still online 10 s after his goodbye");
      await new Promise((r) => setTimeout(r, 20));
    }
    // the access service issues ben's key a new name (same key, new user JWT)
    const renamed = await mintChatUser(stack.dir, "benjamin", undefined, ben.seed);
    expect(renamed.publicKey).toBe(ben.publicKey);
    directory.register(renamed);
    const dora = await mintChatUser(stack.dir, "dora");
    directory.register(dora);
    const d = await join(dora);
    const m = msg(d.snapshot(), /^hi /);
    expect(m?.text).toBe(`hi ${mentionOf(ben.publicKey)}, see @nobody`);
    await waitForSnapshot(
      d,
      (s) =>
        JSON.stringify(msg(s, /^hi /)?.segments[1]) ===
        JSON.stringify({ mention: ben.publicKey, display: "benjamin" }),
      { timeoutMs: 10_000, what: "the mention under ben's new name" },
    );
    // the directory knows the key by its new name only
    expect(d.mentionCandidates("ben")).toEqual([{ key: ben.publicKey, name: "benjamin" }]);
  }, 60_000);
});

async function historyPage(channel: string): Promise<string[]> {
  const { credsAuthenticator } = await import("@nats-io/nats-core");
  const nc = await connect({
    servers: stack.urls,
    authenticator: credsAuthenticator(new TextEncoder().encode(carol.creds)),
    inboxPrefix: `_INBOX_${carol.publicKey}`,
  });
  try {
    const m = await nc.request(
      HISTORY_POSTS_SUBJECT,
      encodeHistoryPostsRequest({ channel, limit: 50 }),
      { timeout: 5000 },
    );
    const r = parseHistoryReply({ data: m.data, header: (h) => m.headers?.get(h) || undefined });
    if (!r.ok) throw new Error(r.message);
    return r.value.messages.flatMap((x) => (x.token ? [x.token] : []));
  } finally {
    await nc.close();
  }
}
