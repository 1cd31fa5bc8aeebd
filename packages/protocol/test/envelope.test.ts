import { encodeUser } from "@nats-io/jwt";
import { createAccount, createUser, type KeyPair } from "@nats-io/nkeys";
import { beforeAll, describe, expect, it } from "vitest";
import {
  checkIssuedUserJwt,
  type DropReason,
  dmSubject,
  ENVELOPE_MAX_BYTES,
  EnvelopeError,
  EnvelopeVerifier,
  encodeDm,
  encodePost,
  encodePresence,
  MSG_MAX_LENGTH,
  postSubject,
  presenceSubject,
  type Signer,
  signerFromSeed,
} from "../src/mod.ts";
import { flipSignature, forge, nowSeconds, payloadOf, seedOf, swapPayload } from "./fixtures.ts";

let aliceKp: KeyPair;
let alice: Signer;
let bobKey: string;

beforeAll(async () => {
  aliceKp = createUser();
  alice = await signerFromSeed(seedOf(aliceKp));
  bobKey = createUser().getPublicKey();
});

/** A post in the talk's format, signed directly with @nats-io/nkeys. */
function talkPost(kp: KeyPair, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jti: "talk-jti-1234567890abcd",
    iat: nowSeconds(),
    iss: kp.getPublicKey(),
    name: "alice",
    sub: "General",
    nats: { type: "chat-post", msg: "hello from the talk", version: 2 },
    ...over,
  };
}

async function dropped(token: string | Uint8Array, reason: DropReason, v = new EnvelopeVerifier()) {
  const r = await v.verify(token);
  expect(r.ok ? "accepted" : r.reason).toBe(reason);
  expect(v.drops[reason]).toBe(1);
}

