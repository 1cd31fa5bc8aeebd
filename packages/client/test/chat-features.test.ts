// Unit tests (no server) of the issue-13 parts of the client core: applying a message's state
// (the edit token verified first), mentions typed as @name, typing expiry with an injected
// clock, the notification decision (mute included), and the read position behind unread
// counts, the "new messages" separator and unread mentions.
import {
  encodeEdit,
  messageId,
  newUserSigner,
  type Signer,
  splitMentions,
} from "@natschat/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { Conversation, type MessageRecord } from "../src/conversation.ts";
import { Events, withState } from "../src/events.ts";
import { mentionCandidates, mentionsToKeys } from "../src/mentions.ts";
import { messageView } from "../src/message-view.ts";
import { notifyReason } from "../src/notifications.ts";
import { Scope } from "../src/scope.ts";
import { ChatStore } from "../src/store.ts";
import { Typing } from "../src/typing.ts";

const rec = (from: string, jti: string, extra: Partial<MessageRecord> = {}): MessageRecord => ({
  id: messageId(from, jti),
  from,
  claimedName: "x",
  text: `text ${jti}`,
  time: 1000,
  ...extra,
});

async function people() {
  const [me, bob, eve] = await Promise.all([newUserSigner(), newUserSigner(), newUserSigner()]);
  return { me: me.signer, bob: bob.signer, eve: eve.signer };
}

function storeFor(me: Signer, names: Record<string, string> = {}): ChatStore {
  return new ChatStore({
    me: { key: me.publicKey, name: "me" },
    channels: ["#General", "#NATS"],
    maxMessages: 100,
    names: (k) => names[k],
  });
}

// real user keys: mentions and subjects take only valid ones
const K = await people();
const ME = K.me.publicKey;
const BOB = K.bob.publicKey;
const ANN = K.eve.publicKey;

const scopes: Scope[] = [];
afterEach(() => {
  for (const s of scopes.splice(0)) s.close();
});
function scope(): Scope {
  const s = new Scope();
  scopes.push(s);
  return s;
}

describe("a message's state", () => {
  it("is applied as the service gives it: reactions, replies, a tombstone with no text", () => {
    const m = rec("UBOB", "j1");
    const reacted = withState(
      m,
      { reactions: { "👍": ["UA", "UB"] }, replies: { count: 2, last: m.id } },
      undefined,
    );
    expect(reacted.reactions).toEqual({ "👍": ["UA", "UB"] });
    expect(reacted.replies).toBe(2);
    const gone = withState(
      reacted,
      { deleted: { by: "admin", at: "2026-01-01T00:00:00Z" } },
      "edited",
    );
    expect(gone.deleted).toBe("admin");
    expect(gone.edited).toBeUndefined();
    expect(gone.reactions).toBeUndefined(); // a tombstone keeps no words and no reactions
    const ctx = { me: "UME", names: () => undefined, find: () => undefined };
    const v = messageView(ctx, gone);
    expect(v).toMatchObject({ text: "", segments: [], deleted: "admin", edited: false });
  });

  it("shows an edit only when its author signed it for that target; else the original and a drop", async () => {
    const p = await people();
    const store = storeFor(p.me);
    const events = new Events({
      store,
      scope: scope(),
      nc: () => undefined,
      signer: () => p.me,
      now: Date.now,
    });
    const conv = { kind: "post" as const, channel: "General" };
    const target = rec(p.bob.publicKey, "orig");
    const good = await encodeEdit(p.bob, { name: "bob", conv, target: target.id, msg: "fixed" });
    const edited = await events.withState(target, "#General", { edit: good });
    expect(edited.edited).toBe("fixed");
    expect(messageView(store.viewContext("#General"), edited)).toMatchObject({
      text: "fixed",
      edited: true,
    });

    // eve signs an "edit" of bob's message: a forgery the service should never have stored
    const forged = await encodeEdit(p.eve, { name: "bob", conv, target: target.id, msg: "pwned" });
    const kept = await events.withState(target, "#General", { edit: forged });
    expect(kept.edited).toBeUndefined();
    expect(messageView(store.viewContext("#General"), kept).text).toBe("text orig");
    // bob's genuine edit of another message, replayed onto this one
    const other = await encodeEdit(p.bob, {
      name: "bob",
      conv,
      target: messageId(p.bob.publicKey, "other"),
      msg: "elsewhere",
    });
    expect((await events.withState(target, "#General", { edit: other })).edited).toBeUndefined();
    // bob's edit signed for another channel
    const moved = await encodeEdit(p.bob, {
      name: "bob",
      conv: { kind: "post", channel: "NATS" },
      target: target.id,
      msg: "moved",
    });
    expect((await events.withState(target, "#General", { edit: moved })).edited).toBeUndefined();
    expect(store.snapshot().dropped).toBe(3);
  });

  it("verifies a DM edit from either side of the DM", async () => {
    const p = await people();
    const store = storeFor(p.me);
    const events = new Events({
      store,
      scope: scope(),
      nc: () => undefined,
      signer: () => p.me,
      now: Date.now,
    });
    const fromBob = rec(p.bob.publicKey, "d1");
    const bobEdit = await encodeEdit(p.bob, {
      name: "bob",
      conv: { kind: "dm", peer: p.me.publicKey },
      target: fromBob.id,
      msg: "bob fixed",
    });
    const dm = `@${p.bob.publicKey}`;
    expect((await events.withState(fromBob, dm, { edit: bobEdit })).edited).toBe("bob fixed");
    const mine = rec(p.me.publicKey, "d2");
    const myEdit = await encodeEdit(p.me, {
      name: "me",
      conv: { kind: "dm", peer: p.bob.publicKey },
      target: mine.id,
      msg: "me fixed",
    });
    expect((await events.withState(mine, dm, { edit: myEdit })).edited).toBe("me fixed");
    expect(store.snapshot().dropped).toBe(0);
  });
});

