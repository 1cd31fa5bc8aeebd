// The registry's wire format, one encoder and one parser per message, used by the access service,
// the CLI (`natschat users`, `natschat revoke`) and the admin page:
//   - a page query on chat.req.provisioned: `{"after"?: "NAME", "limit"?: N}` (an empty body asks
//     for the first page with the default limit; the limit is capped at REGISTRY_PAGE_MAX);
//   - a page: `{"users":[RegistryUser…], "total": N, "limit": N, "revision": R, "next"?: "NAME"}`,
//     users sorted by name, `next` the cursor of the following page;
//   - a change on chat.req.provisioned.updates: `{"op": "registered"|"renewed"|"revoked",
//     "user": RegistryUser}` or `{"op": "released", "name", "key", "reason", "revision"}`;
//   - a revoke result: `{"revoked": {"name","key","released"}, "servers": [{server, ok, message?}]}`.
// No reply grows with the registry: a page holds at most REGISTRY_PAGE_MAX users of at most
// about 300 bytes each.
import { AccessError, WireFormatError } from "./errors.ts";
import { isValidName } from "./names.ts";
import { isPublicKey } from "./nkey.ts";

/** Users per page when the query names no limit. */
export const REGISTRY_PAGE_DEFAULT = 500;
/** Most users per page, whatever the query asks. */
export const REGISTRY_PAGE_MAX = 1000;

/** One registered name as the admin sees it. Times are ISO 8601. */
export interface RegistryUser {
  name: string;
  key: string;
  issued: string;
  expires?: string;
  revoked?: true;
  revokedAt?: string;
  lastSeen?: string;
  /** KV revision of this state: of two states of one name, the higher revision is newer. */
  revision: number;
}

/** A parsed page query, with the limit already defaulted and capped. */
export interface RegistryQuery {
  /** Names after this one (exclusive); "" for the first page. */
  after: string;
  limit: number;
}

/** One page of the registry. */
export interface RegistryPage {
  users: RegistryUser[];
  /** Names in the registry (revoked ones included). */
  total: number;
  /** The limit the service applied. */
  limit: number;
  /** The registry revision the page was read at. */
  revision: number;
  /** Cursor of the next page (the last name of this one), absent on the last page. */
  next?: string;
}

/** Why a name left the registry. */
export type ReleaseReason = "revoked" | "unused" | "expired";

/** A change broadcast on chat.req.provisioned.updates. */
export type RegistryChange =
  | { op: "registered" | "renewed" | "revoked"; user: RegistryUser }
  | { op: "released"; name: string; key: string; reason: ReleaseReason; revision: number };

/** One server's answer to the revocation push. */
export interface RevokeServerResult {
  server: string;
  ok: boolean;
  message?: string;
}

/** The reply to chat.req.revoke: the revoked user and each server's answer, never the registry. */
export interface RevokeResult {
  revoked: { name: string; key: string; released: boolean };
  servers: RevokeServerResult[];
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const QUERY_HINT = 'send an empty request, or {"after":"NAME","limit":N}';

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new WireFormatError(`${what} is not a JSON object`);
  }
  return v as Record<string, unknown>;
}

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new WireFormatError(`${what} is not valid JSON`, { cause: err });
  }
}

/** Encodes a page query. */
export function encodeRegistryQuery(q: { after?: string; limit?: number } = {}): string {
  return JSON.stringify({
    ...(q.after ? { after: q.after } : {}),
    ...(q.limit ? { limit: q.limit } : {}),
  });
}

/**
 * Parses a page query (service side); an empty body is the first page. Throws AccessError
 * BAD_REQUEST saying what is wrong. The older `{"detail":true,…}` form is accepted.
 */
export function parseRegistryQuery(text: string): RegistryQuery {
  const t = text.trim();
  if (t === "") return { after: "", limit: REGISTRY_PAGE_DEFAULT };
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch (err) {
    throw new AccessError("BAD_REQUEST", `registry query is not JSON: ${QUERY_HINT}`, "malformed", {
      cause: err,
    });
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new AccessError("BAD_REQUEST", `registry query is not an object: ${QUERY_HINT}`);
  }
  const o = v as Record<string, unknown>;
  if (o.after !== undefined && (typeof o.after !== "string" || o.after.length > 64)) {
    throw new AccessError("BAD_REQUEST", `"after" must be a name: ${QUERY_HINT}`);
  }
  if (
    o.limit !== undefined &&
    (typeof o.limit !== "number" || !Number.isInteger(o.limit) || o.limit < 1)
  ) {
    throw new AccessError("BAD_REQUEST", `"limit" must be a whole number from 1: ${QUERY_HINT}`);
  }
  return {
    after: (o.after as string | undefined) ?? "",
    limit: Math.min((o.limit as number | undefined) ?? REGISTRY_PAGE_DEFAULT, REGISTRY_PAGE_MAX),
  };
}

