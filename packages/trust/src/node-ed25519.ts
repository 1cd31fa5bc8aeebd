// The node:crypto Ed25519 provider for @natschat/protocol: OpenSSL sign and verify on the calling
// thread (~40 µs and ~100 µs here), where WebCrypto pays a thread-pool round trip on top of every
// call. Every Node entry point (CLI, access service, benches, the Node tests' setup) calls
// installNodeEd25519(); browsers keep WebCrypto. Signatures are byte-identical.
//
// Verification is inline while it comes one at a time (one chat session: the lowest latency).
// When many arrive in one event-loop turn (a burst of access requests, a process holding many
// sessions) the ones beyond INLINE_VERIFIES_PER_TURN go to libuv's thread pool, so verification
// uses every core instead of queueing on the event loop.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { type Ed25519Provider, ed25519Provider, installEd25519 } from "@natschat/protocol";

/** DER prefixes (RFC 8410) of an Ed25519 PKCS#8 private key and SPKI public key. */
export const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

function bytes32(what: string, raw: Uint8Array): Uint8Array {
  if (raw.length !== 32) throw new Error(`an Ed25519 ${what} has 32 bytes`);
  return raw;
}

/** A Node KeyObject for a raw 32-byte Ed25519 seed. */
export function ed25519PrivateKeyObject(seed32: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, bytes32("seed", seed32)]),
    format: "der",
    type: "pkcs8",
  });
}

/** The raw 32 bytes of an Ed25519 public KeyObject. */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(SPKI_ED25519_PREFIX.length));
}

/** generateKeyPairSync with a JWK-encoded private key, which @types/node has no overload for. */
const generateJwkPair = generateKeyPairSync as unknown as (
  type: "ed25519",
  options: { privateKeyEncoding: { format: "jwk" } },
) => { privateKey: JsonWebKey; publicKey: KeyObject };

/** Verifications done inline per event-loop turn; the rest of a burst goes to the thread pool. */
export const INLINE_VERIFIES_PER_TURN = 8;

let inlineLeft = INLINE_VERIFIES_PER_TURN;
let refillQueued = false;

function refill(): void {
  inlineLeft = INLINE_VERIFIES_PER_TURN;
  refillQueued = false;
}

/** True if this verification should run inline; counts it against the turn's budget. */
function takeInline(): boolean {
  if (!refillQueued) {
    refillQueued = true;
    // Runs once the event loop has handled what is ready now (the check phase).
    setImmediate(refill);
  }
  if (inlineLeft === 0) return false;
  inlineLeft--;
  return true;
}

function verifyInline(key: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return verify(null, data, key, sig);
  } catch {
    // OpenSSL refuses some malformed inputs outright; none of them is a valid signature.
    return false;
  }
}

function verifyInPool(key: KeyObject, data: Uint8Array, sig: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      verify(null, data, key, sig, (err, ok) => resolve(!err && ok));
    } catch {
      // As verifyInline: a refused input is not a valid signature.
      resolve(false);
    }
  });
}

/** Ed25519 through node:crypto, with KeyObjects as keys (the protocol caches them). */
export const nodeEd25519: Ed25519Provider<KeyObject, KeyObject> = {
  name: "node:crypto",
  // a JWK import: ~9 µs here, where the same key as DER SPKI goes through OpenSSL's decoders in
  // ~98 µs; every new sender's first message (and every registration) imports one
  importPublicKey: (publicKey32) =>
    createPublicKey({
      key: {
        kty: "OKP",
        crv: "Ed25519",
        x: Buffer.from(bytes32("public key", publicKey32)).toString("base64url"),
      },
      format: "jwk",
    }),
  importPrivateKey: ed25519PrivateKeyObject,
  publicKeyFromSeed: (seed32) => rawPublicKey(createPublicKey(ed25519PrivateKeyObject(seed32))),
  // The pair comes out of generateKeyPairSync JWK-encoded and is imported once (a JWK import, as
  // above), where a PKCS#8 import of a random seed costs ~380 µs. Never privateKey.export() on a
  // freshly generated KeyObject: on Node 20 that deadlocks the process now and then, for good (a
  // GC during the export collects the generation job, whose destructor waits on the key's mutex
  // the export holds: ExportJWKEdKey → GC → ~KeyGenJob → pthread_mutex_lock).
  generate() {
    const { privateKey: jwk } = generateJwkPair("ed25519", {
      privateKeyEncoding: { format: "jwk" },
    });
    return {
      seed32: new Uint8Array(Buffer.from(jwk.d ?? "", "base64url")),
      publicKey32: new Uint8Array(Buffer.from(jwk.x ?? "", "base64url")),
      privateKey: createPrivateKey({ key: jwk, format: "jwk" }),
    };
  },
  sign(key, data) {
    const sig = sign(null, data, key);
    return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
  },
  verify: (key, data, sig) =>
    takeInline() ? verifyInline(key, data, sig) : verifyInPool(key, data, sig),
};

/** Makes @natschat/protocol sign and verify with node:crypto in this process (idempotent). */
export function installNodeEd25519(): void {
  if (ed25519Provider() !== nodeEd25519) installEd25519(nodeEd25519);
}
