import { Algorithms, decode, encodeGeneric, encodeUser } from "@nats-io/jwt";
import { createAccount, createUser } from "@nats-io/nkeys";
import { describe, expect, it } from "vitest";
import {
  decodeJwtUnverified,
  encodeJwt,
  JwtError,
  randomJti,
  signerFromSeed,
  verifyJwt,
} from "../src/mod.ts";
import { flipSignature, forge, nowSeconds, payloadOf, seedOf, swapPayload } from "./fixtures.ts";

async function rejects(token: string, code: string, opts = {}): Promise<void> {
  await expect(verifyJwt(token, opts)).rejects.toThrow(expect.objectContaining({ code }));
}

describe("JWT", () => {
  it("our JWTs verify with @nats-io/jwt", async () => {
    const signer = await signerFromSeed(seedOf(createUser()));
    const token = await encodeJwt(signer, {
      jti: randomJti(),
      iat: nowSeconds(),
      sub: signer.publicKey,
      name: "alice",
      nats: { type: "chat-post", msg: "hi", version: 2 },
    });
    const [header] = token.split(".");
    expect(JSON.parse(Buffer.from(header ?? "", "base64url").toString())).toEqual({
      typ: "JWT",
      alg: "ed25519-nkey",
    });
    expect(token).not.toMatch(/=/);
    const claims = decode<Record<string, unknown>>(token);
    expect(claims.iss).toBe(signer.publicKey);
    expect(claims.nats).toEqual({ type: "chat-post", msg: "hi", version: 2 });
    expect(() => decode(flipSignature(token))).toThrow(/sig verification failed/);
  });

  it("@nats-io/jwt JWTs verify with ours", async () => {
    const account = createAccount();
    const signingKey = createAccount();
    const user = createUser();
    const userJwt = await encodeUser("bob", user, account, {}, { signer: signingKey });
    const claims = await verifyJwt(userJwt, { issuer: "A" });
    expect(claims.iss).toBe(signingKey.getPublicKey());
    expect(claims.sub).toBe(user.getPublicKey());
    expect(claims.name).toBe("bob");
    expect(claims.nats.issuer_account).toBe(account.getPublicKey());
    const generic = await encodeGeneric("thing", user, "chat-post", { msg: "x" });
    expect((await verifyJwt(generic, { issuer: "U" })).nats.type).toBe("chat-post");
  });

  it("rejects what is not a v2 nkey JWT", async () => {
    const kp = createUser();
    const payload = { iss: kp.getPublicKey(), sub: "x", nats: {} };
    await rejects("abc", "JWT_MALFORMED");
    await rejects("a.b", "JWT_MALFORMED");
    await rejects("a.b.c.d", "JWT_MALFORMED");
    await rejects("!!.??.**", "JWT_MALFORMED");
    const notJson = `${Buffer.from("{").toString("base64url")}.${Buffer.from("x").toString("base64url")}.AA`;
    await rejects(notJson, "JWT_MALFORMED");
    await rejects(forge(kp, payload, { typ: "JWT", alg: "ed25519" }), "JWT_BAD_ALG");
    await rejects(forge(kp, payload, { typ: "JWT", alg: "none" }), "JWT_BAD_ALG");
    await rejects(forge(kp, payload, { typ: "JWS", alg: "ed25519-nkey" }), "JWT_BAD_ALG");
    // v1 tokens sign only the payload: same key, still refused.
    const v1 = await encodeGeneric("x", kp, "t", {}, { algorithm: Algorithms.v1 });
    await rejects(v1, "JWT_BAD_ALG");
  });

  it("checks issuer kind, claims types and signature", async () => {
    const user = createUser();
    const account = createAccount();
    const good = forge(user, { iss: user.getPublicKey(), nats: {} });
    expect((await verifyJwt(good, { issuer: "U" })).iss).toBe(user.getPublicKey());
    await rejects(good, "JWT_BAD_ISSUER", { issuer: "A" });
    await rejects(forge(account, { iss: account.getPublicKey(), nats: {} }), "JWT_BAD_ISSUER", {
      issuer: "U",
    });
    await rejects(forge(user, { iss: "Ubogus", nats: {} }), "JWT_BAD_ISSUER");
    await rejects(forge(user, { nats: {} }), "JWT_BAD_CLAIMS");
    await rejects(forge(user, { iss: user.getPublicKey(), iat: "now" }), "JWT_BAD_CLAIMS");
    await rejects(forge(user, { iss: user.getPublicKey(), nats: [] }), "JWT_BAD_CLAIMS");
    // Signed by another key than the one it names as issuer.
    await rejects(forge(createUser(), { iss: user.getPublicKey(), nats: {} }), "JWT_BAD_SIGNATURE");
    await rejects(flipSignature(good), "JWT_BAD_SIGNATURE");
    const altered = swapPayload(good, { ...payloadOf(good), name: "admin" });
    await rejects(altered, "JWT_BAD_SIGNATURE");
  });

  it("bounds the size before parsing", async () => {
    const kp = createUser();
    const big = forge(kp, { iss: kp.getPublicKey(), pad: "x".repeat(9000) });
    await rejects(big, "JWT_OVERSIZE");
    expect((await verifyJwt(big, { maxBytes: 20_000 })).iss).toBe(kp.getPublicKey());
    expect(() => decodeJwtUnverified("x".repeat(10_000))).toThrow(JwtError);
  });

  it("decodes without verifying, for display", () => {
    const kp = createUser();
    const forged = flipSignature(forge(kp, { iss: kp.getPublicKey(), name: "n" }));
    expect(decodeJwtUnverified(forged).payload.name).toBe("n");
  });

  it("makes 22-character random jtis", () => {
    const a = randomJti();
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomJti()).not.toBe(a);
  });
});
