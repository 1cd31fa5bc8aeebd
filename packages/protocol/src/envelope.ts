// Signed chat messages in the talk's format: posts, DMs, presence, message events (edit, react,
// delete) and an admin's removal are JWTs signed by the sender's user nkey. Encoders build them;
// EnvelopeVerifier checks every received one and counts what it drops. The sender-written `name`
// is only a claim: show the name the access service issued for `iss` (see checkIssuedUserJwt),
// never `claimedName`. An event names its target by the target's message id
// (`<authorKey>.<jti>`, the Nats-Msg-Id it is stored under; see message-id.ts).
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
import { isMessageId } from "./message-id.ts";
import { normalizeName } from "./names.ts";
import { isPublicKey } from "./nkey.ts";
import {
  type Conv,
  isValidChannel,
  MODERATION_SUBJECT,
  parseChatSubject,
  parseEventSubject,
  validateChannel,
} from "./subjects.ts";

/** How far in the future a message's `iat` may be (clocks differ): a verifier's default. */
export const CLOCK_SKEW_SECONDS = 30;

/** `nats.type` of a channel post. */
export const POST_TYPE = "chat-post";
/** `nats.type` of a direct message. */
export const DM_TYPE = "chat-dm";
/** `nats.type` (and first-announce tag) of a presence announcement. */
export const PRESENCE_TYPE = "chat-online";
/** `nats.type` of an edit of one's own post or DM. */
export const EDIT_TYPE = "chat-edit";
/** `nats.type` of a reaction added to or removed from a message. */
export const REACT_TYPE = "chat-react";
/** `nats.type` of the deletion of one's own post or DM. */
export const DELETE_TYPE = "chat-delete";
/** `nats.type` of an admin's removal of any message (moderation). */
export const MODERATE_TYPE = "chat-moderate";
/** `sub` of a moderation token. */
export const MODERATION_SUB = "moderation";
/** Longest reaction, in UTF-16 units (an emoji with modifiers and joiners). */
export const EMOJI_MAX_LENGTH = 16;
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
  /** A reply: the message id (`<authorKey>.<jti>`) it answers. */
  re?: string;
}

/** A verified direct message. */
export interface DmEnvelope extends EnvelopeBase {
  type: typeof DM_TYPE;
  /** The recipient's user public key. */
  to: string;
  msg: string;
  /** A reply: the message id (`<authorKey>.<jti>`) it answers. */
  re?: string;
}

interface EventBase extends EnvelopeBase {
  /** Where the target is: the channel, or the DM with `peer` (the other side, for the sender). */
  conv: Conv;
  /** The target's message id, `<authorKey>.<jti>`. */
  target: string;
}

/** A verified edit: `msg` replaces the target's text (only its author may). */
export interface EditEnvelope extends EventBase {
  type: typeof EDIT_TYPE;
  msg: string;
}

/** A verified reaction: `op` adds or removes the sender's `emoji` on the target. */
export interface ReactEnvelope extends EventBase {
  type: typeof REACT_TYPE;
  emoji: string;
  op: "add" | "remove";
}

/** A verified deletion of the target (only its author may). */
export interface DeleteEnvelope extends EventBase {
  type: typeof DELETE_TYPE;
}

/** A message event: what a sender may do to a stored message. */
export type EventEnvelope = EditEnvelope | ReactEnvelope | DeleteEnvelope;

