// Nkey string codec: turns "U..."/"SU..." nkey strings into raw 32-byte Ed25519 keys and back.
// An nkey is base32 (RFC 4648, no padding) of prefix byte(s) + 32-byte key + CRC-16/XMODEM
// (little endian). @nats-io/nkeys keeps its codec internal, so the few lines live here; the tests
// check them against @nats-io/nkeys.
import { NkeyError } from "./errors.ts";

/** First letter of a public nkey: operator, account, user, server, cluster. */
export type NkeyKind = "O" | "A" | "U" | "N" | "C";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const KINDS: readonly string[] = ["O", "A", "U", "N", "C"];
const SEED_PREFIX = 18 << 3; // base32-encodes to 'S'
const PUBLIC_KEY_CHARS = 56;
const SEED_CHARS = 58;

function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}

function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(text: string): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let n = 0;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[n++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

/** Decodes base32, then checks and strips the CRC; throws NkeyError. */
function unwrap(text: string, what: string): Uint8Array {
  const raw = base32Decode(text);
  if (!raw) {
    throw new NkeyError("NKEY_INVALID", `${what} has characters outside A-Z and 2-7`);
  }
  const body = raw.subarray(0, raw.length - 2);
  const sum = (raw[raw.length - 2] ?? 0) | ((raw[raw.length - 1] ?? 0) << 8);
  if (crc16(body) !== sum) {
    throw new NkeyError("NKEY_CHECKSUM", `${what} has a bad checksum; it was mistyped or cut`);
  }
  return body;
}

function wrap(body: Uint8Array): string {
  const sum = crc16(body);
  const raw = new Uint8Array(body.length + 2);
  raw.set(body);
  raw[body.length] = sum & 0xff;
  raw[body.length + 1] = sum >> 8;
  return base32Encode(raw);
}

function kindByte(kind: NkeyKind): number {
  return ALPHABET.indexOf(kind) << 3;
}

function wrongKind(what: string, got: string, want: NkeyKind | readonly NkeyKind[]): NkeyError {
  const list = typeof want === "string" ? [want] : want;
  return new NkeyError(
    "NKEY_WRONG_TYPE",
    `${what} starts with '${got}', expected ${list.map((k) => `'${k}'`).join(" or ")}`,
  );
}

/** Decodes a public nkey to its 32 raw bytes, optionally requiring its kind(s). */
export function decodePublicKey(key: string, want?: NkeyKind | readonly NkeyKind[]): Uint8Array {
  if (typeof key !== "string" || key.length !== PUBLIC_KEY_CHARS) {
    throw new NkeyError("NKEY_INVALID", `a public nkey has ${PUBLIC_KEY_CHARS} characters`);
  }
  const kind = key[0] ?? "";
  if (!KINDS.includes(kind)) {
    throw new NkeyError("NKEY_INVALID", `'${kind}' is not a public nkey prefix (O, A, U, N, C)`);
  }
  if (
    want !== undefined &&
    !(typeof want === "string" ? want === kind : want.includes(kind as NkeyKind))
  ) {
    throw wrongKind("public key", kind, want);
  }
  return unwrap(key, "public key").slice(1);
}

/** True if `key` is a well-formed public nkey (of the given kind, if any). */
export function isPublicKey(key: string, want?: NkeyKind | readonly NkeyKind[]): boolean {
  try {
    decodePublicKey(key, want);
    return true;
  } catch {
    // The reason does not matter to a predicate.
    return false;
  }
}

/** Decodes a seed "S<kind>..." to its kind and 32 raw seed bytes. */
export function decodeSeed(seed: string): { kind: NkeyKind; raw: Uint8Array } {
  if (typeof seed !== "string" || seed.length !== SEED_CHARS || seed[0] !== "S") {
    throw new NkeyError(
      "NKEY_INVALID",
      `a seed has ${SEED_CHARS} characters and starts with 'S' (e.g. 'SU' for a user)`,
    );
  }
  const body = unwrap(seed, "seed");
  const b0 = body[0] ?? 0;
  const b1 = body[1] ?? 0;
  const role = ((b0 & 7) << 5) | (b1 >> 3);
  const kind = ALPHABET[role >> 3] ?? "";
  if ((b0 & 0xf8) !== SEED_PREFIX || (role & 7) !== 0 || (b1 & 7) !== 0 || !KINDS.includes(kind)) {
    throw new NkeyError(
      "NKEY_INVALID",
      "seed has an unknown prefix; expected SO, SA, SU, SN or SC",
    );
  }
  return { kind: kind as NkeyKind, raw: body.slice(2) };
}

/** Encodes 32 raw bytes as a public nkey of the given kind. */
export function encodePublicKey(kind: NkeyKind, raw: Uint8Array): string {
  if (raw.length !== 32) throw new NkeyError("NKEY_INVALID", "a public key has 32 bytes");
  const body = new Uint8Array(33);
  body[0] = kindByte(kind);
  body.set(raw, 1);
  return wrap(body);
}

/** Encodes a 32-byte raw seed as an nkey seed string of the given kind. */
export function encodeSeed(kind: NkeyKind, raw: Uint8Array): string {
  if (raw.length !== 32) throw new NkeyError("NKEY_INVALID", "a seed has 32 bytes");
  const role = kindByte(kind);
  const body = new Uint8Array(34);
  body[0] = SEED_PREFIX | (role >> 5);
  body[1] = (role & 31) << 3;
  body.set(raw, 2);
  return wrap(body);
}
