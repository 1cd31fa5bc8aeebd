import { createAccount, createOperator, createUser, fromPublic, fromSeed } from "@nats-io/nkeys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  base64urlDecode,
  base64urlEncode,
  decodePublicKey,
  decodeSeed,
  type Ed25519Provider,
  EnvelopeVerifier,
  ed25519Provider,
  encodePost,
  encodePublicKey,
  encodeSeed,
  installEd25519,
  isPublicKey,
  NkeyError,
  newUserSigner,
  publicKeyFromSeed,
  sign,
  signerFromSeed,
  verify,
  verifyNkey,
  webCryptoEd25519,
} from "../src/mod.ts";
import { seedOf } from "./fixtures.ts";

const te = new TextEncoder();

describe("nkey codec", () => {
  it("agrees with @nats-io/nkeys", () => {
    for (const kp of [createUser(), createAccount(), createOperator()]) {
      const seed = seedOf(kp);
      const { kind, raw } = decodeSeed(seed);
      expect(kind).toBe(kp.getPublicKey()[0]);
      expect(encodeSeed(kind, raw)).toBe(seed);
      const pub = kp.getPublicKey();
      const rawPub = decodePublicKey(pub);
      expect(encodePublicKey(kind, rawPub)).toBe(pub);
      expect(fromPublic(encodePublicKey(kind, rawPub)).getPublicKey()).toBe(pub);
    }
  });

  it("rejects bad checksums, lengths and kinds", () => {
    const pub = createUser().getPublicKey();
    const flipped = pub.slice(0, 10) + (pub[10] === "A" ? "B" : "A") + pub.slice(11);
    expect(() => decodePublicKey(flipped)).toThrow(
      expect.objectContaining({ code: "NKEY_CHECKSUM" }),
    );
    expect(() => decodePublicKey(pub.slice(0, 55))).toThrow(NkeyError);
    expect(() => decodePublicKey(pub.toLowerCase())).toThrow(NkeyError);
    expect(() => decodePublicKey(pub, "A")).toThrow(
      expect.objectContaining({ code: "NKEY_WRONG_TYPE" }),
    );
    expect(isPublicKey(pub, "U")).toBe(true);
    expect(isPublicKey(createAccount().getPublicKey(), "U")).toBe(false);
    expect(() => decodeSeed(pub)).toThrow(NkeyError);
    const seed = seedOf(createUser());
    const other = seed[20] === "A" ? "B" : "A"; // always a real change, so the checksum breaks
    expect(() => decodeSeed(`${seed.slice(0, 20)}${other}${seed.slice(21)}`)).toThrow(NkeyError);
  });
});

/**
 * Runs a describe block with `provider` installed (undefined: the one installed for the test
 * run, which the Node tests' setup makes node:crypto), then puts the previous one back.
 */
function withProvider(provider: Ed25519Provider | undefined): void {
  let previous: Ed25519Provider | undefined;
  beforeAll(() => {
    if (provider) previous = installEd25519(provider);
  });
  afterAll(() => {
    if (previous) installEd25519(previous);
  });
}

describe("base64url", () => {
  it("agrees with Buffer for every length and rejects other alphabets", () => {
    for (let n = 0; n < 70; n++) {
      const bytes = globalThis.crypto.getRandomValues(new Uint8Array(n));
      const text = Buffer.from(bytes).toString("base64url");
      expect(base64urlEncode(bytes)).toBe(text);
      expect(base64urlDecode(text)).toEqual(bytes);
    }
    for (const bad of ["A", "AAAAA", "AB+/", "AB==", "AB C", "ABé", "ABC\u0100"]) {
      expect(base64urlDecode(bad), bad).toBeUndefined();
    }
  });
});

for (const [label, provider] of [
  ["WebCrypto, the browsers' path", webCryptoEd25519],
  ["the provider installed for Node tests", undefined],
] as const) {
  describe(`ed25519 via ${label}`, () => {
    withProvider(provider);

    it("runs on the intended provider", () => {
      expect(ed25519Provider().name).toBe(provider ? "webcrypto" : "node:crypto");
    });

    it("signs byte-identically to @nats-io/nkeys", async () => {
      for (let i = 0; i < 5; i++) {
        const kp = createUser();
        const signer = await signerFromSeed(seedOf(kp));
        expect(signer.publicKey).toBe(kp.getPublicKey());
        const { raw } = decodeSeed(seedOf(kp));
        for (const data of [new Uint8Array(0), te.encode("hello"), new Uint8Array(5000).fill(i)]) {
          const expected = kp.sign(data);
          expect(await signer.sign(data)).toEqual(expected);
          expect(await sign(raw, data)).toEqual(expected);
        }
      }
    });

    it("derives the public key natively", async () => {
      const kp = createAccount();
      const raw = await publicKeyFromSeed(decodeSeed(seedOf(kp)).raw);
      expect(encodePublicKey("A", raw)).toBe(kp.getPublicKey());
    });

    it("verifies nkeys signatures and rejects tampering", async () => {
      const kp = createUser();
      const data = te.encode("payload");
      const sig = kp.sign(data);
      const pub = decodePublicKey(kp.getPublicKey());
      expect(await verify(pub, data, sig)).toBe(true);
      expect(await verifyNkey(kp.getPublicKey(), data, sig)).toBe(true);
      const bad = sig.slice();
      bad[0] = (bad[0] ?? 0) ^ 1;
      expect(await verify(pub, data, bad)).toBe(false);
      expect(await verify(pub, te.encode("payloaD"), sig)).toBe(false);
      expect(await verifyNkey(createUser().getPublicKey(), data, sig)).toBe(false);
      expect(await verify(pub, data, sig.slice(1))).toBe(false);
      expect(await verifyNkey("not a key", data, sig)).toBe(false);
    });

    it("makes fresh user keys that nkeys accepts", async () => {
      const { signer, seed } = await newUserSigner();
      expect(seed.startsWith("SU")).toBe(true);
      const kp = fromSeed(te.encode(seed));
      expect(kp.getPublicKey()).toBe(signer.publicKey);
      const data = te.encode("x");
      expect(kp.verify(data, await signer.sign(data))).toBe(true);
      expect((await newUserSigner()).seed).not.toBe(seed);
    });

    it("signs and verifies natively: no source file reaches for tweetnacl or nkeys' signing", async () => {
      // Speed is measured in bench/; this guards the cause of slowness (tweetnacl on the hot path).
      const { readdir, readFile } = await import("node:fs/promises");
      const dir = new URL("../src/", import.meta.url);
      for (const file of await readdir(dir)) {
        const text = await readFile(new URL(file, dir), "utf8");
        expect(text, file).not.toMatch(/from "(tweetnacl|@nats-io\/nkeys|node:[a-z_/]+)"/);
      }
    });

    it("round-trips a signed post through EnvelopeVerifier", async () => {
      const { signer } = await newUserSigner();
      const token = await encodePost(signer, { name: "ann", channel: "KUBECON", msg: "hi" });
      const verifier = new EnvelopeVerifier();
      const ok = await verifier.verify(token, {
        subject: `chat.KUBECON.posts.KUBECON.${signer.publicKey}`,
      });
      expect(ok.ok && ok.envelope.iss).toBe(signer.publicKey);
      const forged = `${token.slice(0, -2)}${token.endsWith("AA") ? "BA" : "AA"}`;
      const bad = await verifier.verify(forged, {
        subject: `chat.KUBECON.posts.KUBECON.${signer.publicKey}`,
      });
      expect(bad).toMatchObject({ ok: false, reason: "bad-signature" });
    });
  });
}