/** A verified admin removal: signed by the admin's key, accepted only on MODERATION_SUBJECT. */
export interface ModerateEnvelope extends EnvelopeBase {
  type: typeof MODERATE_TYPE;
  action: "remove";
  /** The target's message id, `<authorKey>.<jti>`. */
  target: string;
  /** The target's store: channel posts or DMs. */
  store: "posts" | "dms";
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
export type Envelope =
  | PostEnvelope
  | DmEnvelope
  | PresenceEnvelope
  | EventEnvelope
  | ModerateEnvelope;

/** Whether an envelope is a message event (edit, react, delete). */
export function isEventEnvelope(e: Envelope): e is EventEnvelope {
  return e.type === EDIT_TYPE || e.type === REACT_TYPE || e.type === DELETE_TYPE;
}

/** Whether `emoji` may be a reaction: 1–16 UTF-16 units, no spaces or controls, not plain ASCII. */
export function isValidEmoji(emoji: unknown): emoji is string {
  return (
    typeof emoji === "string" &&
    emoji.length > 0 &&
    emoji.length <= EMOJI_MAX_LENGTH &&
    !/[\s\p{Cc}]/u.test(emoji) &&
    [...emoji].some((c) => (c.codePointAt(0) ?? 0) > 0x7f)
  );
}

function checkTarget(target: string): string {
  if (!isMessageId(target)) {
    throw new EnvelopeError("a target is a message id: <author key>.<jti>");
  }
  return target;
}

function convSub(conv: Conv): string {
  if (conv.kind === "post") return validateChannel(conv.channel);
  if (!isPublicKey(conv.peer, "U")) {
    throw new EnvelopeError("a DM peer is a user public key (56 characters starting with 'U')");
  }
  return conv.peer;
}

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

/**
 * Signs a post to `channel` (with `re`: a reply to that message id); publish it on
 * postSubject(channel, signer.publicKey).
 */
export async function encodePost(
  signer: Signer,
  p: { name: string; channel: string; msg: string; re?: string; now?: number },
): Promise<string> {
  const nats = { type: POST_TYPE, msg: checkMsg(p.msg), ...reply(p.re) };
  return encodeEnvelope(signer, p.name, validateChannel(p.channel), nats, p.now ?? Date.now());
}

/**
 * Signs a DM to the user key `to` (with `re`: a reply to that message id); publish it on
 * dmSubject(to, signer.publicKey).
 */
export async function encodeDm(
  signer: Signer,
  p: { name: string; to: string; msg: string; re?: string; now?: number },
): Promise<string> {
  if (!isPublicKey(p.to, "U")) {
    throw new EnvelopeError("a DM goes to a user public key (56 characters starting with 'U')");
  }
  const nats = { type: DM_TYPE, msg: checkMsg(p.msg), ...reply(p.re) };
  return encodeEnvelope(signer, p.name, p.to, nats, p.now ?? Date.now());
}

function reply(re: string | undefined): { re?: string } {
  return re === undefined ? {} : { re: checkTarget(re) };
}

/** Signs an edit of the sender's message `target` in `conv`; send it on eventSubject(conv, me). */
export async function encodeEdit(
  signer: Signer,
  p: { name: string; conv: Conv; target: string; msg: string; now?: number },
): Promise<string> {
  const nats = { type: EDIT_TYPE, target: checkTarget(p.target), msg: checkMsg(p.msg) };
  return encodeEnvelope(signer, p.name, convSub(p.conv), nats, p.now ?? Date.now());
}

/** Signs a reaction (`op` add or remove `emoji`) to `target` in `conv`. */
export async function encodeReaction(
  signer: Signer,
  p: {
    name: string;
    conv: Conv;
    target: string;
    emoji: string;
    op: "add" | "remove";
    now?: number;
  },
): Promise<string> {
  if (!isValidEmoji(p.emoji)) {
    throw new EnvelopeError(
      `a reaction is one emoji (at most ${EMOJI_MAX_LENGTH} characters, no spaces), not ${JSON.stringify(String(p.emoji).slice(0, 20))}`,
    );
  }
  if (p.op !== "add" && p.op !== "remove") {
    throw new EnvelopeError('a reaction is added ("add") or removed ("remove")');
  }
  const nats = { type: REACT_TYPE, target: checkTarget(p.target), emoji: p.emoji, op: p.op };
  return encodeEnvelope(signer, p.name, convSub(p.conv), nats, p.now ?? Date.now());
}

/** Signs the deletion of the sender's message `target` in `conv`. */
export async function encodeDelete(
  signer: Signer,
  p: { name: string; conv: Conv; target: string; now?: number },
): Promise<string> {
  const nats = { type: DELETE_TYPE, target: checkTarget(p.target) };
  return encodeEnvelope(signer, p.name, convSub(p.conv), nats, p.now ?? Date.now());
}

/** Signs an admin's removal of `target` from `store`; send it on MODERATION_SUBJECT. */
export async function encodeModeration(
  signer: Signer,
  p: { name: string; target: string; store: "posts" | "dms"; now?: number },
): Promise<string> {
  if (p.store !== "posts" && p.store !== "dms") {
    throw new EnvelopeError('a removal names its store: "posts" or "dms"');
  }
  const nats = {
    type: MODERATE_TYPE,
    action: "remove",
    target: checkTarget(p.target),
    store: p.store,
  };
  return encodeEnvelope(signer, p.name, MODERATION_SUB, nats, p.now ?? Date.now());
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
        return { ...base, type, channel: sub, msg: this.#msg(nats), ...this.#re(nats) };
      case DM_TYPE:
        if (!isPublicKey(sub, "U")) throw new Drop("wrong-type", "sub is not a user public key");
        return { ...base, type, to: sub, msg: this.#msg(nats), ...this.#re(nats) };
      case EDIT_TYPE:
        return { ...base, ...this.#event(sub, nats), type, msg: this.#msg(nats) };
      case REACT_TYPE: {
        const emoji = need(nats, "emoji", "string", "nats.");
        if (!isValidEmoji(emoji)) throw new Drop("wrong-type", "nats.emoji is not one emoji");
        const op = need(nats, "op", "string", "nats.");
        if (op !== "add" && op !== "remove") {
          throw new Drop("wrong-type", 'nats.op must be "add" or "remove"');
        }
        return { ...base, ...this.#event(sub, nats), type, emoji, op };
      }
      case DELETE_TYPE:
        return { ...base, ...this.#event(sub, nats), type };
      case MODERATE_TYPE: {
        if (sub !== MODERATION_SUB) throw new Drop("wrong-type", `sub must be "${MODERATION_SUB}"`);
        if (nats.action !== "remove") throw new Drop("wrong-type", 'nats.action must be "remove"');
        const store = need(nats, "store", "string", "nats.");
        if (store !== "posts" && store !== "dms") {
          throw new Drop("wrong-type", 'nats.store must be "posts" or "dms"');
        }
        return { ...base, type, action: "remove", target: this.#target(nats, "target"), store };
      }
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

  #target(nats: Fields, key: string): string {
    const target = need(nats, key, "string", "nats.") as string;
    if (!isMessageId(target)) throw new Drop("wrong-type", `nats.${key} is not a message id`);
    return target;
  }

  #re(nats: Fields): { re?: string } {
    return nats.re === undefined ? {} : { re: this.#target(nats, "re") };
  }

  #event(sub: string, nats: Fields): { conv: Conv; target: string } {
    let conv: Conv;
    if (isValidChannel(sub)) conv = { kind: "post", channel: sub };
    else if (isPublicKey(sub, "U")) conv = { kind: "dm", peer: sub };
    else throw new Drop("wrong-type", "sub is neither a channel name nor a user public key");
    return { conv, target: this.#target(nats, "target") };
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
    if (e.type === MODERATE_TYPE) {
      // the server lets only the admin role publish there; the signature says which admin
      if (subject !== MODERATION_SUBJECT) throw this.#wrongSubject(e, subject);
      return;
    }
    if (isEventEnvelope(e)) {
      const ev = parseEventSubject(subject);
      const same =
        ev !== undefined &&
        (ev.conv.kind === "post"
          ? e.conv.kind === "post" && e.conv.channel === ev.conv.channel
          : e.conv.kind === "dm" && e.conv.peer === ev.conv.peer);
      if (!same) throw this.#wrongSubject(e, subject);
      if (ev.sender !== e.iss) {
        throw new Drop("signer-mismatch", "the signer is not the key the subject names");
      }
      return;
    }
    const s = parseChatSubject(subject);
    const kind = e.type === POST_TYPE ? "post" : e.type === DM_TYPE ? "dm" : "presence";
    const where =
      s === undefined ||
      s.kind !== kind ||
      (s.kind === "post" && e.type === POST_TYPE && s.channel !== e.channel) ||
      (s.kind === "dm" && e.type === DM_TYPE && s.recipient !== e.to);
    if (where) throw this.#wrongSubject(e, subject);
    if (s.sender !== e.iss) {
      throw new Drop("signer-mismatch", "the signer is not the key the subject names");
    }
  }

  #wrongSubject(e: Envelope, subject: string): Drop {
    return new Drop(
      "wrong-subject",
      `a ${e.type} arrived on ${subject.slice(0, 120)}, which is not its subject`,
    );
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
