// Signed chat messages in the talk's format: posts, DMs and presence are JWTs signed by the
// sender's user nkey. Encoders build them; EnvelopeVerifier checks every received one and counts
// what it drops. The sender-written `name` is only a claim: show the name the access service
// issued for `iss` (see checkIssuedUserJwt), never `claimedName`.
import { fromUtf8 } from "./base64url.ts";
import type { Signer } from "./ed25519.ts";
import { EnvelopeError, JwtError } from "./errors.ts";
import {
  checkJwtHeader,
  checkJwtSignature,
  decodeJwtUnverified,
  encodeJwt,
  randomJti,
} from "./jwt.ts";
import { normalizeName } from "./names.ts";
import { isPublicKey } from "./nkey.ts";
import { isValidChannel, parseChatSubject, validateChannel } from "./subjects.ts";

/** `nats.type` of a channel post. */
/** How far in the future a message's `iat` may be (clocks differ): a verifier's default. */
export const CLOCK_SKEW_SECONDS = 30;

export const POST_TYPE = "chat-post";
/** `nats.type` of a direct message. */
export const DM_TYPE = "chat-dm";
/** `nats.type` (and first-announce tag) of a presence announcement. */
export const PRESENCE_TYPE = "chat-online";
/** `nats.version` of every envelope. */
export const ENVELOPE_VERSION = 2;
/** Lifetime of a presence announcement. */
export const PRESENCE_TTL_SECONDS = 60;
/** How often a client re-announces its presence. */
export const PRESENCE_INTERVAL_SECONDS = 30;
/** Longest message text, in UTF-16 units. */
export const MSG_MAX_LENGTH = 2000;
/**
 * Largest signed envelope, bytes: the chat user's server payload limit. A message of
 * MSG_MAX_LENGTH characters fits even when every character takes 3 UTF-8 bytes (~8.5 kB signed).
 */
export const ENVELOPE_MAX_BYTES = 16_384;

interface EnvelopeBase {
  jti: string;
  /** Issue time, seconds since the epoch. */
  iat: number;
  /** The sender's user public key: the identity, proven by the signature. */
  iss: string;
  /** The name the sender wrote into its message: unverified, never display it. */
  claimedName: string;
  sub: string;
}

/** A verified channel post. */
export interface PostEnvelope extends EnvelopeBase {
  type: typeof POST_TYPE;
  channel: string;
  msg: string;
}

/** A verified direct message. */
export interface DmEnvelope extends EnvelopeBase {
  type: typeof DM_TYPE;
  /** The recipient's user public key. */
  to: string;
  msg: string;
}

/** A verified presence announcement. */
export interface PresenceEnvelope extends EnvelopeBase {
  type: typeof PRESENCE_TYPE;
  /** Expiry, seconds since the epoch (capped by the verifier's maxPresenceTtlSeconds). */
  exp: number;
  /** True on the first announce of a session (tag "chat-online"). */
  first: boolean;
  /** The sender's issued user JWT, if it sent one: check it with checkIssuedUserJwt. */
  userJwt?: string;
}

/** Any verified chat message. */
export type Envelope = PostEnvelope | DmEnvelope | PresenceEnvelope;

function checkMsg(msg: string): string {
  if (typeof msg !== "string" || msg.length === 0) {
    throw new EnvelopeError("message is empty, write some text");
  }
  if (msg.length > MSG_MAX_LENGTH) {
    throw new EnvelopeError(
      `message is ${msg.length} characters long, the maximum is ${MSG_MAX_LENGTH}; split it`,
    );
  }
  return msg;
}

async function encodeEnvelope(
  signer: Signer,
  name: string,
  sub: string,
  nats: Record<string, unknown>,
  now: number,
  exp?: number,
): Promise<string> {
  const iat = Math.floor(now / 1000);
  const token = await encodeJwt(signer, {
    jti: randomJti(),
    iat,
    iss: signer.publicKey,
    name: normalizeName(name),
    sub,
    ...(exp === undefined ? {} : { exp: iat + exp }),
    nats: { ...nats, version: ENVELOPE_VERSION },
  });
  if (token.length > ENVELOPE_MAX_BYTES) {
    throw new EnvelopeError(
      `message JWT is ${token.length} bytes, the limit is ${ENVELOPE_MAX_BYTES}`,
    );
  }
  return token;
}

