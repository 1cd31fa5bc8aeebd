// Issue 13's envelopes and the reducer that decides their rules: every new envelope round-trips,
// a forged author is dropped, editing or deleting someone else's message is refused, and a
// reaction to a message that does not exist is refused.
import { createUser, type KeyPair } from "@nats-io/nkeys";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addReply,
  applyMessageEvent,
  type Conv,
  dmSubject,
  EnvelopeError,
  EnvelopeVerifier,
  type EventEnvelope,
  encodeDelete,
  encodeDm,
  encodeEdit,
  encodeModeration,
  encodePost,
  encodeReaction,
  encodeUpdate,
  eventSubject,
  MAX_DISTINCT_REACTIONS,
  type MessageState,
  MODERATION_SUBJECT,
  type ModerateEnvelope,
  mentionOf,
  mentionsOf,
  messageId,
  parseMessageState,
  parseUpdate,
  postSubject,
  type Signer,
  signerFromSeed,
  splitMentions,
  type TargetMessage,
} from "../src/mod.ts";
import { forge, nowSeconds, payloadOf, seedOf, swapPayload } from "./fixtures.ts";

let aliceKp: KeyPair;
let alice: Signer;
let bob: Signer;
let carol: Signer;
const general: Conv = { kind: "post", channel: "General" };
const target = () => messageId(alice.publicKey, "AAAAAAAAAAAAAAAAAAAAAA");

beforeAll(async () => {
  aliceKp = createUser();
  alice = await signerFromSeed(seedOf(aliceKp));
  bob = await signerFromSeed(seedOf(createUser()));
  carol = await signerFromSeed(seedOf(createUser()));
});

async function verified(token: string, subject: string) {
  const r = await new EnvelopeVerifier().verify(token, { subject });
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.envelope;
}

describe("event envelopes round-trip", () => {
  it("a reply is a post or DM with re", async () => {
    const re = target();
    const post = await encodePost(bob, { name: "bob", channel: "General", msg: "yes", re });
    expect(await verified(post, postSubject("General", bob.publicKey))).toMatchObject({
      type: "chat-post",
      channel: "General",
      msg: "yes",
      re,
    });
    const dm = await encodeDm(bob, { name: "bob", to: alice.publicKey, msg: "ok", re });
    expect(await verified(dm, dmSubject(alice.publicKey, bob.publicKey))).toMatchObject({
      type: "chat-dm",
      to: alice.publicKey,
      re,
    });
    // a plain post carries no re at all (the talk's format, unchanged)
    const plain = await encodePost(bob, { name: "bob", channel: "General", msg: "hi" });
    expect((payloadOf(plain).nats as Record<string, unknown>).re).toBeUndefined();
  });

  it("edit, react and delete in a channel and a DM", async () => {
    const subject = eventSubject(general, alice.publicKey);
    const edit = await encodeEdit(alice, {
      name: "alice",
      conv: general,
      target: target(),
      msg: "v2",
    });
    expect(await verified(edit, subject)).toMatchObject({
      type: "chat-edit",
      conv: general,
      target: target(),
      msg: "v2",
      iss: alice.publicKey,
    });
    const react = await encodeReaction(alice, {
      name: "alice",
      conv: general,
      target: target(),
      emoji: "👍🏽",
      op: "add",
    });
    expect(await verified(react, subject)).toMatchObject({
      type: "chat-react",
      emoji: "👍🏽",
      op: "add",
    });
    const dmConv: Conv = { kind: "dm", peer: bob.publicKey };
    const del = await encodeDelete(alice, { name: "alice", conv: dmConv, target: target() });
    expect(await verified(del, eventSubject(dmConv, alice.publicKey))).toMatchObject({
      type: "chat-delete",
      conv: dmConv,
      target: target(),
    });
  });

  it("an admin removal is accepted on the moderation subject only", async () => {
    const token = await encodeModeration(carol, {
      name: "admin",
      target: target(),
      store: "posts",
    });
    expect(await verified(token, MODERATION_SUBJECT)).toMatchObject({
      type: "chat-moderate",
      action: "remove",
      store: "posts",
      target: target(),
    });
    const r = await new EnvelopeVerifier().verify(token, {
      subject: eventSubject(general, carol.publicKey),
    });
    expect(r).toMatchObject({ ok: false, reason: "wrong-subject" });
  });

  it("encoders refuse what no verifier would take", async () => {
    await expect(
      encodeReaction(alice, { name: "a", conv: general, target: target(), emoji: "ok", op: "add" }),
    ).rejects.toThrow(EnvelopeError);
    await expect(
      encodeReaction(alice, {
        name: "a",
        conv: general,
        target: target(),
        emoji: "👍 👍",
        op: "add",
      }),
    ).rejects.toThrow(EnvelopeError);
    await expect(
      encodeEdit(alice, { name: "a", conv: general, target: "not-an-id", msg: "x" }),
    ).rejects.toThrow(/message id/);
    await expect(
      encodePost(alice, {
        name: "a",
        channel: "General",
        msg: "x",
        re: `${alice.publicKey}.bad jti`,
      }),
    ).rejects.toThrow(/message id/);
  });
});