/** Parses one user of a page or change; throws WireFormatError. */
export function parseRegistryUser(v: unknown): RegistryUser {
  const o = object(v, "registry user");
  if (typeof o.name !== "string" || !isValidName(o.name)) {
    throw new WireFormatError("registry user has no valid name");
  }
  if (typeof o.key !== "string" || !isPublicKey(o.key, "U")) {
    throw new WireFormatError(`registry user "${o.name}" has no user key`);
  }
  if (typeof o.issued !== "string" || !ISO.test(o.issued)) {
    throw new WireFormatError(`registry user "${o.name}" has no issue time`);
  }
  if (typeof o.revision !== "number" || !Number.isInteger(o.revision)) {
    throw new WireFormatError(`registry user "${o.name}" has no revision`);
  }
  const user: RegistryUser = { name: o.name, key: o.key, issued: o.issued, revision: o.revision };
  for (const f of ["expires", "revokedAt", "lastSeen"] as const) {
    const t = o[f];
    if (t === undefined) continue;
    if (typeof t !== "string" || !ISO.test(t)) {
      throw new WireFormatError(`registry user "${o.name}": ${f} is not an ISO time`);
    }
    user[f] = t;
  }
  if (o.revoked === true) user.revoked = true;
  return user;
}

/** Encodes a page. */
export function encodeRegistryPage(page: RegistryPage): string {
  return JSON.stringify(page);
}

/** Parses a page (client side); throws WireFormatError. */
export function parseRegistryPage(text: string): RegistryPage {
  const o = object(json(text, "registry page"), "registry page");
  if (!Array.isArray(o.users)) throw new WireFormatError("registry page has no users array");
  for (const f of ["total", "limit", "revision"] as const) {
    if (typeof o[f] !== "number") throw new WireFormatError(`registry page has no ${f}`);
  }
  if (o.next !== undefined && typeof o.next !== "string") {
    throw new WireFormatError("registry page: next is not a name");
  }
  return {
    users: o.users.map(parseRegistryUser),
    total: o.total as number,
    limit: o.limit as number,
    revision: o.revision as number,
    ...(typeof o.next === "string" ? { next: o.next } : {}),
  };
}

/** Encodes a change broadcast. */
export function encodeRegistryChange(change: RegistryChange): string {
  return JSON.stringify(change);
}

const REASONS: readonly string[] = ["revoked", "unused", "expired"];

/** Parses a change broadcast; throws WireFormatError. */
export function parseRegistryChange(text: string): RegistryChange {
  const o = object(json(text, "registry change"), "registry change");
  if (o.op === "registered" || o.op === "renewed" || o.op === "revoked") {
    return { op: o.op, user: parseRegistryUser(o.user) };
  }
  if (o.op === "released") {
    if (typeof o.name !== "string" || !isValidName(o.name)) {
      throw new WireFormatError("registry release has no valid name");
    }
    if (typeof o.key !== "string" || !isPublicKey(o.key, "U")) {
      throw new WireFormatError("registry release has no user key");
    }
    if (typeof o.reason !== "string" || !REASONS.includes(o.reason)) {
      throw new WireFormatError("registry release has no known reason");
    }
    if (typeof o.revision !== "number") throw new WireFormatError("registry release: no revision");
    return {
      op: "released",
      name: o.name,
      key: o.key,
      reason: o.reason as ReleaseReason,
      revision: o.revision,
    };
  }
  throw new WireFormatError(`registry change has an unknown op ${JSON.stringify(o.op)}`);
}

/** Encodes a revoke result. */
export function encodeRevokeResult(r: RevokeResult): string {
  return JSON.stringify(r);
}

/** Parses a revoke result; throws WireFormatError. */
export function parseRevokeResult(text: string): RevokeResult {
  const o = object(json(text, "revoke result"), "revoke result");
  const r = object(o.revoked, "revoke result's revoked user");
  if (typeof r.name !== "string" || typeof r.key !== "string" || typeof r.released !== "boolean") {
    throw new WireFormatError("revoke result: revoked needs name, key and released");
  }
  if (!Array.isArray(o.servers)) throw new WireFormatError("revoke result has no servers array");
  const servers = o.servers.map((s): RevokeServerResult => {
    const v = object(s, "revoke server result");
    if (typeof v.server !== "string" || typeof v.ok !== "boolean") {
      throw new WireFormatError("revoke server result needs server and ok");
    }
    return {
      server: v.server,
      ok: v.ok,
      ...(typeof v.message === "string" ? { message: v.message } : {}),
    };
  });
  return { revoked: { name: r.name, key: r.key, released: r.released }, servers };
}

/**
 * Applies a change to a map of users by name, keeping the newer state of a name (by revision).
 * Shared by the CLI's and the admin page's live views.
 */
export function applyRegistryChange(
  users: Map<string, RegistryUser>,
  change: RegistryChange,
): void {
  if (change.op === "released") {
    const have = users.get(change.name);
    if (have && have.revision <= change.revision) users.delete(change.name);
    return;
  }
  const have = users.get(change.user.name);
  if (!have || have.revision <= change.user.revision) users.set(change.user.name, change.user);
}