/** Signs a post to `channel`; publish it on postSubject(channel, signer.publicKey). */
export async function encodePost(
  signer: Signer,
  p: { name: string; channel: string; msg: string; now?: number },
): Promise<string> {
  const nats = { type: POST_TYPE, msg: checkMsg(p.msg) };
  return encodeEnvelope(signer, p.name, validateChannel(p.channel), nats, p.now ?? Date.now());
}

/** Signs a DM to the user key `to`; publish it on dmSubject(to, signer.publicKey). */
export async function encodeDm(
  signer: Signer,
  p: { name: string; to: string; msg: string; now?: number },
): Promise<string> {
  if (!isPublicKey(p.to, "U")) {
    throw new EnvelopeError("a DM goes to a user public key (56 characters starting with 'U')");
  }
  const nats = { type: DM_TYPE, msg: checkMsg(p.msg) };
  return encodeEnvelope(signer, p.name, p.to, nats, p.now ?? Date.now());
}

/** Signs a presence announcement; publish it on presenceSubject(signer.publicKey) every 30 s. */
export async function encodePresence(
  signer: Signer,
  p: { name: string; first?: boolean; userJwt?: string; ttlSeconds?: number; now?: number },
): Promise<string> {
  const nats: Record<string, unknown> = { type: PRESENCE_TYPE };
  if (p.first) nats.tags = [PRESENCE_TYPE];
  if (p.userJwt !== undefined) nats.ujwt = p.userJwt;
  const ttl = p.ttlSeconds ?? PRESENCE_TTL_SECONDS;
  return encodeEnvelope(signer, p.name, signer.publicKey, nats, p.now ?? Date.now(), ttl);
}

/** Why a message was dropped. */
export type DropReason =
  | "not-jwt"
  | "oversize"
  | "bad-alg"
  | "bad-issuer"
  | "missing-field"
  | "wrong-type"
  | "unknown-type"
  | "future-iat"
  | "expired"
  | "wrong-subject"
  | "signer-mismatch"
  | "bad-signature"
  | "replay";

/** Every DropReason, in the order the verifier checks them. */
export const DROP_REASONS: readonly DropReason[] = [
  "oversize",
  "not-jwt",
  "bad-alg",
  "bad-issuer",
  "missing-field",
  "wrong-type",
  "unknown-type",
  "future-iat",
  "expired",
  "wrong-subject",
  "signer-mismatch",
  "bad-signature",
  "replay",
];

/** Outcome of EnvelopeVerifier.verify. */
export type VerifyResult =
  | { ok: true; envelope: Envelope }
  | { ok: false; reason: DropReason; detail: string };

/** Options of EnvelopeVerifier. */
export interface EnvelopeVerifierOptions {
  /** Tolerated clock difference, seconds (default 30). */
  skewSeconds?: number;
  /** Longest accepted message text (default MSG_MAX_LENGTH). */
  maxMsgLength?: number;
  /** Largest accepted token, bytes, checked before parsing (default ENVELOPE_MAX_BYTES). */
  maxTokenBytes?: number;
  /** How long a seen jti is remembered, seconds (default 300). */
  replayWindowSeconds?: number;
  /** Most jtis remembered; the oldest are forgotten first (default 100000). */
  maxReplayEntries?: number;
  /** Longest presence lifetime honoured; a later `exp` is capped (default 300). */
  maxPresenceTtlSeconds?: number;
  /** Drop messages whose iat is older than this, seconds. Unset: no limit (history). */
  maxAgeSeconds?: number;
  /** Clock, ms since the epoch (default Date.now). */
  now?: () => number;
}

/**
 * Where a message arrived (its live subject, or the `subject` a history page gives), so a message
 * re-published elsewhere, or by another key than its signer, is dropped.
 */
export interface VerifyContext {
  subject?: string;
}