describe("forged events are dropped", () => {
  it("an event signed by one key on another key's subject (a forged author)", async () => {
    const edit = await encodeEdit(bob, {
      name: "bob",
      conv: general,
      target: target(),
      msg: "mine now",
    });
    const r = await new EnvelopeVerifier().verify(edit, {
      subject: eventSubject(general, alice.publicKey),
    });
    expect(r).toMatchObject({ ok: false, reason: "signer-mismatch" });
  });

  it("an event whose iss was rewritten to the author's key", async () => {
    const edit = await encodeEdit(bob, {
      name: "bob",
      conv: general,
      target: target(),
      msg: "mine now",
    });
    const forged = swapPayload(edit, { ...payloadOf(edit), iss: alice.publicKey });
    const r = await new EnvelopeVerifier().verify(forged, {
      subject: eventSubject(general, alice.publicKey),
    });
    expect(r).toMatchObject({ ok: false, reason: "bad-signature" });
  });

  it("an event for another conversation than its subject's", async () => {
    const edit = await encodeEdit(alice, { name: "a", conv: general, target: target(), msg: "x" });
    const other = eventSubject({ kind: "post", channel: "NATS" }, alice.publicKey);
    expect(await new EnvelopeVerifier().verify(edit, { subject: other })).toMatchObject({
      ok: false,
      reason: "wrong-subject",
    });
    // nor is an event a post: on a post subject it is refused
    expect(
      await new EnvelopeVerifier().verify(edit, {
        subject: postSubject("General", alice.publicKey),
      }),
    ).toMatchObject({ ok: false, reason: "wrong-subject" });
  });

  it("a hand-built event with a bad emoji, op or target", async () => {
    const base = {
      jti: "j1234567890123456789012",
      iat: nowSeconds(),
      iss: aliceKp.getPublicKey(),
      name: "alice",
      sub: "General",
    };
    const subject = eventSubject(general, aliceKp.getPublicKey());
    const cases: Record<string, unknown>[] = [
      { type: "chat-react", target: target(), emoji: "x", op: "add" },
      { type: "chat-react", target: target(), emoji: "👍", op: "toggle" },
      { type: "chat-edit", target: "U123.j", msg: "x" },
      { type: "chat-delete" },
    ];
    for (const nats of cases) {
      const token = forge(aliceKp, { ...base, nats: { ...nats, version: 2 } });
      const r = await new EnvelopeVerifier().verify(token, { subject });
      expect(r.ok, JSON.stringify(nats)).toBe(false);
    }
  });
});

