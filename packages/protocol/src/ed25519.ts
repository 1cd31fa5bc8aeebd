// Ed25519 signing and verification through WebCrypto (native in Node 20 and browsers), with
// signers built from nkey seeds. Signatures are byte-identical to @nats-io/nkeys (tweetnacl),
// which is too slow for the hot path. importKey is costly, so imported keys are cached.
import { base64urlDecode } from "./base64url.ts";
import { NatschatError, NkeyError } from "./errors.ts";
import { decodePublicKey, decodeSeed, encodePublicKey, encodeSeed, type NkeyKind } from "./nkey.ts";

const ED25519 = { name: "Ed25519" };
// DER of PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410), followed by the 32-byte seed.
const PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** Most keys kept imported per cache; the least recently used one is dropped beyond that. */
export const KEY_CACHE_SIZE = 10_000;

/** A bounded map of imported keys, least recently used first. */
class KeyCache {
  readonly #keys = new Map<string, Promise<CryptoKey>>();
  constructor(readonly max: number) {}

  get(id: string, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
    const hit = this.#keys.get(id);
    if (hit) {
      this.#keys.delete(id);
      this.#keys.set(id, hit);
      return hit;
    }
    const loading = load();
    this.#keys.set(id, loading);
    // A failed import is not cached; the caller sees the rejection through `loading`.
    loading.catch(() => this.#keys.delete(id));
    if (this.#keys.size > this.max) {
      const oldest = this.#keys.keys().next();
      if (!oldest.done) this.#keys.delete(oldest.value);
    }
    return loading;
  }
}

const publicKeys = new KeyCache(KEY_CACHE_SIZE);
const privateKeys = new KeyCache(KEY_CACHE_SIZE);

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s)
    throw new Error("WebCrypto is not available: natschat needs Node 20+ or a secure context");
  return s;
}

/** WebCrypto wants ArrayBuffer-backed views. */
function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

function binaryId(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

function pkcs8(seed32: Uint8Array): Uint8Array<ArrayBuffer> {
  const der = new Uint8Array(PKCS8_PREFIX.length + 32);
  der.set(PKCS8_PREFIX);
  der.set(seed32, PKCS8_PREFIX.length);
  return der;
}

function importPrivate(seed32: Uint8Array, extractable: boolean): Promise<CryptoKey> {
  if (seed32.length !== 32) {
    return Promise.reject(new NkeyError("NKEY_INVALID", "an Ed25519 seed has 32 bytes"));
  }
  return subtle().importKey("pkcs8", pkcs8(seed32), ED25519, extractable, ["sign"]);
}

function importPublic(publicKey32: Uint8Array): Promise<CryptoKey> {
  return subtle().importKey("raw", buf(publicKey32), ED25519, false, ["verify"]);
}

/** Signs `data` with a raw 32-byte seed. */
export async function sign(seed32: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const key = await privateKeys.get(binaryId(seed32), () => importPrivate(seed32, false));
  return new Uint8Array(await subtle().sign(ED25519, key, buf(data)));
}

/** Verifies a 64-byte signature with a raw 32-byte public key; false for any malformed input. */
export async function verify(
  publicKey32: Uint8Array,
  data: Uint8Array,
  sig: Uint8Array,
): Promise<boolean> {
  if (publicKey32.length !== 32 || sig.length !== 64) return false;
  return verifyWith(binaryId(publicKey32), () => importPublic(publicKey32), data, sig);
}

/** Verifies a signature with a public nkey string ("U...", "A...", ...); false if malformed. */
export async function verifyNkey(
  publicKey: string,
  data: Uint8Array,
  sig: Uint8Array,
): Promise<boolean> {
  if (sig.length !== 64) return false;
  return verifyWith(publicKey, () => importPublic(decodePublicKey(publicKey)), data, sig);
}

async function verifyWith(
  id: string,
  load: () => Promise<CryptoKey>,
  data: Uint8Array,
  sig: Uint8Array,
): Promise<boolean> {
  try {
    const key = await publicKeys.get(id, load);
    return await subtle().verify(ED25519, key, buf(sig), buf(data));
  } catch {
    // A key that does not decode or import cannot have made a valid signature.
    return false;
  }
}

/** Derives the raw 32-byte public key of a raw seed, natively. */
export async function publicKeyFromSeed(seed32: Uint8Array): Promise<Uint8Array> {
  const jwk = await subtle().exportKey("jwk", await importPrivate(seed32, true));
  const x = jwk.x === undefined ? undefined : base64urlDecode(jwk.x);
  if (x?.length !== 32) {
    throw new NatschatError("WEBCRYPTO_FAILED", "WebCrypto returned no Ed25519 public key");
  }
  return x;
}

/** Something that signs as one nkey. */
export interface Signer {
  /** The public nkey, e.g. "U..." for a user or "A..." for an account signing key. */
  readonly publicKey: string;
  /** Ed25519 signature of `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

class SeedSigner implements Signer {
  readonly #key: CryptoKey;
  constructor(
    readonly publicKey: string,
    key: CryptoKey,
  ) {
    this.#key = key;
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await subtle().sign(ED25519, this.#key, buf(data)));
  }
}

/** Builds a native signer from an nkey seed string ("SU...", "SA...", ...). */
export async function signerFromSeed(seed: string): Promise<Signer> {
  const { kind, raw } = decodeSeed(seed);
  const publicKey = encodePublicKey(kind, await publicKeyFromSeed(raw));
  return new SeedSigner(publicKey, await importPrivate(raw, false));
}

/** Makes a fresh nkey of the given kind; the seed is returned so creds can be written. */
export async function newSigner(kind: NkeyKind): Promise<{ signer: Signer; seed: string }> {
  const seed = encodeSeed(kind, globalThis.crypto.getRandomValues(new Uint8Array(32)));
  return { signer: await signerFromSeed(seed), seed };
}

/** Makes a fresh user nkey ("SU..." seed, "U..." public key). */
export function newUserSigner(): Promise<{ signer: Signer; seed: string }> {
  return newSigner("U");
}
