// Ed25519 signing and verification through a provider: WebCrypto by default (native in browsers
// and Node 20), or one installed with installEd25519 — Node entry points install node:crypto's
// synchronous sign/verify (@natschat/trust installNodeEd25519), which costs a fraction of
// WebCrypto's thread-pool round trip. Signers are built from nkey seeds; signatures are
// byte-identical to @nats-io/nkeys (tweetnacl), which is too slow for the hot path. Importing a
// key is costly, so imported keys are cached (bounded, per provider).
import { base64urlDecode } from "./base64url.ts";
import { NatschatError, NkeyError } from "./errors.ts";
import { decodePublicKey, decodeSeed, encodePublicKey, encodeSeed, type NkeyKind } from "./nkey.ts";

/**
 * The Ed25519 primitives natschat needs. Keys are opaque to natschat (a CryptoKey, a Node
 * KeyObject, ...): it imports each once and caches it. Any method may answer synchronously or
 * with a promise; sync answers save a thread-pool round trip on the hot path.
 */
export interface Ed25519Provider<PublicKey = unknown, PrivateKey = unknown> {
  /** Shown in diagnostics, e.g. "webcrypto" or "node:crypto". */
  readonly name: string;
  /** Imports a raw 32-byte public key for verify; throws (or rejects) if it is not one. */
  importPublicKey(publicKey32: Uint8Array): PublicKey | Promise<PublicKey>;
  /** Imports a raw 32-byte seed for sign. */
  importPrivateKey(seed32: Uint8Array): PrivateKey | Promise<PrivateKey>;
  /** The raw 32-byte public key of a raw 32-byte seed. */
  publicKeyFromSeed(seed32: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** A fresh key: its raw seed and public key, and the key for sign (one step where it can). */
  generate(): GeneratedKey<PrivateKey> | Promise<GeneratedKey<PrivateKey>>;
  /** The 64-byte signature of `data`. */
  sign(key: PrivateKey, data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** Whether `sig` (64 bytes) is a valid signature of `data`; never throws for a bad signature. */
  verify(key: PublicKey, data: Uint8Array, sig: Uint8Array): boolean | Promise<boolean>;
}

/** A key made by Ed25519Provider.generate. */
export interface GeneratedKey<PrivateKey> {
  seed32: Uint8Array;
  publicKey32: Uint8Array;
  privateKey: PrivateKey;
}

const ED25519 = { name: "Ed25519" };
// DER of PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410), followed by the 32-byte seed.
const PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** Most keys kept imported per cache; the least recently used one is dropped beyond that. */
export const KEY_CACHE_SIZE = 10_000;

/** A bounded map of imported keys, least recently used first. */
class KeyCache<K> {
  readonly #keys = new Map<string, K | Promise<K>>();
  constructor(readonly max: number) {}

  get(id: string, load: () => K | Promise<K>): K | Promise<K> {
    const hit = this.#keys.get(id);
    if (hit !== undefined) {
      this.#keys.delete(id);
      this.#keys.set(id, hit);
      return hit;
    }
    // A load that throws is not cached: the caller sees the error.
    const loading = load();
    this.#keys.set(id, loading);
    if (loading instanceof Promise) {
      // A failed import is not cached; the caller sees the rejection through `loading`.
      loading.catch(() => {
        if (this.#keys.get(id) === loading) this.#keys.delete(id);
      });
    }
    if (this.#keys.size > this.max) {
      const oldest = this.#keys.keys().next();
      if (!oldest.done) this.#keys.delete(oldest.value);
    }
    return loading;
  }
}

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

function webCryptoPrivate(seed32: Uint8Array, extractable: boolean): Promise<CryptoKey> {
  return subtle().importKey("pkcs8", pkcs8(seed32), ED25519, extractable, ["sign"]);
}

/** The default provider: WebCrypto (browsers, and Node when nothing else is installed). */
export const webCryptoEd25519: Ed25519Provider<CryptoKey, CryptoKey> = {
  name: "webcrypto",
  importPublicKey: (publicKey32) =>
    subtle().importKey("raw", buf(publicKey32), ED25519, false, ["verify"]),
  importPrivateKey: (seed32) => webCryptoPrivate(seed32, false),
  async publicKeyFromSeed(seed32) {
    const jwk = await subtle().exportKey("jwk", await webCryptoPrivate(seed32, true));
    const x = jwk.x === undefined ? undefined : base64urlDecode(jwk.x);
    if (x?.length !== 32) {
      throw new NatschatError("WEBCRYPTO_FAILED", "WebCrypto returned no Ed25519 public key");
    }
    return x;
  },
  /**
   * generateKey and one JWK export give the seed, the public key and a signing key together;
   * going through the seed costs two PKCS#8 imports (~0.5 ms each in Node), which made key
   * generation the largest CPU cost of a registration.
   */
  async generate() {
    const pair = (await subtle().generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair;
    const jwk = await subtle().exportKey("jwk", pair.privateKey);
    const d = jwk.d === undefined ? undefined : base64urlDecode(jwk.d);
    const x = jwk.x === undefined ? undefined : base64urlDecode(jwk.x);
    if (d?.length !== 32 || x?.length !== 32) {
      throw new NatschatError("WEBCRYPTO_FAILED", "WebCrypto returned no Ed25519 key pair");
    }
    return { seed32: d, publicKey32: x, privateKey: pair.privateKey };
  },
  async sign(key, data) {
    return new Uint8Array(await subtle().sign(ED25519, key, buf(data)));
  },
  verify: (key, data, sig) => subtle().verify(ED25519, key, buf(sig), buf(data)),
};

/** The installed provider with its own key caches (keys of one provider mean nothing to another). */
interface Active {
  provider: Ed25519Provider;
  publicKeys: KeyCache<unknown>;
  privateKeys: KeyCache<unknown>;
}

function activate(provider: Ed25519Provider): Active {
  return {
    provider,
    publicKeys: new KeyCache(KEY_CACHE_SIZE),
    privateKeys: new KeyCache(KEY_CACHE_SIZE),
  };
}

let active: Active = activate(webCryptoEd25519);

/**
 * Makes `provider` do every Ed25519 operation from now on (signers made before keep theirs);
 * returns the one it replaces. Node entry points install node:crypto's (@natschat/trust
 * installNodeEd25519); browsers keep the default, webCryptoEd25519.
 */
export function installEd25519(provider: Ed25519Provider): Ed25519Provider {
  const previous = active.provider;
  if (provider !== previous) active = activate(provider);
  return previous;
}

/** The provider in use. */
export function ed25519Provider(): Ed25519Provider {
  return active.provider;
}

function checkSeed(seed32: Uint8Array): void {
  if (seed32.length !== 32) throw new NkeyError("NKEY_INVALID", "an Ed25519 seed has 32 bytes");
}

/** Signs `data` with a raw 32-byte seed. */
export async function sign(seed32: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  checkSeed(seed32);
  const { provider, privateKeys } = active;
  const key = await privateKeys.get(binaryId(seed32), () => provider.importPrivateKey(seed32));
  return provider.sign(key, data);
}

/** Verifies a 64-byte signature with a raw 32-byte public key; false for any malformed input. */
export async function verify(
  publicKey32: Uint8Array,
  data: Uint8Array,
  sig: Uint8Array,
): Promise<boolean> {
  if (publicKey32.length !== 32 || sig.length !== 64) return false;
  return verifyWith(binaryId(publicKey32), () => publicKey32, data, sig);
}

/** Verifies a signature with a public nkey string ("U...", "A...", ...); false if malformed. */
export async function verifyNkey(
  publicKey: string,
  data: Uint8Array,
  sig: Uint8Array,
): Promise<boolean> {
  if (sig.length !== 64) return false;
  return verifyWith(publicKey, () => decodePublicKey(publicKey), data, sig);
}

async function verifyWith(
  id: string,
  raw: () => Uint8Array,
  data: Uint8Array,
  sig: Uint8Array,
): Promise<boolean> {
  const { provider, publicKeys } = active;
  try {
    const key = await publicKeys.get(id, () => provider.importPublicKey(raw()));
    return await provider.verify(key, data, sig);
  } catch {
    // A key that does not decode or import cannot have made a valid signature.
    return false;
  }
}

/** Derives the raw 32-byte public key of a raw seed, natively. */
export async function publicKeyFromSeed(seed32: Uint8Array): Promise<Uint8Array> {
  checkSeed(seed32);
  return active.provider.publicKeyFromSeed(seed32);
}

/** Something that signs as one nkey. */
export interface Signer {
  /** The public nkey, e.g. "U..." for a user or "A..." for an account signing key. */
  readonly publicKey: string;
  /** Ed25519 signature of `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

class SeedSigner implements Signer {
  readonly #provider: Ed25519Provider;
  readonly #key: unknown;
  constructor(
    readonly publicKey: string,
    provider: Ed25519Provider,
    key: unknown,
  ) {
    this.#provider = provider;
    this.#key = key;
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    return this.#provider.sign(this.#key, data);
  }
}

/** Builds a native signer from an nkey seed string ("SU...", "SA...", ...). */
export async function signerFromSeed(seed: string): Promise<Signer> {
  const { kind, raw } = decodeSeed(seed);
  const { provider } = active;
  const publicKey = encodePublicKey(kind, await provider.publicKeyFromSeed(raw));
  return new SeedSigner(publicKey, provider, await provider.importPrivateKey(raw));
}

/** Makes a fresh nkey of the given kind; the seed is returned so creds can be written. */
export async function newSigner(kind: NkeyKind): Promise<{ signer: Signer; seed: string }> {
  const { provider } = active;
  const key = await provider.generate();
  const seed = encodeSeed(kind, key.seed32);
  key.seed32.fill(0);
  const publicKey = encodePublicKey(kind, key.publicKey32);
  return { signer: new SeedSigner(publicKey, provider, key.privateKey), seed };
}

/** Makes a fresh user nkey ("SU..." seed, "U..." public key). */
export function newUserSigner(): Promise<{ signer: Signer; seed: string }> {
  return newSigner("U");
}