describe("envelopes round trip", () => {
  it("post", async () => {
    const token = await encodePost(alice, { name: "Alice", channel: "NATS", msg: "hi all" });
    const r = await new EnvelopeVerifier().verify(token, {
      subject: postSubject("NATS", alice.publicKey),
    });
    expect(r).toMatchObject({
      ok: true,
      envelope: {
        type: "chat-post",
        channel: "NATS",
        sub: "NATS",
        msg: "hi all",
        iss: alice.publicKey,
        claimedName: "alice",
      },
    });
    const p = payloadOf(token);
    expect(Object.keys(p)).toEqual(["jti", "iat", "iss", "name", "sub", "nats"]);
    expect(p.nats).toEqual({ type: "chat-post", msg: "hi all", version: 2 });
    expect(p.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("dm, from a Uint8Array payload", async () => {
    const token = await encodeDm(alice, { name: "alice", to: bobKey, msg: "psst ✓" });
    const r = await new EnvelopeVerifier().verify(new TextEncoder().encode(token), {
      subject: dmSubject(bobKey, alice.publicKey),
    });
    expect(r).toMatchObject({ ok: true, envelope: { type: "chat-dm", to: bobKey, msg: "psst ✓" } });
  });

  it("presence with first tag and issued user JWT", async () => {
    const account = createAccount();
    const signingKey = createAccount();
    const ujwt = await encodeUser("alice", aliceKp, account, {}, { signer: signingKey });
    const token = await encodePresence(alice, { name: "alice", first: true, userJwt: ujwt });
    const p = payloadOf(token);
    expect(p.sub).toBe(alice.publicKey);
    expect(p.exp).toBe((p.iat as number) + 60);
    expect(p.nats).toEqual({ type: "chat-online", tags: ["chat-online"], ujwt, version: 2 });
    const r = await new EnvelopeVerifier().verify(token, {
      subject: presenceSubject(alice.publicKey),
    });
    if (!r.ok || r.envelope.type !== "chat-online")
      throw new Error(`dropped: ${JSON.stringify(r)}`);
    expect(r.envelope.first).toBe(true);
    // A receiver binds the sender key to the issued name, not to the claimed one.
    const id = await checkIssuedUserJwt(r.envelope.userJwt ?? "", {
      expectedKey: r.envelope.iss,
      chatAccount: account.getPublicKey(),
      chatSigningKeys: [signingKey.getPublicKey()],
    });
    expect(id.name).toBe("alice");

    const later = await encodePresence(alice, { name: "alice" });
    const r2 = await new EnvelopeVerifier().verify(later);
    expect(r2).toMatchObject({ ok: true, envelope: { first: false } });
    expect(r2.ok && "userJwt" in r2.envelope).toBe(false);
  });

  it("accepts a post built exactly as the talk's web frontend did (on the v3 subject)", async () => {
    // the envelope is the talk's; only the subject gained the sender's key (protocol v3)
    const token = forge(aliceKp, talkPost(aliceKp));
    const r = await new EnvelopeVerifier().verify(token, {
      subject: `chat.KUBECON.posts.General.${aliceKp.getPublicKey()}`,
    });
    expect(r).toMatchObject({
      ok: true,
      envelope: { channel: "General", msg: "hello from the talk" },
    });
  });

  it("fits the longest message even in 3-byte characters, within the server payload limit", async () => {
    const msg = "€".repeat(MSG_MAX_LENGTH);
    const token = await encodePost(alice, { name: "alice", channel: "NATS", msg });
    expect(new TextEncoder().encode(token).length).toBeLessThanOrEqual(ENVELOPE_MAX_BYTES);
    const got = await new EnvelopeVerifier().verify(token);
    expect(got.ok && got.envelope.type === "chat-post" && got.envelope.msg).toBe(msg);
  });

  it("refuses to encode bad messages", async () => {
    await expect(encodePost(alice, { name: "alice", channel: "NATS", msg: "" })).rejects.toThrow(
      EnvelopeError,
    );
    await expect(
      encodePost(alice, { name: "alice", channel: "NATS", msg: "x".repeat(2001) }),
    ).rejects.toThrow(/2001 characters long, the maximum is 2000/);
    await expect(encodePost(alice, { name: "alice", channel: "a.b", msg: "x" })).rejects.toThrow(
      /channel name/,
    );
    await expect(encodeDm(alice, { name: "alice", to: "*", msg: "x" })).rejects.toThrow(
      EnvelopeError,
    );
    await expect(encodePost(alice, { name: "al.ice", channel: "NATS", msg: "x" })).rejects.toThrow(
      /has '\.'/,
    );
  });
});

describe("EnvelopeVerifier drops", () => {
  it("not-jwt", async () => {
    await dropped("hello", "not-jwt");
    await dropped("a.b", "not-jwt");
    await dropped("e30.e30.!!", "not-jwt");
    await dropped(new Uint8Array([0xff, 0xfe, 0x2e, 0x2e]), "not-jwt");
  });

  it("oversize, before parsing", async () => {
    await dropped("x".repeat(ENVELOPE_MAX_BYTES + 1), "oversize");
    // Invalid UTF-8 too: the size is checked before the bytes are even decoded.
    await dropped(new Uint8Array(ENVELOPE_MAX_BYTES + 100).fill(0xff), "oversize");
    const long = forge(
      aliceKp,
      talkPost(aliceKp, {
        nats: { type: "chat-post", msg: "y".repeat(MSG_MAX_LENGTH + 1), version: 2 },
      }),
    );
    await dropped(long, "oversize");
  });

  it("bad-alg", async () => {
    await dropped(forge(aliceKp, talkPost(aliceKp), { typ: "JWT", alg: "ed25519" }), "bad-alg");
    await dropped(forge(aliceKp, talkPost(aliceKp), { typ: "JWT", alg: "none" }), "bad-alg");
  });

  it("bad-issuer", async () => {
    const account = createAccount();
    await dropped(forge(account, talkPost(account)), "bad-issuer");
    await dropped(forge(aliceKp, talkPost(aliceKp, { iss: "Unot-a-key" })), "bad-issuer");
  });

  it("missing-field", async () => {
    for (const field of ["jti", "iat", "iss", "name", "sub", "nats"]) {
      const p = talkPost(aliceKp);
      delete p[field];
      await dropped(forge(aliceKp, p), "missing-field");
    }
    await dropped(
      forge(aliceKp, talkPost(aliceKp, { nats: { msg: "x", version: 2 } })),
      "missing-field",
    );
    await dropped(
      forge(aliceKp, talkPost(aliceKp, { nats: { type: "chat-post" } })),
      "missing-field",
    );
    const presence = talkPost(aliceKp, {
      sub: aliceKp.getPublicKey(),
      nats: { type: "chat-online", version: 2 },
    });
    await dropped(forge(aliceKp, presence), "missing-field");
  });

  it("wrong-type", async () => {
    await dropped(forge(aliceKp, talkPost(aliceKp, { iat: "123" })), "wrong-type");
    await dropped(forge(aliceKp, talkPost(aliceKp, { name: 5 })), "wrong-type");
    await dropped(forge(aliceKp, talkPost(aliceKp, { nats: "chat-post" })), "wrong-type");
    await dropped(forge(aliceKp, talkPost(aliceKp, { sub: "a.b" })), "wrong-type");
    const dm = { type: "chat-dm", msg: "x", version: 2 };
    await dropped(forge(aliceKp, talkPost(aliceKp, { sub: "General", nats: dm })), "wrong-type");
    const tags = { type: "chat-online", tags: "chat-online", version: 2 };
    const p = talkPost(aliceKp, { exp: nowSeconds() + 60, nats: tags });
    await dropped(forge(aliceKp, p), "wrong-type");
  });

  it("unknown-type", async () => {
    const evil = { type: "chat-admin", msg: "x", version: 2 };
    await dropped(forge(aliceKp, talkPost(aliceKp, { nats: evil })), "unknown-type");
  });

  it("future-iat, within the clock skew", async () => {
    await dropped(forge(aliceKp, talkPost(aliceKp, { iat: nowSeconds() + 120 })), "future-iat");
    const ok = await new EnvelopeVerifier().verify(
      forge(aliceKp, talkPost(aliceKp, { iat: nowSeconds() + 20 })),
    );
    expect(ok.ok).toBe(true);
  });

  it("expired presence, with exp capped", async () => {
    const now = Date.now();
    const old = await encodePresence(alice, { name: "alice", now: now - 200_000 });
    await dropped(old, "expired");
    const v = new EnvelopeVerifier({ now: () => now + 60_000 });
    expect((await v.verify(await encodePresence(alice, { name: "alice", now }))).ok).toBe(true);
    // A presence claiming a year of life still expires after maxPresenceTtlSeconds.
    const forever = await encodePresence(alice, {
      name: "alice",
      now: now - 400_000,
      ttlSeconds: 365 * 86400,
    });
    await dropped(forever, "expired");
  });

  it("maxAgeSeconds drops old posts on live subscriptions", async () => {
    const old = await encodePost(alice, {
      name: "alice",
      channel: "NATS",
      msg: "x",
      now: Date.now() - 3_600_000,
    });
    expect((await new EnvelopeVerifier().verify(old)).ok).toBe(true); // history
    await dropped(old, "expired", new EnvelopeVerifier({ maxAgeSeconds: 300 }));
  });

  it("wrong-subject", async () => {
    const post = await encodePost(alice, { name: "alice", channel: "NATS", msg: "x" });
    const r = await new EnvelopeVerifier().verify(post, {
      subject: postSubject("General", alice.publicKey),
    });
    expect(r).toMatchObject({ ok: false, reason: "wrong-subject" });
    // protocol v2 subjects (no sender key) are no longer chat subjects
    expect(
      await new EnvelopeVerifier().verify(post, { subject: "chat.KUBECON.posts.NATS" }),
    ).toMatchObject({ ok: false, reason: "wrong-subject" });
    const dm = await encodeDm(alice, { name: "alice", to: bobKey, msg: "for bob" });
    const mine = dmSubject(createUser().getPublicKey(), alice.publicKey);
    expect(await new EnvelopeVerifier().verify(dm, { subject: mine })).toMatchObject({
      ok: false,
      reason: "wrong-subject",
    });
    // a DM on a post subject
    expect(
      await new EnvelopeVerifier().verify(dm, { subject: postSubject("NATS", alice.publicKey) }),
    ).toMatchObject({ ok: false, reason: "wrong-subject" });
  });

  it("signer-mismatch: the signer is not the key the server let publish on the subject", async () => {
    const mallory = createUser().getPublicKey();
    const post = await encodePost(alice, { name: "alice", channel: "NATS", msg: "x" });
    const r = await new EnvelopeVerifier().verify(post, { subject: postSubject("NATS", mallory) });
    expect(r).toMatchObject({ ok: false, reason: "signer-mismatch" });
    const dm = await encodeDm(alice, { name: "alice", to: bobKey, msg: "x" });
    expect(
      await new EnvelopeVerifier().verify(dm, { subject: dmSubject(bobKey, mallory) }),
    ).toMatchObject({ ok: false, reason: "signer-mismatch" });
    const here = await encodePresence(alice, { name: "alice" });
    expect(
      await new EnvelopeVerifier().verify(here, { subject: presenceSubject(mallory) }),
    ).toMatchObject({ ok: false, reason: "signer-mismatch" });
  });

  it("bad-signature", async () => {
    const token = await encodePost(alice, { name: "alice", channel: "NATS", msg: "x" });
    await dropped(flipSignature(token), "bad-signature");
    await dropped(swapPayload(token, { ...payloadOf(token), msg: "changed" }), "bad-signature");
    // Mallory signs a post that names Alice as its issuer.
    await dropped(forge(createUser(), talkPost(aliceKp)), "bad-signature");
  });

  it("replay, with bounded memory", async () => {
    let now = Date.now();
    const v = new EnvelopeVerifier({ now: () => now, replayWindowSeconds: 60 });
    const token = await encodePost(alice, { name: "alice", channel: "NATS", msg: "x", now });
    expect((await v.verify(token)).ok).toBe(true);
    expect(await v.verify(token)).toMatchObject({ ok: false, reason: "replay" });
    expect(v.drops.replay).toBe(1);
    expect(v.remembered).toBe(1);
    now += 61_000;
    const other = await encodePost(alice, { name: "alice", channel: "NATS", msg: "y", now });
    expect((await v.verify(other)).ok).toBe(true);
    expect(v.remembered).toBe(1); // the first jti was forgotten

    const capped = new EnvelopeVerifier({ maxReplayEntries: 3 });
    for (let i = 0; i < 10; i++) {
      const t = await encodePost(alice, { name: "alice", channel: "NATS", msg: `m${i}` });
      expect((await capped.verify(t)).ok).toBe(true);
    }
    expect(capped.remembered).toBeLessThanOrEqual(3);
  });

  it("a forged message does not burn its jti", async () => {
    const v = new EnvelopeVerifier();
    const token = await encodePost(alice, { name: "alice", channel: "NATS", msg: "x" });
    expect((await v.verify(flipSignature(token))).ok).toBe(false);
    expect((await v.verify(token)).ok).toBe(true);
  });

  it("counts drops by reason", async () => {
    const v = new EnvelopeVerifier();
    await v.verify("junk");
    await v.verify("junk");
    await v.verify(forge(aliceKp, talkPost(aliceKp), { typ: "JWT", alg: "none" }));
    expect(v.drops["not-jwt"]).toBe(2);
    expect(v.drops["bad-alg"]).toBe(1);
    expect(v.drops.replay).toBe(0);
    expect(v.accepted).toBe(0);
  });
});
