// The directory's wire format (a service of the access service in ADMIN, imported by CHAT with
// `share: true`):
//   - chat.svc.directory.lookup: `{"keys":["U…",…]}` (at most DIRECTORY_LOOKUP_MAX_KEYS) →
//     `{"users":{"U…":{"name":"alice","jwt":"<issued user JWT>","revoked"?:true}}}`; unknown
//     keys are absent, and so are bootstrap and role users (they are not in the registry);
//   - chat.svc.directory.online: `{"after"?:"U…","limit"?:N}` →
//     `{"online":[["U…","alice"],…],"rev":N,"next"?:"U…"}`: the online set (key and issued name),
//     keys sorted, at most DIRECTORY_ONLINE_MAX per page, as the answering replica's view holds
//     it at revision `rev` (the online bucket's stream sequence; see presence-wire.ts).
// Errors are the access service's (status header + Natschat-Error-Code, `-ERR '…'` body).
import { AccessError, WireFormatError } from "./errors.ts";
import { isValidName } from "./names.ts";
import { isPublicKey } from "./nkey.ts";

/** Most keys in one lookup. */
export const DIRECTORY_LOOKUP_MAX_KEYS = 100;
/**
 * Keys per online page by default, and at most: an entry is ~70 bytes, so a page stays near
 * 350 kB, well under the server's 1 MiB max_payload, and 10,000 users take two round trips.
 */
export const DIRECTORY_ONLINE_DEFAULT = 5000;
export const DIRECTORY_ONLINE_MAX = 5000;

/** What the directory knows of one key. */
export interface DirectoryEntry {
  name: string;
  /** The user JWT the access service issued for this key (absent for records older than it). */
  jwt?: string;
  revoked?: true;
}

export interface LookupReply {
  users: Record<string, DirectoryEntry>;
}

export interface OnlineQuery {
  after: string;
  limit: number;
}

export interface OnlineReply {
  /** [key, issued name] of each key online, sorted by key. */
  online: [string, string][];
  /** The revision of the online set this page was read at. */
  rev: number;
  next?: string;
}

function bad(message: string, cause?: unknown): AccessError {
  return new AccessError("BAD_REQUEST", message, "malformed", cause ? { cause } : undefined);
}

function parseObject(text: string, what: string, hint: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw bad(`${what} is not JSON: ${hint}`, err);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw bad(`${what} is not an object: ${hint}`);
  }
  return v as Record<string, unknown>;
}

/** Encodes a lookup request. */
export function encodeLookupRequest(keys: readonly string[]): string {
  return JSON.stringify({ keys });
}

/** Parses a lookup request (service side); throws AccessError BAD_REQUEST. */
export function parseLookupRequest(text: string): string[] {
  const hint = `send {"keys":["U…"]} with 1 to ${DIRECTORY_LOOKUP_MAX_KEYS} user keys`;
  const o = parseObject(text, "directory lookup", hint);
  if (!Array.isArray(o.keys) || o.keys.length === 0) throw bad(`"keys" is missing: ${hint}`);
  if (o.keys.length > DIRECTORY_LOOKUP_MAX_KEYS) {
    throw bad(`${o.keys.length} keys asked: ${hint}`);
  }
  for (const k of o.keys) {
    if (typeof k !== "string" || !isPublicKey(k, "U"))
      throw bad(`a key is not a user key: ${hint}`);
  }
  return [...new Set(o.keys as string[])];
}

/** Encodes a lookup reply. */
export function encodeLookupReply(reply: LookupReply): string {
  return JSON.stringify(reply);
}

/** Parses a lookup reply (client side); throws WireFormatError. Entries are checked for shape. */
export function parseLookupReply(text: string): LookupReply {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new WireFormatError("directory lookup reply is not JSON", { cause: err });
  }
  const users = (v as { users?: unknown } | null)?.users;
  if (typeof users !== "object" || users === null || Array.isArray(users)) {
    throw new WireFormatError("directory lookup reply has no users object");
  }
  const out: Record<string, DirectoryEntry> = {};
  for (const [key, e] of Object.entries(users as Record<string, unknown>)) {
    const o = e as Record<string, unknown> | null;
    if (!isPublicKey(key, "U") || typeof o !== "object" || o === null) {
      throw new WireFormatError("directory lookup reply has a bad entry");
    }
    if (typeof o.name !== "string" || !isValidName(o.name)) {
      throw new WireFormatError(`directory entry of ${key.slice(0, 8)}… has no valid name`);
    }
    if (o.jwt !== undefined && typeof o.jwt !== "string") {
      throw new WireFormatError(`directory entry of ${key.slice(0, 8)}…: jwt is not a string`);
    }
    out[key] = {
      name: o.name,
      ...(typeof o.jwt === "string" ? { jwt: o.jwt } : {}),
      ...(o.revoked === true ? { revoked: true as const } : {}),
    };
  }
  return { users: out };
}

/** Encodes an online query. */
export function encodeOnlineQuery(q: { after?: string; limit?: number } = {}): string {
  return JSON.stringify({
    ...(q.after ? { after: q.after } : {}),
    ...(q.limit ? { limit: q.limit } : {}),
  });
}

/** Parses an online query (service side); an empty body is the first page. */
export function parseOnlineQuery(text: string): OnlineQuery {
  const t = text.trim();
  if (t === "") return { after: "", limit: DIRECTORY_ONLINE_DEFAULT };
  const hint = 'send {"after":"U…","limit":N} or an empty body';
  const o = parseObject(t, "online query", hint);
  if (o.after !== undefined && (typeof o.after !== "string" || o.after.length > 56)) {
    throw bad(`"after" must be a user key: ${hint}`);
  }
  if (
    o.limit !== undefined &&
    (typeof o.limit !== "number" || !Number.isInteger(o.limit) || o.limit < 1)
  ) {
    throw bad(`"limit" must be a whole number from 1: ${hint}`);
  }
  return {
    after: (o.after as string | undefined) ?? "",
    limit: Math.min(
      (o.limit as number | undefined) ?? DIRECTORY_ONLINE_DEFAULT,
      DIRECTORY_ONLINE_MAX,
    ),
  };
}

/** Encodes an online page. */
export function encodeOnlineReply(reply: OnlineReply): string {
  return JSON.stringify(reply);
}

/** Parses an online page; throws WireFormatError. */
export function parseOnlineReply(text: string): OnlineReply {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new WireFormatError("directory online reply is not JSON", { cause: err });
  }
  const o = v as { online?: unknown; rev?: unknown; next?: unknown } | null;
  const entry = (e: unknown) =>
    Array.isArray(e) &&
    e.length === 2 &&
    isPublicKey(e[0], "U") &&
    typeof e[1] === "string" &&
    isValidName(e[1]);
  if (!o || !Array.isArray(o.online) || !o.online.every(entry)) {
    throw new WireFormatError("directory online reply has no list of [key, name]");
  }
  if (typeof o.rev !== "number" || !Number.isSafeInteger(o.rev) || o.rev < 0) {
    throw new WireFormatError("directory online reply has no revision");
  }
  if (o.next !== undefined && typeof o.next !== "string") {
    throw new WireFormatError("directory online reply: next is not a key");
  }
  return {
    online: o.online as [string, string][],
    rev: o.rev,
    ...(typeof o.next === "string" ? { next: o.next } : {}),
  };
}
