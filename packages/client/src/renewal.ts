// When a saved user JWT is renewed. Pure, with no NATS import, so that a UI can decide at start
// (`@natschat/client/renewal`) without loading the NATS client.

/** How long before its expiry a saved user JWT is renewed (a day). */
export const RENEW_BEFORE_MS = 24 * 3600 * 1000;

/** Whether a JWT expiring at `expires` is due for renewal: expired or within RENEW_BEFORE_MS. */
export function renewalDue(expires: Date | undefined, now = Date.now()): boolean {
  return expires !== undefined && expires.getTime() - now < RENEW_BEFORE_MS;
}