describe("mentions", () => {
  const BEN = BOB;
  const known: Record<string, string> = { ann: ANN, ben: BEN };

  it("turns @name of a known user into <@KEY>; unknown names, e-mails and longer words stay", () => {
    const out = mentionsToKeys(
      "@ann hi, cc @BEN and @nobody; mail ann@ex.com, @annie (@ben)",
      (n) => known[n],
    );
    expect(out).toBe(`<@${ANN}> hi, cc <@${BEN}> and @nobody; mail ann@ex.com, @annie (<@${BEN}>)`);
    expect(splitMentions(out).filter((s) => "mention" in s)).toHaveLength(3);
  });

  it("shows a mention under the key's current name, and knows when it is us", () => {
    const names: Record<string, string> = { [ANN]: "ann" };
    const ctx = { me: ANN, names: (k: string) => names[k], find: () => undefined };
    const m = rec(BEN, "m1", { text: `hey <@${ANN}>!` });
    expect(messageView(ctx, m).segments).toEqual([
      { text: "hey " },
      { mention: ANN, display: "ann" },
      { text: "!" },
    ]);
    names[ANN] = "annabel"; // a rename: the stored key still points at the same user
    expect(messageView(ctx, m)).toMatchObject({ mentionsMe: true });
    expect(messageView(ctx, m).segments[1]).toEqual({ mention: ANN, display: "annabel" });
  });

  it("offers at most 8 known users by prefix, not us", () => {
    const users = Array.from({ length: 12 }, (_, i) => ({
      key: `U${String(i).padStart(2, "0")}`,
      name: `al${String(i).padStart(2, "0")}`,
    }));
    users.push({ key: "UME", name: "alme" }, { key: "UBOB", name: "bob" });
    const got = mentionCandidates("@AL", users, "UME");
    expect(got).toHaveLength(8);
    expect(got.map((u) => u.name)).toEqual(users.slice(0, 8).map((u) => u.name));
    expect(mentionCandidates("b", users, "UME")).toEqual([{ key: "UBOB", name: "bob" }]);
  });
});

describe("typing", () => {
  it("shows a typer for the relayed ttl, or until its message arrives; ours never", async () => {
    const p = await people();
    let now = 1_000_000;
    const store = storeFor(p.me, { [p.bob.publicKey]: "bob", [p.eve.publicKey]: "eve" });
    const typing = new Typing({ store, scope: scope(), nc: () => undefined, now: () => now });
    typing.seen("#General", p.bob.publicKey, 6);
    typing.seen("#General", p.eve.publicKey, 6);
    typing.seen("#General", p.me.publicKey, 6); // our other device
    typing.seen("#Nowhere", p.bob.publicKey, 6); // a channel we did not join
    const general = () => store.snapshot().channels.find((c) => c.id === "#General");
    expect(general()?.typing).toEqual(["bob", "eve"]);
    now += 3000;
    typing.seen("#General", p.eve.publicKey, 6); // eve goes on typing
    now += 3001; // bob's 6 s are over, eve's are not
    typing.refresh();
    expect(general()?.typing).toEqual(["eve"]);
    typing.stopped("#General", p.eve.publicKey); // her message arrived
    expect(general()?.typing).toEqual([]);
  });

  it("sends at most one signal per 3 s per conversation", () => {
    let now = 0;
    const published: string[] = [];
    const nc = {
      isClosed: () => false,
      publish: (subject: string) => void published.push(subject),
    } as unknown as import("@nats-io/nats-core").NatsConnection;
    const me = ME;
    const store = new ChatStore({
      me: { key: me, name: "me" },
      channels: ["#General"],
      maxMessages: 10,
      names: () => undefined,
    });
    const typing = new Typing({ store, scope: scope(), nc: () => nc, now: () => now });
    for (; now < 7000; now += 100) typing.typing("#General");
    typing.typing(`@${BOB}`);
    expect(published).toEqual([
      `chat.KUBECON.typing.posts.General.${me}`,
      `chat.KUBECON.typing.posts.General.${me}`,
      `chat.KUBECON.typing.posts.General.${me}`,
      `chat.KUBECON.typing.dms.${BOB}.${me}`,
    ]);
  });
});

