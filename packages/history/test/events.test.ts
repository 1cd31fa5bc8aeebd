// Message events on the server path (issue 13), against a real nats-server and the history
// service: only the author edits or deletes (the writer refuses anyone else FORBIDDEN and
// publishes no update), an event on a message that does not exist is NOT_FOUND, replies are
// checked and listed as a thread with a counted root, DM events stay between the participants,
// an admin removes any message through `natschat moderate remove` (a tombstone "admin" in pages,
// and a log line naming the admin), and nobody can send an event under another's key (the
// server's permission violation). One stack for the file.

import { Kvm } from "@nats-io/kv";
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { createLogger } from "@natschat/access";
import type { HistoryService } from "@natschat/history";
import { stateKey } from "@natschat/history";
import {
  type Conv,
  decodeJwtUnverified,
  dmSubject,
  encodeDelete,
  encodeDm,
  encodeEdit,
  encodeHistoryDmsRequest,
  encodeHistoryPostsRequest,
  encodePost,
  encodeReaction,
  encodeThreadRequest,
  eventSubject,
  HISTORY_DMS_SUBJECT,
  HISTORY_POSTS_SUBJECT,
  HISTORY_THREAD_SUBJECT,
  type HistoryMessage,
  type MessageUpdate,
  messageId,
  parseEventReply,
  parseHistoryReply,
  parseStoreReply,
  parseThreadReply,
  parseUpdate,
  postSubject,
  type Signer,
  signerFromSeed,
  updatesSubject,
  userFeedSubject,
} from "@natschat/protocol";
import {
  connectChatUser,
  eventually,
  type MintedUser,
  mintChatUser,
  probePublish,
  runCli,
  startTestHistory,
  startTestStack,
  type TestStack,
} from "@natschat/testing";
import { connectRole, STATE_BUCKET } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let history: HistoryService;
const logLines: string[] = [];
let alice: MintedUser;
let bob: MintedUser;
let carol: MintedUser;
let aliceNc: NatsConnection;
let bobNc: NatsConnection;
let carolNc: NatsConnection;
const signers: Record<string, Signer> = {};

const wire = (m: { data: Uint8Array; headers?: { get(k: string): string } }) => ({
  data: m.data,
  header: (k: string) => m.headers?.get(k) || undefined,
});

/** Sends a signed post or DM as the writer takes it; returns the ack and the message id. */
async function say(nc: NatsConnection, subject: string, token: string) {
  const r = parseStoreReply(wire(await nc.request(subject, token, { timeout: 5000 })));
  const p = decodeJwtUnverified(token).payload as { iss: string; jti: string };
  return { reply: r, id: messageId(p.iss, p.jti), seq: r.ok ? r.value.seq : 0 };
}

async function post(u: MintedUser, nc: NatsConnection, channel: string, msg: string, re?: string) {
  const token = await encodePost(signers[u.name] as Signer, {
    name: u.name,
    channel,
    msg,
    ...(re ? { re } : {}),
  });
  return say(nc, postSubject(channel, u.publicKey), token);
}

async function event(u: MintedUser, nc: NatsConnection, conv: Conv, token: string) {
  const r = await nc.request(eventSubject(conv, u.publicKey), token, { timeout: 10_000 });
  return parseEventReply(wire(r));
}

async function page(nc: NatsConnection, channel: string): Promise<HistoryMessage[]> {
  const r = await nc.request(HISTORY_POSTS_SUBJECT, encodeHistoryPostsRequest({ channel }), {
    timeout: 5000,
  });
  const p = parseHistoryReply(wire(r));
  if (!p.ok) throw new Error(`${p.code} ${p.message}`);
  return p.value.messages;
}

async function thread(nc: NatsConnection, root: string, limit?: number) {
  const body = encodeThreadRequest({ root, ...(limit ? { limit } : {}) });
  const r = await nc.request(HISTORY_THREAD_SUBJECT, body, { timeout: 5000 });
  return parseThreadReply(wire(r));
}

