// A @nats-io/nkeys KeyPair whose Ed25519 runs in Node's crypto: ~100x faster than tweetnacl
// for issuing JWTs, with byte-identical signatures. Key decoding still goes through nkeys.
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { fromSeed, type KeyPair } from "@nats-io/nkeys";
import { decodeSeed } from "@natschat/protocol";

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

class NativeKeyPair implements KeyPair {
  readonly #seed: Uint8Array;
  readonly #privateKey: KeyObject;
  readonly #publicKeyObject: KeyObject;
  readonly #publicKey: string;

  constructor(seed: string) {
    this.#seed = new TextEncoder().encode(seed);
    // One tweetnacl derivation at construction validates the seed and yields the public nkey.
    this.#publicKey = fromSeed(this.#seed).getPublicKey();
    this.#privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, decodeSeed(seed).raw]),
      format: "der",
      type: "pkcs8",
    });
    this.#publicKeyObject = createPublicKey(this.#privateKey);
  }
  getPublicKey(): string {
    return this.#publicKey;
  }
  getPrivateKey(): Uint8Array {
    return fromSeed(this.#seed).getPrivateKey();
  }
  getSeed(): Uint8Array {
    return this.#seed;
  }
  sign(input: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, input, this.#privateKey));
  }
  verify(input: Uint8Array, sig: Uint8Array): boolean {
    return verify(null, input, this.#publicKeyObject, sig);
  }
  clear(): void {
    this.#seed.fill(0);
  }
  seal(): Uint8Array {
    throw new Error("NativeKeyPair signs only; sealing needs a curve key");
  }
  open(): Uint8Array | null {
    throw new Error("NativeKeyPair signs only; opening needs a curve key");
  }
}

/** A KeyPair for an nkey seed string that signs with Node's native Ed25519. */
export function nativeKeyPair(seed: string): KeyPair {
  return new NativeKeyPair(seed);
}