describe("applyMessageEvent: the rules the history service enforces", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  const stored = (): TargetMessage => ({
    id: target(),
    author: alice.publicKey,
    where: { kind: "post", channel: "General" },
  });
  async function ev(signer: Signer, kind: "edit" | "delete" | "add" | "remove", conv = general) {
    const p = { name: "x", conv, target: target() };
    const token =
      kind === "edit"
        ? await encodeEdit(signer, { ...p, msg: "new words" })
        : kind === "delete"
          ? await encodeDelete(signer, p)
          : await encodeReaction(signer, { ...p, emoji: "🎉", op: kind });
    const e = (await verified(token, eventSubject(conv, signer.publicKey))) as EventEnvelope;
    return { e, token };
  }

  it("the author edits; the edit token is the new state", async () => {
    const { e, token } = await ev(alice, "edit");
    expect(applyMessageEvent(stored(), {}, e, token, now)).toEqual({
      ok: true,
      state: { edit: token },
      changed: true,
    });
  });

  it("editing or deleting someone else's message is FORBIDDEN", async () => {
    for (const kind of ["edit", "delete"] as const) {
      const { e, token } = await ev(bob, kind);
      expect(applyMessageEvent(stored(), {}, e, token, now)).toMatchObject({
        ok: false,
        code: "FORBIDDEN",
      });
    }
  });

  it("a reaction to a message that does not exist is NOT_FOUND", async () => {
    const { e, token } = await ev(bob, "add");
    expect(applyMessageEvent(undefined, {}, e, token, now)).toMatchObject({
      ok: false,
      code: "NOT_FOUND",
    });
    // nor may an event name a message of another conversation
    const { e: e2, token: t2 } = await ev(bob, "add", { kind: "post", channel: "NATS" });
    expect(applyMessageEvent(stored(), {}, e2, t2, now)).toMatchObject({
      ok: false,
      code: "NOT_FOUND",
    });
  });

  it("reactions add once, remove, and are bounded", async () => {
    const add = await ev(bob, "add");
    const r1 = applyMessageEvent(stored(), {}, add.e, add.token, now);
    expect(r1).toMatchObject({
      ok: true,
      changed: true,
      state: { reactions: { "🎉": [bob.publicKey] } },
    });
    const s1 = (r1 as { state: MessageState }).state;
    expect(applyMessageEvent(stored(), s1, add.e, add.token, now)).toMatchObject({
      changed: false,
    });
    const rm = await ev(bob, "remove");
    expect(applyMessageEvent(stored(), s1, rm.e, rm.token, now)).toEqual({
      ok: true,
      state: {},
      changed: true,
    });
    const full: MessageState = { reactions: {} };
    for (let i = 0; i < MAX_DISTINCT_REACTIONS; i++) {
      (full.reactions as Record<string, string[]>)[String.fromCodePoint(0x1f600 + i)] = [
        carol.publicKey,
      ];
    }
    expect(applyMessageEvent(stored(), full, add.e, add.token, now)).toMatchObject({
      ok: false,
      code: "LIMIT",
    });
  });

  it("in a DM only its two participants may react", async () => {
    const dmTarget: TargetMessage = {
      id: target(),
      author: alice.publicKey,
      where: { kind: "dm", recipient: bob.publicKey },
    };
    const ok = await ev(bob, "add", { kind: "dm", peer: alice.publicKey });
    expect(applyMessageEvent(dmTarget, {}, ok.e, ok.token, now)).toMatchObject({ ok: true });
    const outsider = await ev(carol, "add", { kind: "dm", peer: alice.publicKey });
    expect(applyMessageEvent(dmTarget, {}, outsider.e, outsider.token, now)).toMatchObject({
      ok: false,
      code: "NOT_FOUND",
    });
  });

  it("a deletion leaves a tombstone: no words, no reactions, the thread kept", async () => {
    const del = await ev(alice, "delete");
    const before: MessageState = {
      edit: "x.y.z",
      reactions: { "🎉": [bob.publicKey] },
      replies: { count: 2, last: target() },
    };
    const r = applyMessageEvent(stored(), before, del.e, del.token, now);
    expect(r).toEqual({
      ok: true,
      changed: true,
      state: { deleted: { by: "author", at: now.toISOString() }, replies: before.replies },
    });
    const edit = await ev(alice, "edit");
    const after = (r as { state: MessageState }).state;
    expect(applyMessageEvent(stored(), after, edit.e, edit.token, now)).toMatchObject({
      ok: false,
      code: "NOT_FOUND",
    });
  });

  it("an admin removes anyone's message", async () => {
    const token = await encodeModeration(carol, {
      name: "admin",
      target: target(),
      store: "posts",
    });
    const e = (await verified(token, MODERATION_SUBJECT)) as ModerateEnvelope;
    expect(applyMessageEvent(stored(), {}, e, token, now)).toEqual({
      ok: true,
      changed: true,
      state: { deleted: { by: "admin", at: now.toISOString() } },
    });
  });

  it("replies are counted on the root", () => {
    const s = addReply(addReply({}, target()), target());
    expect(s.replies).toEqual({ count: 2, last: target() });
  });
});

describe("state and update wire", () => {
  it("round-trips and refuses what it cannot type", () => {
    const state: MessageState = {
      edit: "a.b.c",
      reactions: { "👍": [alice.publicKey] },
      replies: { count: 1, last: target() },
    };
    const u = { id: target(), store: "posts" as const, seq: 7, state };
    expect(parseUpdate(encodeUpdate(u))).toEqual(u);
    expect(parseMessageState(JSON.stringify(state))).toEqual(state);
    expect(parseMessageState('{"reactions":{"👍":["nope"]}}')).toBeUndefined();
    expect(parseMessageState('{"deleted":{"by":"mallory","at":"x"}}')).toBeUndefined();
    expect(parseUpdate('{"id":"x","store":"posts","seq":1,"state":{}}')).toBeUndefined();
    expect(parseUpdate("not json")).toBeUndefined();
  });
});

describe("mentions", () => {
  it("are stored as keys and split for display", () => {
    const text = `hi ${mentionOf(bob.publicKey)} and ${mentionOf(carol.publicKey)}!`;
    expect(mentionsOf(text)).toEqual([bob.publicKey, carol.publicKey]);
    expect(splitMentions(text)).toEqual([
      { text: "hi " },
      { mention: bob.publicKey },
      { text: " and " },
      { mention: carol.publicKey },
      { text: "!" },
    ]);
    expect(mentionsOf("<@alice> and <@UNOTAKEY>")).toEqual([]);
  });
});
