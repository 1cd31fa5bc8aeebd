import { encodeGeneric, encodeUser } from "@nats-io/jwt";
import { createAccount, createUser, type KeyPair } from "@nats-io/nkeys";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ACCESS_ERROR_HEADER,
  AccessError,
  AccessErrorCodes,
  checkIssuedUserJwt,
  encodeAccessRequest,
  encodePost,
  formatAccessError,
  IdentityError,
  InvalidNameError,
  newUserSigner,
  parseAccessReply,
  type Signer,
  signerFromSeed,
  verifyAccessRequest,
} from "../src/mod.ts";
import { flipSignature, forge, nowSeconds, payloadOf, seedOf, swapPayload } from "./fixtures.ts";

async function refused(token: string, code: string, reason: string, opts = {}): Promise<void> {
  await expect(verifyAccessRequest(token, opts)).rejects.toThrow(
    expect.objectContaining({ name: "AccessError", code, reason }),
  );
}

function request(kp: KeyPair, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jti: "j".repeat(22),
    iat: nowSeconds(),
    iss: kp.getPublicKey(),
    sub: kp.getPublicKey(),
    name: "alice",
    nats: { type: "chat-access-request", version: 2 },
    ...over,
  };
}

describe("access request", () => {
  it("round trips: the client proves possession of its own new key", async () => {
    const { signer } = await newUserSigner();
    const token = await encodeAccessRequest(signer, " Alice ");
    const p = payloadOf(token);
    expect(p).toMatchObject({ iss: signer.publicKey, sub: signer.publicKey, name: "alice" });
    expect(p.nats).toEqual({ type: "chat-access-request", version: 2 });
    expect(JSON.stringify(p)).not.toMatch(/"SU/);
    const r = await verifyAccessRequest(token);
    expect(r.name).toBe("alice");
    expect(r.publicKey).toBe(signer.publicKey);
    expect(r.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("applies the name rules on both sides", async () => {
    const { signer } = await newUserSigner();
    await expect(encodeAccessRequest(signer, "al.ice")).rejects.toThrow(InvalidNameError);
    const kp = createUser();
    await refused(forge(kp, request(kp, { name: "al.ice" })), "NAME_INVALID", "name");
    await refused(forge(kp, request(kp, { name: "\u0430lice" })), "NAME_INVALID", "name");
  });

  it("refuses keys that are not user keys", async () => {
    const acct = createAccount();
    await refused(forge(acct, request(acct)), "BAD_PROOF", "not-user-key");
  });

  it("refuses a bad signature or a request for someone else's key", async () => {
    const kp = createUser();
    const token = forge(kp, request(kp));
    await refused(flipSignature(token), "BAD_PROOF", "bad-signature");
    await refused(
      swapPayload(token, { ...payloadOf(token), name: "bob" }),
      "BAD_PROOF",
      "bad-signature",
    );
    const victim = createUser().getPublicKey();
    // Signed by kp, but asks for a JWT for another key.
    await refused(forge(kp, request(kp, { sub: victim })), "BAD_PROOF", "sub-mismatch");
    // Claims to be the victim, signed by kp.
    await refused(
      forge(kp, request(kp, { iss: victim, sub: victim })),
      "BAD_PROOF",
      "bad-signature",
    );
  });

  it("refuses stale and future requests", async () => {
    const kp = createUser();
    const now = Date.now();
    const token = forge(kp, request(kp, { iat: Math.floor(now / 1000) }));
    await refused(token, "BAD_PROOF", "stale", { now: now + 120_000 });
    await refused(token, "BAD_PROOF", "future", { now: now - 120_000 });
    expect((await verifyAccessRequest(token, { now: now + 60_000 })).name).toBe("alice");
    await refused(token, "BAD_PROOF", "stale", {
      now: now + 20_000,
      maxAgeSeconds: 5,
      skewSeconds: 5,
    });
  });

  it("refuses other message types and garbage", async () => {
    const signer: Signer = await signerFromSeed(seedOf(createUser()));
    const post = await encodePost(signer, { name: "alice", channel: "NATS", msg: "x" });
    await refused(post, "BAD_REQUEST", "wrong-type");
    await refused("hello", "BAD_REQUEST", "garbage");
    await refused("a.b.c", "BAD_REQUEST", "garbage");
    await refused("x".repeat(5000), "BAD_REQUEST", "oversize");
    const kp = createUser();
    await refused(forge(kp, request(kp), { typ: "JWT", alg: "none" }), "BAD_REQUEST", "garbage");
    const noJti = request(kp);
    delete noJti.jti;
    await refused(forge(kp, noJti), "BAD_REQUEST", "missing-field");
  });
});

describe("access reply", () => {
  it("keeps the talk's -ERR text and carries a stable code", () => {
    const e = formatAccessError(AccessErrorCodes.NAME_TAKEN, "name 'alice' is taken\nsorry");
    expect(e).toEqual({ body: "-ERR 'name 'alice' is taken sorry'", code: "NAME_TAKEN" });
    expect(ACCESS_ERROR_HEADER).toBe("Natschat-Error-Code");
    expect(parseAccessReply(e.body, e.code)).toEqual({
      ok: false,
      code: "NAME_TAKEN",
      message: "name 'alice' is taken sorry",
    });
    expect(parseAccessReply("-ERR 'old server'")).toEqual({
      ok: false,
      code: "UNKNOWN",
      message: "old server",
    });
    expect(parseAccessReply("-ERR 'x'", "BOGUS")).toMatchObject({ code: "UNKNOWN" });
    expect(parseAccessReply("a.b.c")).toEqual({ ok: true, jwt: "a.b.c" });
    expect(parseAccessReply("hello")).toMatchObject({ ok: false });
    expect(Object.keys(AccessErrorCodes)).toHaveLength(13);
    expect(new AccessError("RATE_LIMITED", "slow down").reason).toBe("RATE_LIMITED");
  });
});

describe("checkIssuedUserJwt", () => {
  let chat: KeyPair;
  let chatSigner: KeyPair;
  let user: KeyPair;
  let opts: { expectedKey: string; chatAccount: string; chatSigningKeys: string[] };

  beforeAll(() => {
    chat = createAccount();
    chatSigner = createAccount();
    user = createUser();
    opts = {
      expectedKey: user.getPublicKey(),
      chatAccount: chat.getPublicKey(),
      chatSigningKeys: [createAccount().getPublicKey(), chatSigner.getPublicKey()],
    };
  });

  async function rejected(jwt: string, code: string, o = opts): Promise<void> {
    await expect(checkIssuedUserJwt(jwt, o)).rejects.toThrow(
      expect.objectContaining({ name: "IdentityError", code }),
    );
  }

  it("accepts a user JWT issued by a CHAT signing key for our key", async () => {
    const exp = nowSeconds() + 3600;
    const jwt = await encodeUser("alice", user, chat, {}, { signer: chatSigner, exp });
    const id = await checkIssuedUserJwt(jwt, opts);
    expect(id.name).toBe("alice");
    expect(id.expires?.getTime()).toBe(exp * 1000);
    expect(id.claims.sub).toBe(user.getPublicKey());
  });

  it("rejects a JWT for another key", async () => {
    const other = await encodeUser("alice", createUser(), chat, {}, { signer: chatSigner });
    await rejected(other, "ID_WRONG_KEY");
  });

  it("rejects a JWT not signed by a CHAT signing key", async () => {
    const rogue = await encodeUser("alice", user, chat, {}, { signer: createAccount() });
    await rejected(rogue, "ID_WRONG_SIGNER");
    // Signed by the account key itself, which natschat never uses to issue users.
    await rejected(await encodeUser("alice", user, chat), "ID_WRONG_SIGNER");
  });

  it("rejects a JWT of another account", async () => {
    const jwt = await encodeUser("alice", user, createAccount(), {}, { signer: chatSigner });
    await rejected(jwt, "ID_WRONG_ACCOUNT");
  });

  it("rejects a forged or altered JWT", async () => {
    const jwt = await encodeUser("alice", user, chat, {}, { signer: chatSigner });
    await rejected(swapPayload(jwt, { ...payloadOf(jwt), name: "admin" }), "ID_BAD_JWT");
    await rejected(flipSignature(jwt), "ID_BAD_JWT");
    await rejected("not a jwt", "ID_BAD_JWT");
  });

  it("rejects non-user, badly named and expired JWTs", async () => {
    const generic = await encodeGeneric("alice", user, "account", {}, { signer: chatSigner });
    await rejected(generic, "ID_NOT_USER");
    const badName = await encodeUser("Al.ice", user, chat, {}, { signer: chatSigner });
    await rejected(badName, "ID_BAD_NAME");
    const old = await encodeUser(
      "alice",
      user,
      chat,
      {},
      { signer: chatSigner, exp: nowSeconds() - 5 },
    );
    await rejected(old, "ID_EXPIRED");
    expect(IdentityError).toBeDefined();
  });
});
