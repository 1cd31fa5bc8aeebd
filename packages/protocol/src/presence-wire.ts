// The presence feed's wire format (issue 12). The online set lives in a KV bucket of ADMIN
// (ONLINE_BUCKET: key = user key, value = OnlineValue), written only by the directory (the access
// service). The bucket's stream republishes every stored write on
// `chat.KUBECON.presence.change.<key>` with JetStream's headers (Nats-Sequence: the write's
// stream sequence; a delete keeps the KV-Operation header), and CHAT imports that feed, so a
// client gets one message per change of the online set and none in steady state. The directory
// replicas add a tick every heartbeat period: `{"rev":N,"count":M}`, the revision their view of
// the set is at and its size, so a client notices changes it missed.
import { WireFormatError } from "./errors.ts";
import { isValidName } from "./names.ts";
import { isPublicKey } from "./nkey.ts";
import { PRESENCE_CHANGE_PREFIX } from "./subjects.ts";

/** The KV bucket (in ADMIN) that holds the online set. */
export const ONLINE_BUCKET = "natschat-online";
/** JetStream's republish header carrying the write's stream sequence. */
export const SEQUENCE_HEADER = "Nats-Sequence";
/** The KV header that marks a delete or a purge. */
export const KV_OPERATION_HEADER = "KV-Operation";

/** What the online bucket holds for a key: its issued name and since when it is online (ms). */
export interface OnlineValue {
  name: string;
  since: number;
}

/** Encodes an online bucket value. */
export function encodeOnlineValue(v: OnlineValue): string {
  return JSON.stringify({ name: v.name, since: v.since });
}

/** Parses an online bucket value; throws WireFormatError. */
export function parseOnlineValue(text: string): OnlineValue {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new WireFormatError("online value is not JSON", { cause: err });
  }
  const o = v as { name?: unknown; since?: unknown } | null;
  if (!o || typeof o.name !== "string" || !isValidName(o.name)) {
    throw new WireFormatError("online value has no valid name");
  }
  if (typeof o.since !== "number" || !Number.isFinite(o.since)) {
    throw new WireFormatError("online value has no time");
  }
  return { name: o.name, since: o.since };
}

/** One change of the online set: `name` set means online under that name, absent means gone. */
export interface PresenceChange {
  key: string;
  /** The write's stream sequence: changes are numbered 1, 2, 3… with no holes. */
  seq: number;
  name?: string;
  since?: number;
}

/** The feed subject of a key's changes. */
export function presenceChangeSubject(key: string): string {
  if (!isPublicKey(key, "U")) throw new WireFormatError("a presence change names a user key");
  return `${PRESENCE_CHANGE_PREFIX}.${key}`;
}

/**
 * Parses a republished online-bucket write (its subject, a header getter and its payload);
 * throws WireFormatError for anything else.
 */
export function parsePresenceChange(
  subject: string,
  header: (name: string) => string | undefined,
  data: Uint8Array,
): PresenceChange {
  const prefix = `${PRESENCE_CHANGE_PREFIX}.`;
  const key = subject.startsWith(prefix) ? subject.slice(prefix.length) : "";
  if (!isPublicKey(key, "U")) throw new WireFormatError("presence change on a bad subject");
  const seq = Number(header(SEQUENCE_HEADER));
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new WireFormatError("presence change without a stream sequence");
  }
  const op = header(KV_OPERATION_HEADER);
  if (op === "DEL" || op === "PURGE") return { key, seq };
  const value = parseOnlineValue(new TextDecoder().decode(data));
  return { key, seq, name: value.name, since: value.since };
}

/** A directory replica's tick: its view's revision and the number of keys online. */
export interface PresenceTick {
  rev: number;
  count: number;
}

/** Encodes a tick. */
export function encodePresenceTick(t: PresenceTick): string {
  return JSON.stringify({ rev: t.rev, count: t.count });
}

/** Parses a tick; throws WireFormatError. */
export function parsePresenceTick(text: string): PresenceTick {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new WireFormatError("presence tick is not JSON", { cause: err });
  }
  const o = v as { rev?: unknown; count?: unknown } | null;
  const whole = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  if (!o || !whole(o.rev) || !whole(o.count)) {
    throw new WireFormatError("presence tick needs whole numbers rev and count");
  }
  return { rev: o.rev as number, count: o.count as number };
}
