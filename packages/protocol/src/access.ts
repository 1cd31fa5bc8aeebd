// The registration wire format on chat.req.access. The client generates its own user nkey and
// sends a request JWT signed by it (proof of possession, no private key on the wire); the service
// replies with the issued user JWT, or with the talk's `-ERR '<message>'` plus a stable code in the
// Natschat-Error-Code header. checkIssuedUserJwt is how a client checks that reply, and how a
// receiver binds a sender key to the name the CHAT account issued for it.

import type { Signer } from "./ed25519.ts";
import {
  AccessError,
  type AccessErrorCode,
  AccessErrorCodes,
  IdentityError,
  InvalidNameError,
  JwtError,
} from "./errors.ts";
import {
  checkJwtHeader,
  checkJwtSignature,
  decodeJwtUnverified,
  encodeJwt,
  type JwtClaims,
  parseClaims,
  randomJti,
} from "./jwt.ts";
import { normalizeName } from "./names.ts";
import { isPublicKey } from "./nkey.ts";

/** `nats.type` of an access request. */
export const ACCESS_REQUEST_TYPE = "chat-access-request";
/** Header that carries the AccessErrorCode of an error reply. */
export const ACCESS_ERROR_HEADER = "Natschat-Error-Code";
/** Largest accepted access request, bytes. */
export const ACCESS_REQUEST_MAX_BYTES = 2048;

/** Signs a request for `name` with the client's own new user key. */
export async function encodeAccessRequest(
  signer: Signer,
  name: string,
  opts: { now?: number } = {},
): Promise<string> {
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  return encodeJwt(signer, {
    jti: randomJti(),
    iat,
    iss: signer.publicKey,
    sub: signer.publicKey,
    name: normalizeName(name),
    nats: { type: ACCESS_REQUEST_TYPE, version: 2 },
  });
}

/** A verified access request. The service must still refuse a `jti` it has seen. */
export interface AccessRequest {
  /** The normalized requested name. */
  name: string;
  /** The user public key to issue a JWT for, proven by the signature. */
  publicKey: string;
  jti: string;
  iat: number;
}

/** Options of verifyAccessRequest. */
export interface VerifyAccessRequestOptions {
  /** Clock, ms since the epoch (default Date.now()). */
  now?: number;
  /** Oldest accepted request, seconds (default 60). */
  maxAgeSeconds?: number;
  /** Tolerated clock difference, seconds (default 30). */
  skewSeconds?: number;
}

function bad(reason: string, message: string, cause?: unknown): AccessError {
  return new AccessError("BAD_REQUEST", message, reason, { cause });
}

function badProof(reason: string, message: string): AccessError {
  return new AccessError("BAD_PROOF", message, reason);
}

/** Verifies a request: shape, self-signature by a user key, freshness and the name rules. */
export async function verifyAccessRequest(
  token: string,
  opts: VerifyAccessRequestOptions = {},
): Promise<AccessRequest> {
  let decoded: ReturnType<typeof decodeJwtUnverified>;
  let claims: JwtClaims;
  try {
    decoded = decodeJwtUnverified(token, ACCESS_REQUEST_MAX_BYTES);
    checkJwtHeader(decoded.header);
    claims = parseClaims(decoded.payload);
  } catch (err) {
    if (!(err instanceof JwtError)) throw err;
    const reason = err.code === "JWT_OVERSIZE" ? "oversize" : "garbage";
    throw bad(reason, `access request is not a valid JWT: ${err.message}`, err);
  }
  const { iss, sub, jti, iat, name } = claims;
  if (claims.nats.type !== ACCESS_REQUEST_TYPE) {
    throw bad("wrong-type", `request type must be "${ACCESS_REQUEST_TYPE}"`);
  }
  if (jti === undefined || iat === undefined || name === undefined || sub === undefined) {
    throw bad("missing-field", "access request needs jti, iat, sub and name");
  }
  if (!isPublicKey(iss, "U")) {
    throw badProof(
      "not-user-key",
      `request must be signed by a user key ('U...'), not '${iss[0]}...'`,
    );
  }
  if (sub !== iss) throw badProof("sub-mismatch", "request sub must be the signing user key");
  if (!(await checkJwtSignature(decoded))) {
    throw badProof("bad-signature", "request signature does not match its key");
  }
  const now = (opts.now ?? Date.now()) / 1000;
  const skew = opts.skewSeconds ?? 30;
  const maxAge = opts.maxAgeSeconds ?? 60;
  if (iat > now + skew) {
    throw badProof("future", `request is dated ${Math.round(iat - now)} s ahead; check your clock`);
  }
  if (iat < now - maxAge - skew) {
    throw badProof(
      "stale",
      `request is ${Math.round(now - iat)} s old, the limit is ${maxAge} s; send a new one`,
    );
  }
  try {
    return { name: normalizeName(name), publicKey: iss, jti, iat };
  } catch (err) {
    if (!(err instanceof InvalidNameError)) throw err;
    throw new AccessError("NAME_INVALID", err.message, "name", { cause: err });
  }
}

