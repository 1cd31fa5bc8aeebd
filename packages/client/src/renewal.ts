// When a saved user JWT is renewed. Pure, with no NATS import, so that a UI can decide at start
// (`@natschat/client/renewal`) without loading the NATS client.
import {
  decodeJwtUnverified,
  POSTS_PREFIX,
  PRESENCE_FEED,
  userFeedWildcard,
} from "@natschat/protocol";

/** How long before its expiry a saved user JWT is renewed (a day). */
export const RENEW_BEFORE_MS = 24 * 3600 * 1000;

/** Whether a JWT expiring at `expires` is due for renewal: expired or within RENEW_BEFORE_MS. */
export function renewalDue(expires: Date | undefined, now = Date.now()): boolean {
  return expires !== undefined && expires.getTime() - now < RENEW_BEFORE_MS;
}

/**
 * When a session renews a user JWT issued at `iat` and expiring at `exp` (s): a quarter of its
 * lifetime before it expires, but no earlier than RENEW_BEFORE_MS before (a day, for the usual
 * 30 days). Undefined for a JWT that does not expire.
 */
export function renewAt(claims: { iat?: number; exp?: number }): number | undefined {
  if (!claims.exp) return undefined;
  const lifetimeMs = (claims.exp - (claims.iat ?? claims.exp)) * 1000;
  return claims.exp * 1000 - Math.min(RENEW_BEFORE_MS, lifetimeMs / 4);
}

/**
 * What a user JWT lets its key do in the chat: "v3" when it may post only under its own key
 * (protocol v3) and holds this version's permissions (its private feed, issue 13); "outdated"
 * when it is v3 but from before (the presence feed of issue 12, the events, typing and private
 * feed of issue 13: it could not follow them, so it is renewed before it connects); "v2" when it holds the older chat-user permissions (renewed too); and undefined
 * when it is no chat user at all: the bootstrap identity and the roles, whose JWTs a CHAT signing
 * key may also have signed, may not post.
 */
export function chatUserKind(jwt: string, key: string): "v3" | "outdated" | "v2" | undefined {
  let allow: unknown;
  let subAllow: unknown;
  try {
    const nats = decodeJwtUnverified(jwt).payload.nats as
      | { pub?: { allow?: unknown }; sub?: { allow?: unknown } }
      | undefined;
    allow = nats?.pub?.allow;
    subAllow = nats?.sub?.allow;
  } catch {
    return undefined;
  }
  if (!Array.isArray(allow)) return undefined;
  if (allow.includes(`${POSTS_PREFIX}.*.${key}`)) {
    const current = [PRESENCE_FEED, userFeedWildcard(key)];
    return Array.isArray(subAllow) && current.every((s) => subAllow.includes(s))
      ? "v3"
      : "outdated";
  }
  if (allow.some((a) => typeof a === "string" && a.startsWith(`${POSTS_PREFIX}.`))) return "v2";
  return undefined;
}

/**
 * Whether saved creds must be renewed (through the bootstrap identity) before connecting: due by
 * expiry (renewalDue), issued with the protocol v2 permissions, which the upgrade to v3 revoked
 * on every server (docs/operations.md, "Upgrading from protocol v2"), or v3 ones from before the
 * presence feed, whose session could not follow the online set.
 */
export function renewBeforeConnect(
  saved: { jwt: string; publicKey: string; expires?: Date },
  now = Date.now(),
): boolean {
  const kind = chatUserKind(saved.jwt, saved.publicKey);
  return renewalDue(saved.expires, now) || kind === "v2" || kind === "outdated";
}
