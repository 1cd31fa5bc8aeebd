// Read state (issue 13) against a real nats-server: one user's two sessions (two connections
// with the same creds) share it through chat.svc.history.readstate and the user's private feed;
// unread counts come from the history index (messages after the position, not the user's own);
// positions only move forward; mutes are kept; the identity is the server's, so nobody reads or
// writes another's state, and nobody but the user can hear its feed; the document is bounded.
import { headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import type { HistoryService } from "@natschat/history";
import {
  dmSubject,
  encodeDm,
  encodePost,
  encodeReadStateRequest,
  HISTORY_READSTATE_SUBJECT,
  parseReadState,
  parseReadStateReply,
  parseStoreReply,
  postSubject,
  READ_STATE_MAX_CONVERSATIONS,
  type ReadState,
  type ReadStateRequest,
  type Signer,
  signerFromSeed,
  userFeedSubject,
} from "@natschat/protocol";
import {
  connectChatUser,
  type MintedUser,
  mintChatUser,
  probeSubscribe,
  startTestHistory,
  startTestStack,
  type TestStack,
} from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let history: HistoryService;
let alice: MintedUser;
let bob: MintedUser;
let carol: MintedUser;
/** Alice's two sessions: say, the web page and the terminal. */
let aliceWeb: NatsConnection;
let aliceTerm: NatsConnection;
let bobNc: NatsConnection;
let carolNc: NatsConnection;
let signers: Record<string, Signer>;

const wire = (m: Msg) => ({ data: m.data, header: (k: string) => m.headers?.get(k) || undefined });

async function readState(nc: NatsConnection, req: ReadStateRequest | string, h?: Msg["headers"]) {
  const body = typeof req === "string" ? req : encodeReadStateRequest(req);
  const r = await nc.request(HISTORY_READSTATE_SUBJECT, body, {
    timeout: 5000,
    ...(h ? { headers: h } : {}),
  });
  return parseReadStateReply(wire(r));
}

async function ok(nc: NatsConnection, req: ReadStateRequest): Promise<ReadState> {
  const r = await readState(nc, req);
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.value;
}

async function post(user: MintedUser, nc: NatsConnection, channel: string, msg: string) {
  const token = await encodePost(signers[user.name] as Signer, { name: user.name, channel, msg });
  const r = parseStoreReply(wire(await nc.request(postSubject(channel, user.publicKey), token)));
  if (!r.ok) throw new Error(r.message);
  return r.value.seq;
}

async function dm(user: MintedUser, nc: NatsConnection, to: MintedUser, msg: string) {
  const token = await encodeDm(signers[user.name] as Signer, {
    name: user.name,
    to: to.publicKey,
    msg,
  });
  const subject = dmSubject(to.publicKey, user.publicKey);
  const r = parseStoreReply(wire(await nc.request(subject, token)));
  if (!r.ok) throw new Error(r.message);
  return r.value.seq;
}

/** The next message on `sub`, or a loud failure after `ms`. */
const iterators = new WeakMap<Subscription, AsyncIterator<Msg>>();
async function next(sub: Subscription, ms = 5000): Promise<Msg> {
  const it = iterators.get(sub) ?? sub[Symbol.asyncIterator]();
  iterators.set(sub, it);
  const timer = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`nothing on ${sub.getSubject()} in ${ms} ms`)), ms),
  );
  const r = await Promise.race([it.next(), timer]);
  if (r.done) throw new Error(`${sub.getSubject()} closed`);
  return r.value;
}

beforeAll(async () => {
  stack = await startTestStack();
  history = await startTestHistory(stack);
  [alice, bob, carol] = (await Promise.all(
    ["alice", "bob", "carol"].map((n) => mintChatUser(stack.dir, n)),
  )) as [MintedUser, MintedUser, MintedUser];
  [aliceWeb, aliceTerm, bobNc, carolNc] = (await Promise.all(
    [alice, alice, bob, carol].map((u) => connectChatUser(stack, u)),
  )) as [NatsConnection, NatsConnection, NatsConnection, NatsConnection];
  signers = {
    alice: await signerFromSeed(alice.seed),
    bob: await signerFromSeed(bob.seed),
    carol: await signerFromSeed(carol.seed),
  };
}, 60_000);