class Drop extends Error {
  constructor(
    readonly reason: DropReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

type Fields = Record<string, unknown>;

function need(obj: Fields, key: string, type: "string" | "number" | "object", where = ""): unknown {
  const v = obj[key];
  if (v === undefined || v === null) throw new Drop("missing-field", `${where}${key} is missing`);
  const ok =
    type === "object"
      ? typeof v === "object" && !Array.isArray(v)
      : typeof v === type && (type !== "number" || Number.isFinite(v));
  if (!ok) throw new Drop("wrong-type", `${where}${key} must be a ${type}`);
  return v;
}

/** Verifies received chat messages and counts what it drops, by reason. */
export class EnvelopeVerifier {
  /** Messages dropped so far, by reason. */
  readonly drops: Record<DropReason, number>;
  /** Messages accepted so far. */
  accepted = 0;
  readonly #skew: number;
  readonly #maxMsg: number;
  readonly #maxBytes: number;
  readonly #window: number;
  readonly #maxSeen: number;
  readonly #maxPresenceTtl: number;
  readonly #maxAge: number | undefined;
  readonly #now: () => number;
  /** "iss jti" → when first seen (ms); insertion order is time order. */
  readonly #seen = new Map<string, number>();

  constructor(opts: EnvelopeVerifierOptions = {}) {
    this.#skew = opts.skewSeconds ?? CLOCK_SKEW_SECONDS;
    this.#maxMsg = opts.maxMsgLength ?? MSG_MAX_LENGTH;
    this.#maxBytes = opts.maxTokenBytes ?? ENVELOPE_MAX_BYTES;
    this.#window = (opts.replayWindowSeconds ?? 300) * 1000;
    this.#maxSeen = opts.maxReplayEntries ?? 100_000;
    this.#maxPresenceTtl = opts.maxPresenceTtlSeconds ?? 300;
    this.#maxAge = opts.maxAgeSeconds;
    this.#now = opts.now ?? Date.now;
    this.drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  }

  /** Number of jtis remembered for replay detection. */
  get remembered(): number {
    return this.#seen.size;
  }

  /** Verifies one message (a JWT string or a NATS payload); never throws for bad input. */
  async verify(token: string | Uint8Array, ctx: VerifyContext = {}): Promise<VerifyResult> {
    try {
      const envelope = await this.#check(token, ctx);
      this.accepted++;
      return { ok: true, envelope };
    } catch (err) {
      if (!(err instanceof Drop)) throw err;
      this.drops[err.reason]++;
      return { ok: false, reason: err.reason, detail: err.detail };
    }
  }

  async #check(input: string | Uint8Array, ctx: VerifyContext): Promise<Envelope> {
    if (input.length > this.#maxBytes) {
      throw new Drop(
        "oversize",
        `message is ${input.length} bytes, the limit is ${this.#maxBytes}`,
      );
    }
    const token = typeof input === "string" ? input : fromUtf8(input);
    if (token === undefined) throw new Drop("not-jwt", "payload is not UTF-8");
    let jwt: ReturnType<typeof decodeJwtUnverified>;
    try {
      jwt = decodeJwtUnverified(token, this.#maxBytes);
      checkJwtHeader(jwt.header);
    } catch (err) {
      if (!(err instanceof JwtError)) throw err;
      const reason = err.code === "JWT_BAD_ALG" ? "bad-alg" : "not-jwt";
      throw new Drop(err.code === "JWT_OVERSIZE" ? "oversize" : reason, err.message);
    }
    const p = jwt.payload;
    const iss = need(p, "iss", "string") as string;
    if (!isPublicKey(iss, "U")) throw new Drop("bad-issuer", "iss is not a user public key");
    const envelope = this.#fields(p, iss);
    this.#checkTime(envelope, p);
    this.#checkSubject(envelope, ctx.subject);
    if (!(await checkJwtSignature(jwt))) {
      throw new Drop("bad-signature", "signature does not match iss");
    }
    this.#checkReplay(`${iss} ${envelope.jti}`);
    return envelope;
  }

  #fields(p: Fields, iss: string): Envelope {
    const jti = need(p, "jti", "string") as string;
    if (jti.length === 0 || jti.length > 128) throw new Drop("wrong-type", "jti length is off");
    const iat = need(p, "iat", "number") as number;
    const claimedName = need(p, "name", "string") as string;
    const sub = need(p, "sub", "string") as string;
    const nats = need(p, "nats", "object") as Fields;
    const type = need(nats, "type", "string", "nats.") as string;
    if (nats.version !== undefined && typeof nats.version !== "number") {
      throw new Drop("wrong-type", "nats.version must be a number");
    }
    const base = { jti, iat, iss, claimedName, sub };
    switch (type) {
      case POST_TYPE:
        if (!isValidChannel(sub)) throw new Drop("wrong-type", "sub is not a channel name");
        return { ...base, type, channel: sub, msg: this.#msg(nats) };
      case DM_TYPE:
        if (!isPublicKey(sub, "U")) throw new Drop("wrong-type", "sub is not a user public key");
        return { ...base, type, to: sub, msg: this.#msg(nats) };
      case PRESENCE_TYPE: {
        const exp = Math.min(need(p, "exp", "number") as number, iat + this.#maxPresenceTtl);
        const tags = nats.tags ?? [];
        if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string")) {
          throw new Drop("wrong-type", "nats.tags must be a list of strings");
        }
        if (nats.ujwt !== undefined && typeof nats.ujwt !== "string") {
          throw new Drop("wrong-type", "nats.ujwt must be a string");
        }
        const first = tags.includes(PRESENCE_TYPE);
        return { ...base, type, exp, first, ...(nats.ujwt ? { userJwt: nats.ujwt } : {}) };
      }
      default:
        throw new Drop("unknown-type", `nats.type ${JSON.stringify(type).slice(0, 40)} is unknown`);
    }
  }

  #msg(nats: Fields): string {
    const msg = need(nats, "msg", "string", "nats.") as string;
    if (msg.length > this.#maxMsg) {
      throw new Drop(
        "oversize",
        `message text is ${msg.length} long, the limit is ${this.#maxMsg}`,
      );
    }
    return msg;
  }

  #checkTime(e: Envelope, p: Fields): void {
    const now = this.#now() / 1000;
    if (e.iat > now + this.#skew) {
      throw new Drop("future-iat", `iat is ${Math.round(e.iat - now)} s in the future`);
    }
    if (p.exp !== undefined && typeof p.exp !== "number") {
      throw new Drop("wrong-type", "exp must be a number");
    }
    const exp = e.type === PRESENCE_TYPE ? e.exp : (p.exp as number | undefined);
    if (exp !== undefined && now > exp + this.#skew) {
      throw new Drop("expired", `expired ${Math.round(now - exp)} s ago`);
    }
    if (this.#maxAge !== undefined && e.iat < now - this.#maxAge - this.#skew) {
      throw new Drop("expired", `iat is ${Math.round(now - e.iat)} s old`);
    }
  }

  /**
   * The subject must be the live subject of this message (protocol v3), whose last token is the
   * key the server let publish there: a signer other than that key is a forgery or a re-publish.
   */
  #checkSubject(e: Envelope, subject: string | undefined): void {
    if (subject === undefined) return;
    const s = parseChatSubject(subject);
    const kind = e.type === POST_TYPE ? "post" : e.type === DM_TYPE ? "dm" : "presence";
    const where =
      s === undefined ||
      s.kind !== kind ||
      (s.kind === "post" && e.type === POST_TYPE && s.channel !== e.channel) ||
      (s.kind === "dm" && e.type === DM_TYPE && s.recipient !== e.to);
    if (where) {
      throw new Drop(
        "wrong-subject",
        `a ${e.type} arrived on ${subject.slice(0, 120)}, which is not its subject`,
      );
    }
    if (s.sender !== e.iss) {
      throw new Drop("signer-mismatch", "the signer is not the key the subject names");
    }
  }

  #checkReplay(id: string): void {
    const now = this.#now();
    for (const [key, seenAt] of this.#seen) {
      if (seenAt >= now - this.#window && this.#seen.size < this.#maxSeen) break;
      this.#seen.delete(key);
    }
    if (this.#seen.has(id)) throw new Drop("replay", "this jti was already seen");
    this.#seen.set(id, now);
  }
}
