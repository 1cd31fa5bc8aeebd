// Keeps the user's creds (issued JWT + own seed) in this browser's localStorage, per CHAT account
// so that creds of another deployment are never tried here, and a notice for the Welcome page
// (e.g. "Your access has been revoked") that survives a reload, and the name this browser logged
// out of (no key, no creds: only so that Welcome can say how to get back in as that name).
import { parseCreds } from "@natschat/protocol";

/** A stored chat identity. The creds hold the seed: never log them. */
export interface StoredIdentity {
  name: string;
  key: string;
  creds: string;
}

const identityKey = (chatAccount: string) => `natschat:identity:${chatAccount}`;
const NOTICE_KEY = "natschat:notice";
const formerKey = (chatAccount: string) => `natschat:former-name:${chatAccount}`;

/**
 * The stored identity with its JWT's expiry (an expired one too: its key can renew it), or
 * undefined when there is none or it is unusable (then it is removed).
 */
export async function loadIdentity(
  chatAccount: string,
): Promise<{ identity?: StoredIdentity; jwt?: string; expires?: Date; problem?: string }> {
  const raw = localStorage.getItem(identityKey(chatAccount));
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as Partial<StoredIdentity>;
    if (typeof v.name !== "string" || typeof v.creds !== "string") throw new Error("bad shape");
    const creds = await parseCreds(v.creds, { now: 0 }); // now 0: expired is still readable
    return {
      identity: { name: v.name, key: creds.publicKey, creds: v.creds },
      jwt: creds.jwt,
      ...(creds.expires ? { expires: creds.expires } : {}),
    };
  } catch {
    localStorage.removeItem(identityKey(chatAccount));
    return {
      problem: "The saved login in this browser was unreadable, so it was removed. Register again.",
    };
  }
}

export function saveIdentity(chatAccount: string, identity: StoredIdentity): void {
  localStorage.setItem(identityKey(chatAccount), JSON.stringify(identity));
}

export function forgetIdentity(chatAccount: string): void {
  localStorage.removeItem(identityKey(chatAccount));
}

/** A message for the Welcome page, kept across a reload until it is dismissed. */
export function setNotice(text: string | undefined): void {
  if (text === undefined) localStorage.removeItem(NOTICE_KEY);
  else localStorage.setItem(NOTICE_KEY, text);
}

export function getNotice(): string | undefined {
  return localStorage.getItem(NOTICE_KEY) ?? undefined;
}

/** Remembers the name this browser logged out of (or forgets it with undefined). */
export function setFormerName(chatAccount: string, name: string | undefined): void {
  if (name === undefined) localStorage.removeItem(formerKey(chatAccount));
  else localStorage.setItem(formerKey(chatAccount), name);
}

/** The name this browser logged out of, if any. */
export function getFormerName(chatAccount: string): string | undefined {
  return localStorage.getItem(formerKey(chatAccount)) ?? undefined;
}
