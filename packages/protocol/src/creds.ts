// NATS creds files: a user JWT block and a user seed block, as `nsc` and @nats-io/jwt
// `fmtCreds` write them. parseCreds checks every part and says which one is wrong.
import { publicKeyFromSeed } from "./ed25519.ts";
import { CredsError, NkeyError } from "./errors.ts";
import {
  checkJwtHeader,
  checkJwtSignature,
  decodeJwtUnverified,
  type JwtClaims,
  parseClaims,
} from "./jwt.ts";
import { decodeSeed, encodePublicKey } from "./nkey.ts";

const JWT_LABEL = "NATS USER JWT";
const SEED_LABEL = "USER NKEY SEED";
// The talk's server wrote this label for the seed block.
const LEGACY_SEED_LABEL = "USER PRIVATE KEY";
const MARKER = /^-{3,}\s*(BEGIN|END)\s+(.+?)\s*-{3,}$/;

/** A parsed and checked creds file. Never log `seed` or the full `jwt`. */
export interface Creds {
  jwt: string;
  seed: string;
  /** The user public key, from the seed; equal to the JWT's `sub`. */
  publicKey: string;
  claims: JwtClaims;
  /** Expiry from the JWT, if it has one. */
  expires?: Date;
}

/** Formats a user JWT and seed as a creds file, in the layout of `nsc` and `fmtCreds`. */
export function formatCreds(jwt: string, seed: string): string {
  if (jwt.split(".").length !== 3) throw new CredsError("CREDS_BAD_JWT", "not a JWT: need 3 parts");
  if (!seed.startsWith("SU")) {
    throw new CredsError("CREDS_SEED_TYPE", "a creds file holds a user seed (starts with 'SU')");
  }
  return `-----BEGIN ${JWT_LABEL}-----
${jwt}
------END ${JWT_LABEL}------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN ${SEED_LABEL}-----
${seed}
------END ${SEED_LABEL}------
`;
}

/** Finds the BEGIN/END blocks: label → content. */
function blocks(text: string): Map<string, string> {
  const found = new Map<string, string>();
  let open: { label: string; lines: string[] } | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const m = MARKER.exec(line);
    if (!m) {
      if (open && line) open.lines.push(line);
      continue;
    }
    const [, edge, label = ""] = m;
    if (edge === "BEGIN") {
      if (open) {
        throw new CredsError("CREDS_TRUNCATED", `the ${open.label} block has no END line`);
      }
      open = { label, lines: [] };
    } else {
      if (!open || open.label !== label) {
        throw new CredsError("CREDS_MARKERS", `END ${label} has no matching BEGIN line`);
      }
      found.set(label, open.lines.join(""));
      open = undefined;
    }
  }
  if (open) {
    throw new CredsError(
      "CREDS_TRUNCATED",
      `the ${open.label} block has no END line; the file looks truncated, get it again`,
    );
  }
  return found;
}

/** Parses and checks a creds file; throws CredsError saying what is wrong. */
export async function parseCreds(text: string, opts: { now?: number } = {}): Promise<Creds> {
  if (typeof text !== "string" || text.trim() === "") {
    throw new CredsError("CREDS_EMPTY", "the creds file is empty; get it again or register anew");
  }
  const found = blocks(text);
  for (const label of found.keys()) {
    if (label !== JWT_LABEL && label !== SEED_LABEL && label !== LEGACY_SEED_LABEL) {
      throw new CredsError(
        "CREDS_MARKERS",
        `unexpected block "${label.slice(0, 40)}"; a creds file has "${JWT_LABEL}" and "${SEED_LABEL}"`,
      );
    }
  }
  const jwt = found.get(JWT_LABEL);
  if (jwt === undefined) {
    throw new CredsError(
      "CREDS_NO_JWT",
      `no "-----BEGIN ${JWT_LABEL}-----" block: not a creds file`,
    );
  }
  if (jwt === "") throw new CredsError("CREDS_TRUNCATED", "the user JWT block is empty");
  const seed = found.get(SEED_LABEL) ?? found.get(LEGACY_SEED_LABEL);
  if (seed === undefined || seed === "") {
    throw new CredsError("CREDS_NO_SEED", `no "-----BEGIN ${SEED_LABEL}-----" block with a seed`);
  }

  const claims = await checkUserJwt(jwt);
  let kind: string;
  let raw: Uint8Array;
  try {
    ({ kind, raw } = decodeSeed(seed));
  } catch (err) {
    if (!(err instanceof NkeyError)) throw err;
    throw new CredsError("CREDS_BAD_SEED", `the seed is not a valid nkey: ${err.message}`, {
      cause: err,
    });
  }
  if (kind !== "U") {
    throw new CredsError(
      "CREDS_SEED_TYPE",
      `the seed is an 'S${kind}' seed, a creds file needs a user seed ('SU')`,
    );
  }
  const publicKey = encodePublicKey("U", await publicKeyFromSeed(raw));
  if (publicKey !== claims.sub) {
    throw new CredsError(
      "CREDS_KEY_MISMATCH",
      `the seed is for ${publicKey} but the JWT is for ${claims.sub}; the file mixes two identities`,
    );
  }
  const expires = claims.exp === undefined ? undefined : new Date(claims.exp * 1000);
  if (expires && expires.getTime() <= (opts.now ?? Date.now())) {
    throw new CredsError(
      "CREDS_EXPIRED",
      `the user JWT expired on ${expires.toISOString()}; renew it or register again`,
    );
  }
  return { jwt, seed, publicKey, claims, ...(expires ? { expires } : {}) };
}

async function checkUserJwt(jwt: string): Promise<JwtClaims & { sub: string }> {
  let claims: JwtClaims;
  try {
    const decoded = decodeJwtUnverified(jwt);
    checkJwtHeader(decoded.header);
    claims = parseClaims(decoded.payload);
    if (!(await checkJwtSignature(decoded))) {
      throw new CredsError("CREDS_BAD_JWT", "the user JWT's signature does not match its issuer");
    }
  } catch (err) {
    if (err instanceof CredsError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new CredsError("CREDS_BAD_JWT", `the user JWT does not decode: ${why}`, { cause: err });
  }
  if (claims.nats.type !== "user" || claims.sub === undefined) {
    throw new CredsError(
      "CREDS_BAD_JWT",
      `the JWT is a ${JSON.stringify(claims.nats.type)} JWT, a creds file needs a user JWT`,
    );
  }
  return { ...claims, sub: claims.sub };
}