afterAll(async () => {
  for (const nc of [aliceWeb, aliceTerm, bobNc, carolNc]) await nc?.close();
  await history?.stop();
  await stack?.stop();
});

describe("read state", () => {
  it("is shared by two sessions of one user: a read from one reaches the other's feed, and both get the same state", async () => {
    const b1 = await post(bob, bobNc, "General", "one");
    await post(bob, bobNc, "General", "two");
    await post(alice, aliceWeb, "General", "mine"); // her own: never unread for her
    const b3 = await post(bob, bobNc, "General", "three");
    const feed = aliceTerm.subscribe(userFeedSubject(alice.publicKey, "read"));
    await aliceTerm.flush();

    const fresh = await ok(aliceWeb, { op: "get" });
    expect(fresh.read).toEqual({});
    expect(fresh.muted).toEqual([]);

    const started = performance.now();
    const answer = await ok(aliceWeb, { op: "read", conv: "#General", seq: b1 });
    const pushed = parseReadState((await next(feed)).data);
    console.log(
      `read state: the other session heard the change after ${(performance.now() - started).toFixed(1)} ms`,
    );
    expect(answer.read["#General"]).toBe(b1);
    // after b1: "two", alice's own "mine", "three": two unread for her
    expect(answer.unread["#General"]).toBe(2);
    expect(pushed).toEqual(answer);
    const [web, term] = await Promise.all([
      ok(aliceWeb, { op: "get" }),
      ok(aliceTerm, { op: "get" }),
    ]);
    expect(term).toEqual(web);
    expect(term.read["#General"]).toBe(b1);

    // a position only moves forward: an older one (another device catching up late) is ignored
    const moved = await ok(aliceTerm, { op: "read", conv: "#General", seq: b3 });
    expect(moved.unread["#General"]).toBe(0);
    expect((await ok(aliceWeb, { op: "read", conv: "#General", seq: b1 })).read["#General"]).toBe(
      b3,
    );
    expect(parseReadState((await next(feed)).data)?.read["#General"]).toBe(b3);
    feed.unsubscribe();
  });

  it("counts unread DMs per peer from the index, without the user's own, and mutes", async () => {
    const d1 = await dm(bob, bobNc, alice, "hi alice");
    await dm(alice, aliceWeb, bob, "hi bob");
    await dm(bob, bobNc, alice, "how are you");
    await dm(carol, carolNc, alice, "psst");
    const before = await ok(aliceTerm, { op: "get" });
    // every DM peer is listed, with a position or not
    expect(before.unread[`@${bob.publicKey}`]).toBe(2);
    expect(before.unread[`@${carol.publicKey}`]).toBe(1);
    const after = await ok(aliceTerm, { op: "read", conv: `@${bob.publicKey}`, seq: d1 });
    expect(after.unread[`@${bob.publicKey}`]).toBe(1);
    // bob's own view counts alice's DM only
    expect((await ok(bobNc, { op: "get" })).unread[`@${alice.publicKey}`]).toBe(1);

    const feed = aliceWeb.subscribe(userFeedSubject(alice.publicKey, "read"));
    await aliceWeb.flush();
    const muted = await ok(aliceTerm, { op: "mute", conv: "#General", muted: true });
    expect(muted.muted).toEqual(["#General"]);
    expect(parseReadState((await next(feed)).data)?.muted).toEqual(["#General"]);
    expect((await ok(aliceWeb, { op: "get" })).muted).toEqual(["#General"]);
    const unmuted = await ok(aliceWeb, { op: "mute", conv: "#General", muted: false });
    expect(unmuted.muted).toEqual([]);
    expect(parseReadState((await next(feed)).data)?.muted).toEqual([]);
    // changes at once from both sessions: compare-and-set, so none is lost
    const convs = ["#a1", "#a2", "#a3", "#a4"];
    await Promise.all(
      convs.map((conv, i) => ok(i % 2 ? aliceWeb : aliceTerm, { op: "mute", conv, muted: true })),
    );
    expect([...(await ok(aliceWeb, { op: "get" })).muted].sort()).toEqual(convs);
    feed.unsubscribe();
  });

  it("belongs to its user only: the identity is the server's and the feed is private", async () => {
    const aliceBefore = await ok(aliceWeb, { op: "get" });
    // carol claims to be alice in her own Nats-Request-Info: the server's copy replaces it
    const h = headers();
    h.set(
      "Nats-Request-Info",
      JSON.stringify({ acc: stack.trust.summary.accounts.CHAT.publicKey, user: alice.publicKey }),
    );
    const forged = await readState(carolNc, { op: "mute", conv: "#General", muted: true }, h);
    expect(forged).toMatchObject({ ok: true, value: { muted: ["#General"] } });
    expect(forged.ok && forged.value.read).toEqual({}); // carol's own state, not alice's
    expect(await ok(aliceWeb, { op: "get" })).toEqual(aliceBefore);
    // the server refuses carol a subscription to alice's feed (or to everyone's)
    expect(await probeSubscribe(carolNc, userFeedSubject(alice.publicKey, "read"))).toBe("denied");
    expect(await probeSubscribe(carolNc, "chat.KUBECON.user.*.read")).toBe("denied");
    expect(await probeSubscribe(carolNc, userFeedSubject(carol.publicKey, "read"))).toBe("allowed");
  });

  it("refuses bad requests with a clear error, and bounds the document", async () => {
    const cases: [string, RegExp][] = [
      ["{", /not JSON/],
      ['{"op":"zap"}', /op must be/],
      ['{"op":"read","conv":"General","seq":1}', /conv must be/],
      ['{"op":"read","conv":"#General","seq":0}', /seq must be/],
      ['{"op":"mute","conv":"#General","muted":"yes"}', /muted must be/],
      ['{"op":"get","user":"someone"}', /unknown field/],
      // a position beyond the newest stored message would hide every future message
      ['{"op":"read","conv":"#General","seq":1000000000}', /beyond the newest/],
    ];
    for (const [body, message] of cases) {
      const r = await readState(bobNc, body);
      expect(r, body).toMatchObject({ ok: false, code: "BAD_REQUEST", status: 400 });
      expect(!r.ok && r.message, body).toMatch(message);
    }
    // carol fills her document to the bound: one more conversation is refused, nothing is lost
    const seq = await post(carol, carolNc, "General", "x");
    for (let i = 1; i < READ_STATE_MAX_CONVERSATIONS; i++) {
      await ok(carolNc, { op: "read", conv: `#c${i}`, seq });
    }
    const full = await ok(carolNc, { op: "get" });
    expect(Object.keys(full.read).length + full.muted.length).toBe(READ_STATE_MAX_CONVERSATIONS);
    const refused = await readState(carolNc, { op: "mute", conv: "#one-more", muted: true });
    expect(refused).toMatchObject({ ok: false, code: "LIMIT" });
    expect(!refused.ok && refused.message).toMatch(`${READ_STATE_MAX_CONVERSATIONS} conversations`);
    // a conversation already held still moves
    expect((await ok(carolNc, { op: "read", conv: "#c1", seq: seq })).read["#c1"]).toBe(seq);
    expect((await ok(carolNc, { op: "get" })).read[`#c${READ_STATE_MAX_CONVERSATIONS - 1}`]).toBe(
      seq,
    );
  }, 60_000);
});
