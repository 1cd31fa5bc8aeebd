// NATS-style JWTs: header {"typ":"JWT","alg":"ed25519-nkey"}, base64url (no padding) header and
// payload, Ed25519 signature by the `iss` nkey over "header.payload". Compatible with @nats-io/jwt.
// Time claims (exp, nbf) are left to the caller, which knows its clock and its rules.
import { base64urlDecode, base64urlEncode, fromUtf8, utf8 } from "./base64url.ts";
import { type Signer, verifyNkey } from "./ed25519.ts";
import { JwtError } from "./errors.ts";
import { decodePublicKey, type NkeyKind } from "./nkey.ts";

/** The only accepted algorithm: v2 NATS JWTs sign the header too. */
export const JWT_ALG = "ed25519-nkey";
/** Default size limit of a token, checked before anything is parsed. */
export const JWT_MAX_BYTES = 8192;

const HEADER = base64urlEncode(utf8(JSON.stringify({ typ: "JWT", alg: JWT_ALG })));

/** The standard claims natschat reads, typed; `nats` holds the NATS-specific part. */
export interface JwtClaims {
  iss: string;
  jti?: string;
  iat?: number;
  exp?: number;
  nbf?: number;
  sub?: string;
  name?: string;
  nats: Record<string, unknown>;
}

/** A JWT split and parsed, but not verified. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The signed text: "header.payload". */
  signingInput: string;
  signature: Uint8Array;
}

// Random bytes for jtis, drawn 4 KiB at a time: one getRandomValues call costs as much as
// encoding a whole message, and every message needs a jti.
const jtiPool = new Uint8Array(4096);
let jtiNext = jtiPool.length;

/** A random 22-character base64url id (16 random bytes). */
export function randomJti(): string {
  if (jtiNext + 16 > jtiPool.length) {
    globalThis.crypto.getRandomValues(jtiPool);
    jtiNext = 0;
  }
  const jti = base64urlEncode(jtiPool.subarray(jtiNext, jtiNext + 16));
  jtiPool.fill(0, jtiNext, jtiNext + 16);
  jtiNext += 16;
  return jti;
}

/** Signs `claims` as a JWT issued by `signer`; `iss` is always set to the signer's key. */
export async function encodeJwt(
  signer: Signer,
  claims: Record<string, unknown> & { nats: Record<string, unknown> },
): Promise<string> {
  const payload = base64urlEncode(utf8(JSON.stringify({ ...claims, iss: signer.publicKey })));
  const signingInput = `${HEADER}.${payload}`;
  const sig = await signer.sign(utf8(signingInput));
  return `${signingInput}.${base64urlEncode(sig)}`;
}

function parseObject(part: string, what: string): Record<string, unknown> {
  const bytes = base64urlDecode(part);
  const text = bytes && fromUtf8(bytes);
  if (text === undefined) throw new JwtError("JWT_MALFORMED", `JWT ${what} is not base64url UTF-8`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new JwtError("JWT_MALFORMED", `JWT ${what} is not JSON`, { cause: err });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new JwtError("JWT_MALFORMED", `JWT ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Splits and parses a JWT without checking its signature: for display, or as a first step. */
export function decodeJwtUnverified(token: string, maxBytes = JWT_MAX_BYTES): DecodedJwt {
  if (typeof token !== "string") throw new JwtError("JWT_MALFORMED", "a JWT must be a string");
  if (token.length > maxBytes) {
    throw new JwtError("JWT_OVERSIZE", `JWT is ${token.length} bytes, the limit is ${maxBytes}`);
  }
  const parts = token.split(".");
  if (parts.length !== 3) {
    throw new JwtError(
      "JWT_MALFORMED",
      `a JWT has 3 parts separated by '.', this has ${parts.length}`,
    );
  }
  const [h = "", p = "", s = ""] = parts;
  // Nearly every token has exactly the header natschat and @nats-io/jwt write.
  const header = h === HEADER ? { typ: "JWT", alg: JWT_ALG } : parseObject(h, "header");
  const payload = parseObject(p, "payload");
  const signature = base64urlDecode(s);
  if (!signature) throw new JwtError("JWT_MALFORMED", "JWT signature is not base64url");
  return { header, payload, signingInput: `${h}.${p}`, signature };
}

/** Throws JwtError JWT_BAD_ALG unless the header is {typ: "JWT", alg: "ed25519-nkey"}. */
export function checkJwtHeader(header: Record<string, unknown>): void {
  // @nats-io/jwt accepts a lower-case "jwt" type too.
  if (header.typ !== "JWT" && header.typ !== "jwt") {
    throw new JwtError("JWT_BAD_ALG", `JWT header typ is ${JSON.stringify(header.typ)}, not "JWT"`);
  }
  if (header.alg !== JWT_ALG) {
    throw new JwtError(
      "JWT_BAD_ALG",
      `JWT alg is ${JSON.stringify(header.alg)}, only "${JWT_ALG}" is accepted`,
    );
  }
}

function optional(payload: Record<string, unknown>, field: string, type: "string" | "number") {
  const v = payload[field];
  if (v === undefined) return;
  if (typeof v !== type || (type === "number" && !Number.isFinite(v))) {
    throw new JwtError("JWT_BAD_CLAIMS", `JWT claim "${field}" must be a ${type}`);
  }
}

/** Types the claims natschat reads; throws JwtError JWT_BAD_CLAIMS on a wrong type. */
export function parseClaims(payload: Record<string, unknown>): JwtClaims {
  if (typeof payload.iss !== "string") {
    throw new JwtError("JWT_BAD_CLAIMS", 'JWT claim "iss" is missing');
  }
  for (const f of ["jti", "sub", "name"]) optional(payload, f, "string");
  for (const f of ["iat", "exp", "nbf"]) optional(payload, f, "number");
  const nats = payload.nats ?? {};
  if (typeof nats !== "object" || nats === null || Array.isArray(nats)) {
    throw new JwtError("JWT_BAD_CLAIMS", 'JWT claim "nats" must be an object');
  }
  return { ...payload, nats } as JwtClaims;
}

/** Checks the signature of a decoded JWT with its `iss` key; false if `iss` is no nkey. */
export async function checkJwtSignature(jwt: DecodedJwt): Promise<boolean> {
  const iss = jwt.payload.iss;
  if (typeof iss !== "string") return false;
  return verifyNkey(iss, utf8(jwt.signingInput), jwt.signature);
}

/** Options of verifyJwt. */
export interface VerifyJwtOptions {
  /** Required kind(s) of the issuer key, e.g. "U" or ["A"]. */
  issuer?: NkeyKind | readonly NkeyKind[];
  maxBytes?: number;
}

/** Verifies structure, header, issuer kind and signature; returns the typed claims. */
export async function verifyJwt(token: string, opts: VerifyJwtOptions = {}): Promise<JwtClaims> {
  const jwt = decodeJwtUnverified(token, opts.maxBytes);
  checkJwtHeader(jwt.header);
  const claims = parseClaims(jwt.payload);
  try {
    decodePublicKey(claims.iss, opts.issuer);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new JwtError("JWT_BAD_ISSUER", `JWT issuer is not accepted: ${why}`, { cause: err });
  }
  if (!(await checkJwtSignature(jwt))) {
    throw new JwtError("JWT_BAD_SIGNATURE", "JWT signature does not match its issuer key");
  }
  return claims;
}
