// The node:crypto Ed25519 provider against WebCrypto's (the browsers' path) and @nats-io/nkeys:
// byte-identical signatures, the same public keys, and the same verdict on valid and forged
// signatures. Speed is measured in bench/message.ts.
import { createUser, fromSeed } from "@nats-io/nkeys";
import {
  decodeSeed,
  type Ed25519Provider,
  EnvelopeVerifier,
  ed25519Provider,
  encodePost,
  installEd25519,
  newUserSigner,
  signerFromSeed,
  verifyNkey,
  webCryptoEd25519,
} from "@natschat/protocol";
import {
  INLINE_VERIFIES_PER_TURN,
  installNodeEd25519,
  nativeKeyPair,
  nodeEd25519,
} from "@natschat/trust";
import { describe, expect, it } from "vitest";

const te = new TextEncoder();
const PROVIDERS: Ed25519Provider[] = [webCryptoEd25519, nodeEd25519];

function seedOf(kp: ReturnType<typeof createUser>): string {
  return new TextDecoder().decode(kp.getSeed());
}

async function signWith(p: Ed25519Provider, seed32: Uint8Array, data: Uint8Array) {
  return new Uint8Array(await p.sign(await p.importPrivateKey(seed32), data));
}

async function verifyWith(
  p: Ed25519Provider,
  pub32: Uint8Array,
  data: Uint8Array,
  sig: Uint8Array,
) {
  return p.verify(await p.importPublicKey(pub32), data, sig);
}

describe("node:crypto Ed25519 provider", () => {
  it("is what Node tests run on (vitest setupFiles)", () => {
    expect(ed25519Provider()).toBe(nodeEd25519);
    installNodeEd25519();
    expect(ed25519Provider()).toBe(nodeEd25519);
  });

  it("signs byte-identically to WebCrypto and @nats-io/nkeys, with the same public keys", async () => {
    for (let i = 0; i < 8; i++) {
      const kp = createUser();
      const { raw } = decodeSeed(seedOf(kp));
      const pubs = await Promise.all(PROVIDERS.map((p) => p.publicKeyFromSeed(raw)));
      expect(new Uint8Array(pubs[1] as Uint8Array)).toEqual(new Uint8Array(pubs[0] as Uint8Array));
      for (const data of [new Uint8Array(0), te.encode(`msg ${i}`), new Uint8Array(9000).fill(i)]) {
        const expected = kp.sign(data);
        for (const p of PROVIDERS) expect(await signWith(p, raw, data), p.name).toEqual(expected);
      }
    }
  });

  it("agrees with WebCrypto on valid and forged signatures", async () => {
    const kp = createUser();
    const other = createUser();
    const { raw } = decodeSeed(seedOf(kp));
    const pub = await nodeEd25519.publicKeyFromSeed(raw);
    const otherPub = await nodeEd25519.publicKeyFromSeed(decodeSeed(seedOf(other)).raw);
    const data = te.encode("a signed chat post");
    const sig = kp.sign(data);
    const flip = (bytes: Uint8Array, i: number) => {
      const out = bytes.slice();
      out[i] = (out[i] ?? 0) ^ 0x01;
      return out;
    };
    // S + L: the same signature with a non-canonical scalar, which must not verify.
    const L = [
      0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
      0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    const malleated = sig.slice();
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const v = (malleated[32 + i] ?? 0) + (L[i] ?? 0) + carry;
      malleated[32 + i] = v & 0xff;
      carry = v >> 8;
    }
    const cases: [string, Uint8Array, Uint8Array, Uint8Array, boolean][] = [
      ["valid", pub, data, sig, true],
      ["R bit flipped", pub, data, flip(sig, 3), false],
      ["S bit flipped", pub, data, flip(sig, 40), false],
      ["data changed", pub, flip(data, 0), sig, false],
      ["other key", otherPub, data, sig, false],
      ["all-zero signature", pub, data, new Uint8Array(64), false],
      ["non-canonical S", pub, data, malleated, false],
      ["all-zero public key", new Uint8Array(32), data, sig, false],
    ];
    for (const [what, key, msg, s, want] of cases) {
      for (const p of PROVIDERS) {
        const got = await verifyWith(p, key, msg, s).catch(() => false);
        expect(got, `${p.name}: ${what}`).toBe(want);
      }
    }
    // Through the protocol API (the installed provider, cached KeyObjects): malformed input
    // is false, never an exception.
    expect(await verifyNkey(kp.getPublicKey(), data, sig)).toBe(true);
    expect(await verifyNkey(kp.getPublicKey(), data, flip(sig, 63))).toBe(false);
    expect(await verifyNkey(kp.getPublicKey(), data, sig.slice(1))).toBe(false);
    expect(await verifyNkey("not a key", data, sig)).toBe(false);
  });

  it("gives the same verdicts inline and, for a burst in one turn, on the thread pool", async () => {
    const kp = createUser();
    const { raw } = decodeSeed(seedOf(kp));
    const key = await nodeEd25519.importPublicKey(await nodeEd25519.publicKeyFromSeed(raw));
    const data = te.encode("burst");
    const sig = kp.sign(data);
    const forged = sig.slice();
    forged[10] = (forged[10] ?? 0) ^ 0x80;
    // All started in one turn: the first ones inline (booleans), the rest on the pool (promises).
    const pending = Array.from({ length: 4 * INLINE_VERIFIES_PER_TURN }, (_, i) =>
      nodeEd25519.verify(key, data, i % 2 ? forged : sig),
    );
    expect(pending.filter((r) => r instanceof Promise).length).toBeGreaterThan(0);
    expect(pending.filter((r) => typeof r === "boolean").length).toBeGreaterThan(0);
    const results = await Promise.all(pending);
    expect(results).toEqual(pending.map((_, i) => i % 2 === 0));
  });

  it("verifies across providers: a post signed on one verifies on the other", async () => {
    const { signer, seed } = await newUserSigner();
    for (const [from, to] of [
      [webCryptoEd25519, nodeEd25519],
      [nodeEd25519, webCryptoEd25519],
    ] as const) {
      installEd25519(from);
      const token = await encodePost(await signerFromSeed(seed), {
        name: "ann",
        channel: "NATS",
        msg: `from ${from.name}`,
      });
      installEd25519(to);
      const r = await new EnvelopeVerifier().verify(token, { subject: "chat.KUBECON.posts.NATS" });
      expect(r.ok && r.envelope.iss, `${from.name} → ${to.name}`).toBe(signer.publicKey);
    }
    installNodeEd25519();
  });

  it("nativeKeyPair derives the same public key as @nats-io/nkeys, without tweetnacl", () => {
    for (const kp of [createUser(), fromSeed(te.encode(seedOf(createUser())))]) {
      const native = nativeKeyPair(seedOf(kp));
      expect(native.getPublicKey()).toBe(kp.getPublicKey());
      const data = te.encode("nonce");
      expect(native.sign(data)).toEqual(kp.sign(data));
    }
    expect(() => nativeKeyPair("SUnot-a-seed")).toThrow(/seed/);
  });
});
