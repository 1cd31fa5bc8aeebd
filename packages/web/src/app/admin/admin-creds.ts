// The admin page's creds: what a loaded creds file is (the admin role, a chat user, another
// role or another deployment), judged from its user JWT before anything connects, and where the
// page keeps them across a reload: sessionStorage, per CHAT account, so they survive a reload of
// the tab but not its closing (the admin's creds can revoke anyone: less exposure than the chat
// page's localStorage); "Log out" removes them at once.
import {
  inboxPrefixFor,
  PROVISIONED_SUBJECT,
  parseCreds,
  REVOKE_SUBJECT,
} from "@natschat/protocol";

/** Admin creds that were checked: who they are, for the header. */
export interface AdminIdentity {
  /** The role user's name in its JWT ("admin"). */
  name: string;
  /** The account that issued it, as the header shows it. */
  account: "ADMIN";
}

/** A creds file that is not the admin role's. */
export class AdminCredsError extends Error {
  override name = "AdminCredsError";
  readonly code = "NOT_ADMIN_CREDS";
}

const WHERE =
  "Load creds/admin.creds from the data directory of `natschat up` (the --dir it ran with; .natschat in its working directory when none was given).";

/** What the page knows of the deployment: the two accounts whose users it can tell apart. */
export interface AccountKeys {
  chatAccount: string;
  adminAccount?: string;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];
}

/**
 * Checks that `credsText` is the admin role of this deployment: a user of the ADMIN account
 * whose permissions let it list and revoke users on its own inbox. Decided from the JWT, never
 * from the name in it (a chat user may have registered any name). Throws AdminCredsError.
 */
export async function checkAdminCreds(
  credsText: string,
  accounts: AccountKeys,
): Promise<AdminIdentity> {
  const creds = await parseCreds(credsText).catch((err: unknown) => {
    throw new AdminCredsError(
      `This is not a creds file: ${err instanceof Error ? err.message : String(err)}. ${WHERE}`,
    );
  });
  const nats = creds.claims.nats;
  const issuerAccount =
    typeof nats.issuer_account === "string" ? nats.issuer_account : creds.claims.iss;
  const name = creds.claims.name ?? creds.publicKey;
  if (issuerAccount === accounts.chatAccount) {
    throw new AdminCredsError(
      `This is not an admin creds file: it is the chat user "${name}". ${WHERE}`,
    );
  }
  if (accounts.adminAccount !== undefined && issuerAccount !== accounts.adminAccount) {
    throw new AdminCredsError(
      `This is not an admin creds file of this deployment: its account is not this deployment's ADMIN account (creds of another data directory?). ${WHERE}`,
    );
  }
  const pub = (nats.pub ?? {}) as { allow?: unknown };
  const sub = (nats.sub ?? {}) as { allow?: unknown };
  const mayPub = stringList(pub.allow);
  const maySub = stringList(sub.allow);
  const inbox = `${inboxPrefixFor("admin")}.>`;
  if (
    !mayPub.includes(PROVISIONED_SUBJECT) ||
    !mayPub.includes(REVOKE_SUBJECT) ||
    !maySub.includes(inbox)
  ) {
    throw new AdminCredsError(
      `This is not an admin creds file: "${name}" is another role, which may not list or revoke users. ${WHERE}`,
    );
  }
  return { name, account: "ADMIN" };
}

const storageKey = (chatAccount: string) => `natschat:admin:${chatAccount}`;

/** The admin creds this browser keeps for this deployment, if any. Secret: never log them. */
export function loadAdminCreds(chatAccount: string): string | undefined {
  return sessionStorage.getItem(storageKey(chatAccount)) ?? undefined;
}

export function saveAdminCreds(chatAccount: string, credsText: string): void {
  sessionStorage.setItem(storageKey(chatAccount), credsText);
}

export function forgetAdminCreds(chatAccount: string): void {
  sessionStorage.removeItem(storageKey(chatAccount));
}