/** Formats an error reply: body in the talk's `-ERR '<message>'` form, code for the header. */
export function formatAccessError(
  code: AccessErrorCode,
  message: string,
): { body: string; code: AccessErrorCode } {
  // One line, so the reply stays a single -ERR line as in the talk.
  const clean = message.replace(/\s*[\r\n]+\s*/g, " ").trim();
  return { body: `-ERR '${clean}'`, code };
}

/** A parsed access reply: the issued user JWT, or the service's error. */
export type AccessReply =
  | { ok: true; jwt: string }
  | { ok: false; code: AccessErrorCode | "UNKNOWN"; message: string };

const KNOWN_CODES: readonly string[] = Object.values(AccessErrorCodes);

/** Parses a reply body and its Natschat-Error-Code header (absent from the talk's service). */
export function parseAccessReply(body: string, headerCode?: string): AccessReply {
  const code =
    headerCode !== undefined && KNOWN_CODES.includes(headerCode)
      ? (headerCode as AccessErrorCode)
      : "UNKNOWN";
  const text = body.trim();
  if (text.startsWith("-ERR")) {
    const message = text
      .slice(4)
      .trim()
      .replace(/^'(.*)'$/s, "$1");
    return { ok: false, code, message };
  }
  if (headerCode !== undefined || text.split(".").length !== 3) {
    return { ok: false, code, message: `unexpected reply from the access service` };
  }
  return { ok: true, jwt: text };
}

/** What the CHAT account's issued user JWT says about a key. */
export interface IssuedIdentity {
  name: string;
  expires?: Date;
  claims: JwtClaims;
}

/** Options of checkIssuedUserJwt. */
export interface CheckIssuedOptions {
  /** The user key the JWT must be for. */
  expectedKey: string;
  /** The CHAT account public key ('A...'). */
  chatAccount: string;
  /** The CHAT account's signing keys; only these may issue chat users. */
  chatSigningKeys: readonly string[];
  /** Clock, ms since the epoch (default Date.now()). */
  now?: number;
}

/** Checks a user JWT was issued by a CHAT signing key for `expectedKey`; returns its name. */
export async function checkIssuedUserJwt(
  jwt: string,
  opts: CheckIssuedOptions,
): Promise<IssuedIdentity> {
  let decoded: ReturnType<typeof decodeJwtUnverified>;
  let claims: JwtClaims;
  try {
    decoded = decodeJwtUnverified(jwt);
    checkJwtHeader(decoded.header);
    claims = parseClaims(decoded.payload);
  } catch (err) {
    if (!(err instanceof JwtError)) throw err;
    throw new IdentityError("ID_BAD_JWT", `user JWT does not decode: ${err.message}`, {
      cause: err,
    });
  }
  if (claims.nats.type !== "user")
    throw new IdentityError("ID_NOT_USER", "the JWT is not a user JWT");
  if (claims.sub !== opts.expectedKey) {
    throw new IdentityError("ID_WRONG_KEY", "the user JWT is for another key; do not use it");
  }
  if (!opts.chatSigningKeys.includes(claims.iss)) {
    throw new IdentityError(
      "ID_WRONG_SIGNER",
      "the user JWT was not signed by a CHAT account signing key",
    );
  }
  if (claims.nats.issuer_account !== opts.chatAccount) {
    throw new IdentityError("ID_WRONG_ACCOUNT", "the user JWT does not belong to the CHAT account");
  }
  if (!(await checkJwtSignature(decoded))) {
    throw new IdentityError("ID_BAD_JWT", "the user JWT's signature does not match its issuer");
  }
  const name = claims.name ?? "";
  try {
    if (normalizeName(name) !== name)
      throw new InvalidNameError(`name "${name}" is not normalized`);
  } catch (err) {
    if (!(err instanceof InvalidNameError)) throw err;
    throw new IdentityError("ID_BAD_NAME", `the issued name is not valid: ${err.message}`);
  }
  const expires = claims.exp === undefined ? undefined : new Date(claims.exp * 1000);
  if (expires && expires.getTime() <= (opts.now ?? Date.now())) {
    throw new IdentityError("ID_EXPIRED", `the user JWT expired on ${expires.toISOString()}`);
  }
  return { name, claims, ...(expires ? { expires } : {}) };
}