describe("notifications", () => {
  it("for a mention of us or a DM from someone else, unless muted", () => {
    const chan = new Conversation("#General", "channel", "General", 10);
    const dm = new Conversation(`@${BOB}`, "dm", BOB, 10);
    expect(notifyReason(chan, rec(BOB, "a"), ME)).toBeUndefined();
    expect(notifyReason(chan, rec(BOB, "b", { text: `hi <@${ME}>` }), ME)).toBe("mention");
    expect(notifyReason(dm, rec(BOB, "c"), ME)).toBe("dm");
    expect(notifyReason(dm, rec(ME, "d"), ME)).toBeUndefined(); // ours, from another device
    chan.setMuted(true);
    dm.setMuted(true);
    expect(notifyReason(chan, rec(BOB, "e", { text: `hi <@${ME}>` }), ME)).toBeUndefined();
    expect(notifyReason(dm, rec(BOB, "f"), ME)).toBeUndefined();
  });
});

describe("read position", () => {
  it("counts others' messages after the service's position; a live one without seq is unread", () => {
    const c = new Conversation("#NATS", "channel", "NATS", 100);
    c.mergeHistory([
      rec(BOB, "1", { seq: 10 }),
      rec(ME, "2", { seq: 11 }),
      rec(BOB, "3", { seq: 12, text: `ping <@${ME}>` }),
      rec(BOB, "4", { seq: 13 }),
    ]);
    c.setReadSeq(11, { resetHere: true, unread: 2, me: ME });
    expect(c.unread(ME)).toBe(2);
    expect(c.firstUnread(ME)).toBe(messageId(BOB, "3"));
    c.append(rec(BOB, "5")); // live: no sequence yet
    expect(c.unread(ME)).toBe(3);
    c.setReadSeq(13);
    expect(c.unread(ME)).toBe(1); // the live one: its position is unknown until looked up
    expect(c.readBeyondKnown()).toBe(false);
    c.setReadSeq(14); // another device read past it
    expect(c.readBeyondKnown()).toBe(true);
    c.setSeq(messageId(BOB, "5"), 14);
    expect(c.unread(ME)).toBe(0);
    c.setReadSeq(12); // never backward
    expect(c.readSeq).toBe(14);
  });

  it("counts unread messages older than those held from the service's count", () => {
    const c = new Conversation("#NATS", "channel", "NATS", 100);
    c.mergeHistory([rec(BOB, "1", { seq: 500 }), rec(BOB, "2", { seq: 501 })]);
    c.setReadSeq(100, { resetHere: true, unread: 401, me: ME });
    expect(c.unread(ME)).toBe(401);
    c.markRead();
    expect(c.unread(ME)).toBe(0);
    expect(c.readSeqHere()).toBe(501);
  });

  it("select keeps the separator where the first unread was, counts mentions, persists once", () => {
    const read: string[] = [];
    const store = new ChatStore({
      me: { key: ME, name: "me" },
      channels: ["#General", "#NATS"],
      maxMessages: 100,
      names: () => undefined,
      onRead: (c) => read.push(c.id),
    });
    store.setReadStateKnown();
    const nats = store.conversation("#NATS");
    store.placeHistory(
      nats,
      [rec(BOB, "1", { seq: 1 }), rec(BOB, "2", { seq: 2, text: `<@${ME}>` })],
      "initial",
    );
    nats.setReadSeq(1);
    const view = () => store.snapshot().channels.find((c) => c.id === "#NATS");
    expect(view()).toMatchObject({ unread: 1, mentions: 1, firstUnread: messageId(BOB, "2") });
    store.select("#NATS");
    expect(view()).toMatchObject({ unread: 0, mentions: 0, firstUnread: messageId(BOB, "2") });
    expect(read).toEqual(["#NATS"]);
    store.deliver(nats, rec(BOB, "3")); // arrives while on screen: read at once
    expect(view()).toMatchObject({ unread: 0, firstUnread: messageId(BOB, "2") });
    expect(read).toEqual(["#NATS", "#NATS"]);
    store.select("#General");
    expect(view()?.firstUnread).toBeUndefined();
  });

  it("the conversation on screen at start keeps its separator when history comes after the read state", () => {
    const store = new ChatStore({
      me: { key: ME, name: "me" },
      channels: ["#General"],
      maxMessages: 100,
      names: () => undefined,
    });
    store.setReadStateKnown();
    const general = store.conversation("#General");
    general.setReadSeq(1, { resetHere: true });
    store.select("#General"); // the read state came first: nothing held yet
    store.placeHistory(general, [rec(BOB, "1", { seq: 1 }), rec(BOB, "2", { seq: 2 })], "initial");
    expect(store.snapshot().channels[0]).toMatchObject({
      unread: 0,
      firstUnread: messageId(BOB, "2"),
    });
  });
});