/** Collects the updates arriving on `subject`; next() waits for the next one (or fails). */
async function updates(nc: NatsConnection, subject: string) {
  const got: MessageUpdate[] = [];
  const waiting: (() => void)[] = [];
  const sub: Subscription = nc.subscribe(subject, {
    callback: (_err, m) => {
      const u = parseUpdate(m.data);
      if (u) got.push(u);
      for (const w of waiting.splice(0)) w();
    },
  });
  await nc.flush();
  let read = 0;
  return {
    got,
    sub,
    async next(): Promise<MessageUpdate> {
      const deadline = Date.now() + 10_000;
      while (got.length <= read) {
        if (Date.now() > deadline) throw new Error(`no update on ${subject}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 10_000);
          waiting.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return got[read++] as MessageUpdate;
    },
  };
}

beforeAll(async () => {
  stack = await startTestStack();
  history = await startTestHistory(stack, {
    log: createLogger({ level: "info", sink: (l) => logLines.push(l) }),
  });
  [alice, bob, carol] = (await Promise.all(
    ["alice", "bob", "carol"].map((n) => mintChatUser(stack.dir, n)),
  )) as [MintedUser, MintedUser, MintedUser];
  [aliceNc, bobNc, carolNc] = (await Promise.all(
    [alice, bob, carol].map((u) => connectChatUser(stack, u)),
  )) as [NatsConnection, NatsConnection, NatsConnection];
  for (const u of [alice, bob, carol]) signers[u.name] = await signerFromSeed(u.seed);
}, 60_000);

afterAll(async () => {
  for (const nc of [aliceNc, bobNc, carolNc]) await nc?.close();
  await history?.stop();
  await stack?.stop();
});

describe("message events on the server path", () => {
  it("only the author edits or deletes; a refused event publishes no update; pages show the state", async () => {
    const conv: Conv = { kind: "post", channel: "ev" };
    const feed = await updates(carolNc, updatesSubject("ev"));
    const { id, seq } = await post(alice, aliceNc, "ev", "hello");
    const as = (u: MintedUser) => ({ name: u.name, conv, target: id });

    // bob edits and deletes alice's message: refused by the writer
    const bobEdit = await encodeEdit(signers.bob as Signer, { ...as(bob), msg: "pwned" });
    expect(await event(bob, bobNc, conv, bobEdit)).toMatchObject({ ok: false, code: "FORBIDDEN" });
    const bobDelete = await encodeDelete(signers.bob as Signer, as(bob));
    expect(await event(bob, bobNc, conv, bobDelete)).toMatchObject({
      ok: false,
      code: "FORBIDDEN",
    });
    expect((await page(carolNc, "ev")).find((m) => m.seq === seq)?.state).toBeUndefined();

    // alice's own edit is stored, answered with the new state, and published
    const edit = await encodeEdit(signers.alice as Signer, { ...as(alice), msg: "hello, edited" });
    const edited = await event(alice, aliceNc, conv, edit);
    expect(edited).toMatchObject({ ok: true, value: { id, seq, store: "posts" } });
    expect(edited.ok && edited.value.state.edit).toBe(edit);
    // the first update on the channel is alice's: bob's refused events published nothing
    // (they were answered before alice sent hers, and one connection publishes in order)
    expect(await feed.next()).toMatchObject({ id, seq, state: { edit } });
    let mine = (await page(carolNc, "ev")).find((m) => m.seq === seq);
    expect(mine?.state?.edit).toBe(edit);
    expect(mine?.token).toBeDefined();

    // an older edit arriving late (a resend) does not replace the newer one, and says so
    const older = await encodeEdit(signers.alice as Signer, {
      ...as(alice),
      msg: "hello, first try",
      now: Date.now() - 5000,
    });
    const late = await event(alice, aliceNc, conv, older);
    expect(late.ok && late.value.state.edit).toBe(edit);
    expect(history.events.stats.unchanged).toBe(1);

    // anyone in the channel reacts; the same reaction twice changes nothing
    const react = await encodeReaction(signers.bob as Signer, {
      ...as(bob),
      emoji: "👍",
      op: "add",
    });
    expect(await event(bob, bobNc, conv, react)).toMatchObject({
      ok: true,
      value: { state: { reactions: { "👍": [bob.publicKey] } } },
    });
    expect((await feed.next()).state.reactions).toEqual({ "👍": [bob.publicKey] });

    // alice deletes: a tombstone (no token) in the next page, by "author"
    const del = await encodeDelete(signers.alice as Signer, as(alice));
    expect(await event(alice, aliceNc, conv, del)).toMatchObject({
      ok: true,
      value: { state: { deleted: { by: "author" } } },
    });
    expect((await feed.next()).state.deleted?.by).toBe("author");
    mine = (await page(carolNc, "ev")).find((m) => m.seq === seq);
    expect(mine?.token).toBeUndefined();
    expect(mine?.state).toMatchObject({ deleted: { by: "author" } });
    expect(mine?.state?.edit).toBeUndefined();
    // an edit of a deleted message is refused; exactly three updates were published
    const again = await encodeEdit(signers.alice as Signer, { ...as(alice), msg: "again" });
    expect(await event(alice, aliceNc, conv, again)).toMatchObject({
      ok: false,
      code: "NOT_FOUND",
    });
    expect(feed.got.map((u) => Object.keys(u.state).sort().join(","))).toEqual([
      "edit",
      "edit,reactions",
      "deleted",
    ]);
    expect(history.events.stats.refused.FORBIDDEN).toBe(2);
    feed.sub.unsubscribe();
  }, 60_000);

  it("a state another replica changed is served by the next pages (the watch retires a cached one)", async () => {
    const conv: Conv = { kind: "post", channel: "cache" };
    const { id, seq } = await post(alice, aliceNc, "cache", "cached");
    const react = await encodeReaction(signers.bob as Signer, {
      name: "bob",
      conv,
      target: id,
      emoji: "👍",
      op: "add",
    });
    expect((await event(bob, bobNc, conv, react)).ok).toBe(true);
    const stateOf = async () => (await page(carolNc, "cache")).find((m) => m.seq === seq)?.state;
    expect(await stateOf()).toEqual({ reactions: { "👍": [bob.publicKey] } });
    // another replica (the same role, its own connection) writes the next state
    const other = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("history"),
      inboxOwner: "history",
    });
    try {
      const kv = await new Kvm(other).open(STATE_BUCKET);
      const entry = await kv.get(stateKey("posts", seq));
      const next = { reactions: { "👍": [bob.publicKey, carol.publicKey] } };
      await kv.update(stateKey("posts", seq), JSON.stringify(next), entry?.revision ?? 0);
      await eventually(
        async () => JSON.stringify(await stateOf()) === JSON.stringify(next),
        "the page to carry the other replica's state",
      );
    } finally {
      await other.close();
    }
  }, 30_000);

  it("two replicas applying reactions to one message at once lose none (compare-and-set)", async () => {
    const second = await startTestHistory(stack, { ensureStores: false, replicaId: "second" });
    const crowd = await Promise.all(
      Array.from({ length: 12 }, (_, i) => mintChatUser(stack.dir, `fan${i}`)),
    );
    const conns = await Promise.all(crowd.map((u) => connectChatUser(stack, u)));
    try {
      const conv: Conv = { kind: "post", channel: "crowd" };
      const { id, seq } = await post(alice, aliceNc, "crowd", "react to me");
      const tokens = await Promise.all(
        crowd.map(async (u) =>
          encodeReaction(await signerFromSeed(u.seed), {
            name: u.name,
            conv,
            target: id,
            emoji: "👍",
            op: "add",
          }),
        ),
      );
      // all at once: the queue group spreads them over both replicas
      const answers = await Promise.all(
        crowd.map((u, i) => event(u, conns[i] as NatsConnection, conv, tokens[i] as string)),
      );
      expect(answers.every((a) => a.ok)).toBe(true);
      const m = (await page(carolNc, "crowd")).find((x) => x.seq === seq);
      expect([...(m?.state?.reactions?.["👍"] ?? [])].sort()).toEqual(
        crowd.map((u) => u.publicKey).sort(),
      );
      // both replicas took some (else this would not test the compare-and-set)
      expect(second.events.stats.applied).toBeGreaterThan(0);
    } finally {
      await Promise.all(conns.map((nc) => nc.close()));
      await second.stop();
    }
  }, 60_000);

  it("a reaction to a message that does not exist, or in another conversation, is NOT_FOUND", async () => {
    const conv: Conv = { kind: "post", channel: "ev" };
    const missing = messageId(alice.publicKey, "no-such-message");
    const react = await encodeReaction(signers.bob as Signer, {
      name: "bob",
      conv,
      target: missing,
      emoji: "🎉",
      op: "add",
    });
    expect(await event(bob, bobNc, conv, react)).toMatchObject({ ok: false, code: "NOT_FOUND" });
    // alice's message in #ev, reacted to as if it were in #other
    const { id } = await post(alice, aliceNc, "ev", "where am I");
    const other: Conv = { kind: "post", channel: "other" };
    const elsewhere = await encodeReaction(signers.bob as Signer, {
      name: "bob",
      conv: other,
      target: id,
      emoji: "🎉",
      op: "add",
    });
    expect(await event(bob, bobNc, other, elsewhere)).toMatchObject({
      ok: false,
      code: "NOT_FOUND",
    });
    // the reducer's limit holds on the server path: 20 distinct emoji on one message, no more
    const many =
      "😀😃😄😁😆😅😂🤣😊😇🙂🙃😉😌😍🥰😘😗😙😚😋".match(/\p{Extended_Pictographic}/gu) ?? [];
    expect(many).toHaveLength(21);
    const outcomes = [];
    for (const emoji of many) {
      const t = await encodeReaction(signers.bob as Signer, {
        name: "bob",
        conv,
        target: id,
        emoji,
        op: "add",
      });
      outcomes.push(await event(bob, bobNc, conv, t));
    }
    expect(outcomes.slice(0, 20).every((o) => o.ok)).toBe(true);
    expect(outcomes[20]).toMatchObject({ ok: false, code: "LIMIT" });
    // garbage on the event subject is a clear refusal, and the service keeps serving
    const aPost = await encodePost(signers.bob as Signer, { name: "bob", channel: "ev", msg: "x" });
    for (const body of ["not a jwt", "", new Uint8Array([0xff, 0xfe]), aPost, "x".repeat(16_000)]) {
      const r = await bobNc.request(eventSubject(conv, bob.publicKey), body, { timeout: 5000 });
      expect(parseEventReply(wire(r)), String(body).slice(0, 20)).toMatchObject({
        ok: false,
        code: "BAD_MESSAGE",
      });
    }
    // a bad thread request is a clear refusal too
    const t = await bobNc.request(HISTORY_THREAD_SUBJECT, '{"root":"nope"}', { timeout: 5000 });
    expect(parseThreadReply(wire(t))).toMatchObject({ ok: false, code: "BAD_REQUEST" });
  }, 30_000);

  it("replies: the target must exist in the conversation; the thread lists them; the root counts them", async () => {
    const feed = await updates(carolNc, updatesSubject("th"));
    const root = await post(alice, aliceNc, "th", "a question");
    const first = await post(bob, bobNc, "th", "an answer", root.id);
    expect(first.reply.ok).toBe(true);
    // a reply to the reply joins the root's thread
    const second = await post(carol, carolNc, "th", "another answer", first.id);
    expect(second.reply.ok).toBe(true);
    // a reply to nothing, or to a message of another channel, is refused and not stored
    const ghost = await post(bob, bobNc, "th", "to nobody", messageId(alice.publicKey, "nope"));
    expect(ghost.reply).toMatchObject({ ok: false, code: "NOT_FOUND" });
    const astray = await post(bob, bobNc, "other", "wrong channel", root.id);
    expect(astray.reply).toMatchObject({ ok: false, code: "NOT_FOUND" });

    const t = await thread(carolNc, root.id);
    if (!t.ok) throw new Error(t.message);
    expect(t.value.root?.seq).toBe(root.seq);
    expect(t.value.messages.map((m) => m.seq)).toEqual([first.seq, second.seq]);
    expect(t.value.more).toBe(false);
    const one = await thread(carolNc, root.id, 1);
    expect(one.ok && one.value.messages.map((m) => m.seq)).toEqual([second.seq]);
    expect(one.ok && one.value.more).toBe(true);

    const stored = (await page(carolNc, "th")).map((m) => [m.seq, m.state?.replies] as const);
    expect(stored).toEqual([
      [root.seq, { count: 2, last: second.id }],
      [first.seq, undefined],
      [second.seq, undefined],
    ]);
    expect((await feed.next()).state.replies).toEqual({ count: 1, last: first.id });
    expect((await feed.next()).state.replies).toEqual({ count: 2, last: second.id });
    feed.sub.unsubscribe();
  }, 30_000);

  it("DM events stay between the participants: updates on both private feeds only", async () => {
    const aliceFeed = await updates(aliceNc, userFeedSubject(alice.publicKey, "updates"));
    const bobFeed = await updates(bobNc, userFeedSubject(bob.publicKey, "updates"));
    const token = await encodeDm(signers.alice as Signer, {
      name: "alice",
      to: bob.publicKey,
      msg: "psst",
    });
    const dm = await say(aliceNc, dmSubject(bob.publicKey, alice.publicKey), token);
    const toAlice: Conv = { kind: "dm", peer: alice.publicKey };
    const react = await encodeReaction(signers.bob as Signer, {
      name: "bob",
      conv: toAlice,
      target: dm.id,
      emoji: "👀",
      op: "add",
    });
    expect(await event(bob, bobNc, toAlice, react)).toMatchObject({
      ok: true,
      value: { store: "dms", seq: dm.seq, state: { reactions: { "👀": [bob.publicKey] } } },
    });
    for (const feed of [aliceFeed, bobFeed]) {
      expect(await feed.next()).toMatchObject({ id: dm.id, store: "dms" });
    }
    // carol names the message in her own DM with alice: not there
    const carolReact = await encodeReaction(signers.carol as Signer, {
      name: "carol",
      conv: toAlice,
      target: dm.id,
      emoji: "👀",
      op: "add",
    });
    expect(await event(carol, carolNc, toAlice, carolReact)).toMatchObject({
      ok: false,
      code: "NOT_FOUND",
    });
    // a DM reply; its thread is the participants' only
    const replyToken = await encodeDm(signers.bob as Signer, {
      name: "bob",
      to: alice.publicKey,
      msg: "psst back",
      re: dm.id,
    });
    const reply = await say(bobNc, dmSubject(alice.publicKey, bob.publicKey), replyToken);
    expect(reply.reply.ok).toBe(true);
    const theirs = await thread(aliceNc, dm.id);
    expect(theirs.ok && theirs.value.root?.seq).toBe(dm.seq);
    expect(theirs.ok && theirs.value.messages.map((m) => m.seq)).toEqual([reply.seq]);
    expect(await thread(carolNc, dm.id)).toEqual({
      ok: true,
      value: { messages: [], more: false },
    });
    // the DM page carries the state too
    const r = await aliceNc.request(HISTORY_DMS_SUBJECT, encodeHistoryDmsRequest({}), {
      timeout: 5000,
    });
    const dms = parseHistoryReply(wire(r));
    const stored = dms.ok ? dms.value.messages.find((m) => m.seq === dm.seq) : undefined;
    expect(stored?.state).toEqual({
      reactions: { "👀": [bob.publicKey] },
      replies: { count: 1, last: reply.id },
    });
    aliceFeed.sub.unsubscribe();
    bobFeed.sub.unsubscribe();
  }, 30_000);

  it("an admin removes any message with `natschat moderate remove`: a tombstone by admin, logged", async () => {
    const { id, seq } = await post(bob, bobNc, "mod", "something awful");
    const feed = await updates(carolNc, updatesSubject("mod"));
    const cli = await runCli([
      "moderate",
      "remove",
      id,
      "--dir",
      stack.dir,
      "--server",
      stack.urls[0] as string,
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/removed/);
    expect(await feed.next()).toMatchObject({ id, state: { deleted: { by: "admin" } } });
    const m = (await page(carolNc, "mod")).find((x) => x.seq === seq);
    expect(m?.token).toBeUndefined();
    expect(m?.state?.deleted?.by).toBe("admin");
    const line = logLines.map((l) => JSON.parse(l)).find((l) => l.target === id);
    expect(line).toMatchObject({
      level: "info",
      admin: stack.trust.summary.roles.admin.publicKey,
      target: id,
    });
    // a removal of a message that is not there says so
    const none = await runCli([
      "moderate",
      "remove",
      messageId(bob.publicKey, "gone"),
      "--dms",
      "--dir",
      stack.dir,
      "--server",
      stack.urls[0] as string,
    ]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(
      /\[NOT_FOUND\] there is no such message; if it is a channel post, leave out --dms/,
    );
    feed.sub.unsubscribe();
  }, 60_000);

  it("nobody sends an event or a removal under another's key: the server refuses the publish", async () => {
    const conv: Conv = { kind: "post", channel: "ev" };
    expect(await probePublish(bobNc, eventSubject(conv, alice.publicKey))).toBe("denied");
    expect(await probePublish(bobNc, "chat.mod.remove")).toBe("denied");
    expect(await probePublish(bobNc, updatesSubject("ev"))).toBe("denied");
    // alice's signed edit, sent by bob on his own subject: the signer is not the subject's key
    const { id } = await post(alice, aliceNc, "ev", "mine");
    const edit = await encodeEdit(signers.alice as Signer, {
      name: "alice",
      conv,
      target: id,
      msg: "still mine",
    });
    expect(await event(bob, bobNc, conv, edit)).toMatchObject({
      ok: false,
      code: "BAD_MESSAGE",
    });
    expect(history.events.stats.reasons["signer-mismatch"]).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
