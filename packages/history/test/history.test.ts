// The history service against a real nats-server: a post or DM sent as a request is stored once
// and acked; channel and DM history pages come back oldest first with their live subjects; the
// requester is the server's word (Nats-Request-Info), never the request's; bad input gets a
// clear error reply, counted, and the service keeps serving.
import { headers, type NatsConnection } from "@nats-io/nats-core";
import type { HistoryService } from "@natschat/history";
import {
  dmSubject,
  EnvelopeVerifier,
  encodeDm,
  encodeHistoryDmsRequest,
  encodeHistoryPostsRequest,
  encodePost,
  HISTORY_DMS_SUBJECT,
  HISTORY_POSTS_SUBJECT,
  MSG_ID_HEADER,
  parseHistoryReply,
  parseStoreReply,
  postSubject,
  type Signer,
  signerFromSeed,
} from "@natschat/protocol";
import {
  connectChatUser,
  type MintedUser,
  mintChatUser,
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
let aliceNc: NatsConnection;
let bobNc: NatsConnection;
let carolNc: NatsConnection;
let aliceSigner: Signer;
let bobSigner: Signer;

const wire = (m: { data: Uint8Array; headers?: { get(k: string): string } }) => ({
  data: m.data,
  header: (k: string) => m.headers?.get(k) || undefined,
});

async function send(nc: NatsConnection, subject: string, token: string) {
  const r = await nc.request(subject, token, { timeout: 5000 });
  return parseStoreReply(wire(r));
}

async function posts(nc: NatsConnection, req: Parameters<typeof encodeHistoryPostsRequest>[0]) {
  const r = await nc.request(HISTORY_POSTS_SUBJECT, encodeHistoryPostsRequest(req), {
    timeout: 5000,
  });
  return parseHistoryReply(wire(r));
}

async function dms(nc: NatsConnection, req: Parameters<typeof encodeHistoryDmsRequest>[0] = {}) {
  const r = await nc.request(HISTORY_DMS_SUBJECT, encodeHistoryDmsRequest(req), { timeout: 5000 });
  return parseHistoryReply(wire(r));
}

beforeAll(async () => {
  stack = await startTestStack();
  history = await startTestHistory(stack);
  [alice, bob, carol] = (await Promise.all(
    ["alice", "bob", "carol"].map((n) => mintChatUser(stack.dir, n)),
  )) as [MintedUser, MintedUser, MintedUser];
  [aliceNc, bobNc, carolNc] = (await Promise.all(
    [alice, bob, carol].map((u) => connectChatUser(stack, u)),
  )) as [NatsConnection, NatsConnection, NatsConnection];
  aliceSigner = await signerFromSeed(alice.seed);
  bobSigner = await signerFromSeed(bob.seed);
}, 60_000);

afterAll(async () => {
  for (const nc of [aliceNc, bobNc, carolNc]) await nc?.close();
  await history?.stop();
  await stack?.stop();
});

describe("history service", () => {
  it("stores a post once, acks it, and serves it as channel history", async () => {
    const token = await encodePost(aliceSigner, { name: "alice", channel: "hist", msg: "one" });
    const subject = postSubject("hist", alice.publicKey);
    const first = await send(aliceNc, subject, token);
    expect(first).toMatchObject({ ok: true, value: { stream: "CHAT_POSTS" } });
    // a resend (same jti) is a duplicate, stored once
    const again = await send(aliceNc, subject, token);
    expect(again).toMatchObject({ ok: true, value: { duplicate: true } });
    if (!first.ok || !again.ok) throw new Error("unreachable");
    expect(again.value.seq).toBe(first.value.seq);
    for (let i = 0; i < 4; i++) {
      const t = await encodePost(aliceSigner, { name: "alice", channel: "hist", msg: `n${i}` });
      expect((await send(aliceNc, subject, t)).ok).toBe(true);
    }
    const page = await posts(bobNc, { channel: "hist", limit: 3 });
    if (!page.ok) throw new Error(page.message);
    expect(page.value.more).toBe(true);
    expect(page.value.messages).toHaveLength(3);
    const seqs = page.value.messages.map((m) => m.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs); // oldest first
    // every message verifies as a live message on the subject the page names
    const v = new EnvelopeVerifier();
    for (const m of page.value.messages) {
      expect(m.subject).toBe(subject);
      expect((await v.verify(m.token ?? "", { subject: m.subject })).ok).toBe(true);
    }
    const older = await posts(bobNc, { channel: "hist", before: seqs[0], limit: 10 });
    if (!older.ok) throw new Error(older.message);
    expect(older.value.messages.map((m) => m.seq)).toHaveLength(2);
    expect(older.value.more).toBe(false);
  });

  it("DM history: both directions for a participant, nothing for anyone else", async () => {
    const toBob = await encodeDm(aliceSigner, { name: "alice", to: bob.publicKey, msg: "hi bob" });
    expect((await send(aliceNc, dmSubject(bob.publicKey, alice.publicKey), toBob)).ok).toBe(true);
    const toAlice = await encodeDm(bobSigner, { name: "bob", to: alice.publicKey, msg: "hi" });
    expect((await send(bobNc, dmSubject(alice.publicKey, bob.publicKey), toAlice)).ok).toBe(true);
    for (const nc of [aliceNc, bobNc]) {
      const page = await dms(nc);
      if (!page.ok) throw new Error(page.message);
      expect(page.value.messages.map((m) => m.subject)).toEqual([
        dmSubject(bob.publicKey, alice.publicKey),
        dmSubject(alice.publicKey, bob.publicKey),
      ]);
    }
    const withPeer = await dms(aliceNc, { peer: bob.publicKey });
    expect(withPeer.ok && withPeer.value.messages).toHaveLength(2);
    // carol asks for "her DMs with bob" and for her own: she gets nothing of alice's and bob's
    expect(await dms(carolNc, { peer: bob.publicKey })).toMatchObject({
      ok: true,
      value: { messages: [], more: false },
    });
    expect(await dms(carolNc)).toMatchObject({ ok: true, value: { messages: [] } });
  });

  it("the requester is the server's word: a forged Nats-Request-Info is overridden", async () => {
    const h = headers();
    h.set(
      "Nats-Request-Info",
      JSON.stringify({ acc: stack.trust.summary.accounts.CHAT.publicKey, user: alice.publicKey }),
    );
    const r = await carolNc.request(HISTORY_DMS_SUBJECT, encodeHistoryDmsRequest({}), {
      timeout: 5000,
      headers: h,
    });
    expect(parseHistoryReply(wire(r))).toMatchObject({ ok: true, value: { messages: [] } });
  });

  it("refuses bad requests and bad messages with a clear, counted error, and keeps serving", async () => {
    const bad = [
      "{",
      "[]",
      '{"channel":"a.b"}',
      '{"channel":"x","limit":100000}',
      '{"channel":{"$gt":""}}',
      "x".repeat(5000),
    ];
    for (const body of bad) {
      const r = await bobNc.request(HISTORY_POSTS_SUBJECT, body, { timeout: 5000 });
      expect(parseHistoryReply(wire(r)), body.slice(0, 20)).toMatchObject({
        ok: false,
        code: "BAD_REQUEST",
        status: 400,
      });
    }
    const subject = postSubject("hist", alice.publicKey);
    for (const body of ["not a jwt", new Uint8Array([0xff, 0xfe]), "", "a.b.c"]) {
      expect(await send(aliceNc, subject, body as string)).toMatchObject({
        ok: false,
        code: "BAD_MESSAGE",
      });
    }
    // a header-only message with a Nats-Msg-Id of someone else's choosing changes nothing
    const h = headers();
    h.set(MSG_ID_HEADER, "whatever");
    const r = await aliceNc.request(subject, "", { headers: h, timeout: 5000 });
    expect(parseStoreReply(wire(r))).toMatchObject({ ok: false, code: "BAD_MESSAGE" });
    expect(history.writer.stats.refused.BAD_MESSAGE).toBeGreaterThanOrEqual(5);
    expect(history.readers.stats.posts.errors.BAD_REQUEST).toBeGreaterThanOrEqual(bad.length);
    expect((await posts(bobNc, { channel: "hist" })).ok).toBe(true);
  });

  it("a flooding sender cannot take every writer slot: another sender's posts are all stored", async () => {
    const flood = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        encodePost(bobSigner, { name: "bob", channel: "busy", msg: `flood ${i}` }),
      ),
    );
    const floodReplies = Promise.all(
      flood.map((t) =>
        send(bobNc, postSubject("busy", bob.publicKey), t).catch(() => ({ ok: false as const })),
      ),
    );
    const mine = [];
    for (let i = 0; i < 10; i++) {
      const t = await encodePost(aliceSigner, { name: "alice", channel: "busy", msg: `a${i}` });
      mine.push(await send(aliceNc, postSubject("busy", alice.publicKey), t));
    }
    expect(mine.every((r) => r.ok)).toBe(true);
    const replies = await floodReplies;
    expect(replies.filter((r) => !r.ok).length).toBeGreaterThan(0); // answered UNAVAILABLE
    expect(replies.some((r) => r.ok)).toBe(true);
  });

  it("refuses stale, future, misaddressed and mistyped messages with their codes", async () => {
    const old = await encodePost(aliceSigner, {
      name: "alice",
      channel: "hist",
      msg: "from 20 minutes ago",
      now: Date.now() - 20 * 60_000,
    });
    expect(await send(aliceNc, postSubject("hist", alice.publicKey), old)).toMatchObject({
      ok: false,
      code: "STALE",
      status: 409,
    });
    const future = await encodePost(aliceSigner, {
      name: "alice",
      channel: "hist",
      msg: "from the future",
      now: Date.now() + 10 * 60_000,
    });
    expect(await send(aliceNc, postSubject("hist", alice.publicKey), future)).toMatchObject({
      ok: false,
      code: "BAD_MESSAGE",
    });
    // a post for another channel, a DM for another recipient, a DM on a post subject
    const other = await encodePost(aliceSigner, { name: "alice", channel: "NATS", msg: "x" });
    const dmCarol = await encodeDm(aliceSigner, { name: "alice", to: carol.publicKey, msg: "x" });
    for (const [subject, token] of [
      [postSubject("hist", alice.publicKey), other],
      [dmSubject(bob.publicKey, alice.publicKey), dmCarol],
      [postSubject("hist", alice.publicKey), dmCarol],
    ] as const) {
      expect(await send(aliceNc, subject, token), subject).toMatchObject({
        ok: false,
        code: "BAD_MESSAGE",
      });
    }
    expect(history.writer.stats.reasons["wrong-subject"]).toBeGreaterThanOrEqual(3);
    expect(history.writer.stats.reasons.stale).toBeGreaterThanOrEqual(1);
  });
});
