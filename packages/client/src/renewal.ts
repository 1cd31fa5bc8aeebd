// When a saved user JWT is renewed. Pure, with no NATS import, so that a UI can decide at start
// (`@natschat/client/renewal`) without loading the NATS client.

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
