// Builds and loads the trust tree (what `nsc` did in the talk): operator, accounts SYS, ADMIN and
// CHAT with signing keys, exports/imports, and the role users with least-privilege permissions.
import { rm } from "node:fs/promises";
import {
  type Account,
  type ClaimsData,
  decode,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  type OperatorLimits,
  type Permissions,
} from "@nats-io/jwt";
import { createAccount, createOperator, createUser, fromSeed, type KeyPair } from "@nats-io/nkeys";
import {
  ACCESS_SUBJECT,
  DIRECTORY_SUBJECTS,
  HISTORY_SUBJECTS,
  inboxPrefixFor,
  ONLINE_WILDCARD,
  PRESENCE_FEED,
  parseCreds,
} from "@natschat/protocol";
import { TrustError } from "./errors.ts";
import { jetStreamLimits } from "./jetstream-limits.ts";
import {
  accessPermissions,
  adminPermissions,
  bootstrapPermissions,
  historyApiPermissions,
  historyPermissions,
  pushPermissions,
} from "./permissions.ts";
import {
  ensurePrivateDir,
  exists,
  layout,
  parseSeed,
  readOptional,
  writePublic,
  writeSecret,
} from "./store.ts";

export const ACCOUNT_NAMES = ["SYS", "ADMIN", "CHAT"] as const;
export type AccountName = (typeof ACCOUNT_NAMES)[number];
export const ROLES = [
  "sys",
  "push",
  "access",
  "admin",
  "bootstrap",
  "leaf",
  "leaf-admin",
  "history",
  "history-api",
] as const;
export type Role = (typeof ROLES)[number];

/** Which account each role user lives in, and its permissions (undefined = unrestricted). */
const ROLE_SPECS: Record<
  Role,
  { account: AccountName; permissions?: () => Permissions; about: string }
> = {
  sys: { account: "SYS", about: "operates the servers (unrestricted in SYS)" },
  push: { account: "SYS", permissions: pushPermissions, about: "looks up and pushes account JWTs" },
  access: { account: "ADMIN", permissions: accessPermissions, about: "the access service" },
  admin: { account: "ADMIN", permissions: adminPermissions, about: "lists and revokes users" },
  bootstrap: {
    account: "CHAT",
    permissions: bootstrapPermissions,
    about: "public: may only request access",
  },
  leaf: { account: "CHAT", about: "binds an edge server's CHAT leafnode remote" },
  "leaf-admin": {
    account: "ADMIN",
    about:
      "binds an edge server's ADMIN leafnode remote (CHAT's service imports apply at the edge)",
  },
  history: {
    account: "CHAT",
    permissions: historyPermissions,
    about: "the history writer: stores live posts and DMs, owns the history streams",
  },
  "history-api": {
    account: "ADMIN",
    permissions: historyApiPermissions,
    about: "the history readers: chat.svc.history.* endpoints",
  },
};

/** Public description of the tree, stored as trust.json. */
export interface TrustSummary {
  operator: { name: string; publicKey: string; signingKeys: string[] };
  accounts: Record<AccountName, { publicKey: string; signingKeys: string[] }>;
  roles: Record<
    Role,
    { account: AccountName; publicKey: string; creds: string; inboxPrefix: string }
  >;
}

/** What init did with one item. */
export interface InitReport {
  dir: string;
  created: string[];
  kept: string[];
  /** Re-derived because their claims differ from what this version writes (keys kept). */
  updated: string[];
  /** trust.json was there before: keys may be kept, never silently replaced. */
  treeExists?: boolean;
}

function accountLimits(name: AccountName): OperatorLimits {
  const base: OperatorLimits = {
    subs: -1,
    data: -1,
    payload: -1,
    imports: -1,
    exports: -1,
    wildcards: true,
    conn: -1,
    leaf: -1,
  };
  if (name === "SYS") return base;
  // JetStream: ADMIN holds the registry bucket, CHAT the history streams and the quota bucket.
  return { ...base, ...jetStreamLimits(name) };
}

function accountClaims(name: AccountName, keys: Record<string, KeyPair>): Partial<Account> {
  const pub = (n: string) => (keys[n] as KeyPair).getPublicKey();
  const claims: Partial<Account> = {
    limits: accountLimits(name),
    signing_keys: [pub(`${name}-signing`)],
  };
  if (name === "ADMIN") {
    // services of ADMIN that chat users reach; CHAT imports each with share: true, so the
    // responder learns the requester from the server (Nats-Request-Info), never from the request
    claims.exports = [
      { name: "chat-access", subject: ACCESS_SUBJECT, type: "service", response_type: "Singleton" },
      {
        name: "chat-history",
        subject: HISTORY_SUBJECTS,
        type: "service",
        response_type: "Singleton",
      },
      {
        name: "chat-directory",
        subject: DIRECTORY_SUBJECTS,
        type: "service",
        response_type: "Singleton",
      },
    ];
    // the presence feed: the online bucket's republished changes and the directory's ticks
    claims.exports.push({ name: "chat-presence", subject: PRESENCE_FEED, type: "stream" });
    claims.imports = [
      { name: "chat-online", subject: ONLINE_WILDCARD, account: pub("CHAT"), type: "stream" },
    ];
  }
  if (name === "CHAT") {
    claims.exports = [{ name: "chat-online", subject: ONLINE_WILDCARD, type: "stream" }];
    const imports: [string, string][] = [
      ["chat-access", ACCESS_SUBJECT],
      ["chat-history", HISTORY_SUBJECTS],
      ["chat-directory", DIRECTORY_SUBJECTS],
    ];
    claims.imports = [
      ...imports.map(([importName, subject]) => ({
        name: importName,
        subject,
        account: pub("ADMIN"),
        type: "service" as const,
        share: true,
      })),
      { name: "chat-presence", subject: PRESENCE_FEED, account: pub("ADMIN"), type: "stream" },
    ];
  }
  return claims;
}

async function loadOrCreateKey(
  dir: string,
  name: string,
  type: "O" | "A",
  report: InitReport,
): Promise<KeyPair> {
  const path = layout(dir).key(name);
  const text = await readOptional(path);
  if (text !== undefined) {
    report.kept.push(`key ${name}`);
    return fromSeed(new TextEncoder().encode(parseSeed(text, type, path)));
  }
  if (report.treeExists) {
    // A new key here would silently replace the operator or an account: every JWT and creds file
    // issued under the old one would stop working. Refuse, and say how to recover.
    throw new TrustError(
      "KEY_MISSING",
      `${path} is missing from an existing trust tree; restore it from a backup, or run \`natschat init --force\` to start over (every issued creds file stops working)`,
    );
  }
  const kp = type === "O" ? createOperator() : createAccount();
  await writeSecret(path, `${new TextDecoder().decode(kp.getSeed())}\n`);
  report.created.push(`key ${name}`);
  return kp;
}

/**
 * Builds the trust tree in dir. Idempotent: existing keys, JWTs and creds are kept (so revocations
 * in the CHAT JWT survive); only what is missing is created. force starts from nothing.
 */
export async function initTrust(opts: {
  dir: string;
  operatorName?: string;
  force?: boolean;
}): Promise<InitReport> {
  const { dir } = opts;
  const paths = layout(dir);
  const report: InitReport = { dir, created: [], kept: [], updated: [] };
  await ensurePrivateDir(dir);
  if (opts.force) {
    for (const sub of ["keys", "jwt", "creds", "server"])
      await rm(`${dir}/${sub}`, { recursive: true, force: true });
    await rm(paths.trust, { force: true });
  }
  report.treeExists = await exists(paths.trust);
  const keys: Record<string, KeyPair> = {};
  keys.operator = await loadOrCreateKey(dir, "operator", "O", report);
  keys["operator-signing"] = await loadOrCreateKey(dir, "operator-signing", "O", report);
  for (const acc of ACCOUNT_NAMES) {
    keys[acc] = await loadOrCreateKey(dir, acc, "A", report);
    keys[`${acc}-signing`] = await loadOrCreateKey(dir, `${acc}-signing`, "A", report);
  }
  const opSigning = keys["operator-signing"] as KeyPair;
  const existingOperator = await readOptional(paths.jwt("operator"));
  const operatorName =
    opts.operatorName ?? (existingOperator ? decode(existingOperator.trim()).name : "natschat");
  if (existingOperator === undefined) {
    const jwt = await encodeOperator(operatorName, keys.operator as KeyPair, {
      signing_keys: [opSigning.getPublicKey()],
      system_account: (keys.SYS as KeyPair).getPublicKey(),
    });
    await writePublic(paths.jwt("operator"), `${jwt}\n`);
    report.created.push("jwt operator");
  } else report.kept.push("jwt operator");

  const revocations = {} as Record<AccountName, Record<string, number>>;
  for (const acc of ACCOUNT_NAMES) {
    const path = paths.jwt(acc);
    const wanted = accountClaims(acc, keys);
    const existing = (await readOptional(path))?.trim();
    if (existing) {
      const current = decodeOrFail<Account>(existing, path);
      revocations[acc] = current.nats.revocations ?? {};
      if (sameClaims(current.nats, wanted, ACCOUNT_FIELDS)) {
        report.kept.push(`jwt ${acc}`);
        continue;
      }
      // an older version wrote it: re-derive, keeping the revocations (CHAT's are the record of
      // every revoked user; dropping one would let that key connect again)
      wanted.revocations = { ...revocations[acc] };
      if (acc === "CHAT" && issuedBeforeServerProof(current.nats)) {
        // Its user JWTs carry the protocol v2 permissions (post on any channel subject, $JS
        // reads): revoke every user JWT issued up to now, in one entry. Clients renew through the
        // bootstrap identity with the key they hold and keep their names; the roles of CHAT are
        // re-issued below, after this second.
        wanted.revocations[ALL_USERS] = Math.floor(Date.now() / 1000);
        report.updated.push("revoked every CHAT user JWT issued before this upgrade");
      }
      revocations[acc] = wanted.revocations;
    }
    const jwt = await encodeAccount(acc, keys[acc] as KeyPair, wanted, { signer: opSigning });
    await writePublic(path, `${jwt}\n`);
    (existing ? report.updated : report.created).push(`jwt ${acc}`);
  }
  // A JWT issued in the second of a revocation is revoked too (nats-server: iat <= time).
  const latest = Math.max(0, ...Object.values(revocations).flatMap((r) => Object.values(r)));
  const wait = (latest + 1) * 1000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));

  const roles = {} as TrustSummary["roles"];
  for (const role of ROLES) {
    const spec = ROLE_SPECS[role];
    const credsPath = paths.creds(role);
    const existing = await readOptional(credsPath);
    let publicKey: string;
    const perms = spec.permissions?.() ?? {};
    const issue = async (ukp: KeyPair) => {
      const jwt = await encodeUser(role, ukp, keys[spec.account] as KeyPair, perms, {
        signer: keys[`${spec.account}-signing`] as KeyPair,
      });
      await writeSecret(credsPath, new TextDecoder().decode(fmtCreds(jwt, ukp)));
    };
    if (existing !== undefined) {
      const creds = await parseRoleCreds(existing, credsPath);
      publicKey = creds.publicKey;
      const current = decodeOrFail<Record<string, unknown>>(creds.jwt, credsPath);
      const revoked = isRevoked(revocations[spec.account], publicKey, current.iat ?? 0);
      if (sameClaims(current.nats, perms, USER_FIELDS) && !revoked)
        report.kept.push(`creds ${role}`);
      else {
        // permissions changed in this version, or an upgrade revoked it: same key, new JWT
        await issue(fromSeed(new TextEncoder().encode(creds.seed)));
        report.updated.push(`creds ${role}`);
      }
    } else {
      const ukp = createUser();
      publicKey = ukp.getPublicKey();
      await issue(ukp);
      report.created.push(`creds ${role}`);
    }
    roles[role] = {
      account: spec.account,
      publicKey,
      creds: credsPath,
      inboxPrefix: inboxPrefixFor(role),
    };
  }

  const summary: TrustSummary = {
    operator: {
      name: operatorName,
      publicKey: (keys.operator as KeyPair).getPublicKey(),
      signingKeys: [opSigning.getPublicKey()],
    },
    accounts: Object.fromEntries(
      ACCOUNT_NAMES.map((a) => [
        a,
        {
          publicKey: (keys[a] as KeyPair).getPublicKey(),
          signingKeys: [(keys[`${a}-signing`] as KeyPair).getPublicKey()],
        },
      ]),
    ) as TrustSummary["accounts"],
    roles,
  };
  await writePublic(paths.trust, `${JSON.stringify(summary, null, 2)}\n`);
  return report;
}

/** An existing role creds file; a damaged file is named, never silently replaced. */
async function parseRoleCreds(text: string, path: string) {
  try {
    return await parseCreds(text);
  } catch (err) {
    throw new TrustError(
      "CREDS_CORRUPT",
      `${path}: ${(err as Error).message}; delete it to re-issue, or init --force`,
      { cause: err },
    );
  }
}

function decodeOrFail<T>(jwt: string, path: string): ClaimsData<T> {
  try {
    return decode<T>(jwt);
  } catch (err) {
    throw new TrustError(
      "JWT_CORRUPT",
      `${path} is not a valid JWT (${(err as Error).message}); restore it, or init --force`,
      { cause: err },
    );
  }
}

/** The revocation key that revokes every user of an account (nats-server's jwt.All). */
export const ALL_USERS = "*";

/**
 * Whether a CHAT account JWT is from before the server proved senders (protocol v2): it has no
 * import of the history service, whose stores replaced the streams chat users wrote themselves.
 */
function issuedBeforeServerProof(chat: Partial<Account>): boolean {
  return !(chat.imports ?? []).some((i) => i.subject === HISTORY_SUBJECTS);
}

/** nats-server's rule: a JWT issued at or before its key's (or every user's) revocation time. */
function isRevoked(revocations: Record<string, number> | undefined, key: string, iat: number) {
  if (!revocations) return false;
  const at = Math.max(revocations[key] ?? -1, revocations[ALL_USERS] ?? -1);
  return iat <= at;
}

/** The account claims this code writes, compared to decide whether a stored JWT is current. */
const ACCOUNT_FIELDS = ["limits", "signing_keys", "exports", "imports"];
/** The user claims a role's permissions set. */
const USER_FIELDS = ["pub", "sub", "resp"];

/** Key order does not matter; a field this code does not write is absent on both sides. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

function sameClaims(current: unknown, wanted: object, fields: string[]): boolean {
  const c = (current ?? {}) as Record<string, unknown>;
  const w = wanted as Record<string, unknown>;
  return fields.every((f) => canonical(c[f]) === canonical(w[f]));
}

/** Everything a server and the services need, loaded from an initialized data dir. */
export interface LoadedTrust {
  dir: string;
  summary: TrustSummary;
  operatorJwt: string;
  accountJwts: Record<AccountName, string>;
}

/** Loads the tree written by initTrust; fails with a clear message when it is missing or damaged. */
export async function loadTrust(dir: string): Promise<LoadedTrust> {
  const paths = layout(dir);
  const summaryText = await readOptional(paths.trust);
  if (summaryText === undefined) {
    throw new TrustError(
      "NOT_INITIALIZED",
      `${dir} holds no trust tree: run \`natschat init --dir ${dir}\` first`,
    );
  }
  let summary: TrustSummary;
  try {
    summary = JSON.parse(summaryText) as TrustSummary;
  } catch {
    throw new TrustError(
      "TRUST_CORRUPT",
      `${paths.trust} is not valid JSON; re-run \`natschat init --dir ${dir} --force\``,
    );
  }
  const readJwt = async (name: string): Promise<string> => {
    const path = paths.jwt(name);
    const text = (await readOptional(path))?.trim();
    if (!text)
      throw new TrustError(
        "JWT_MISSING",
        `${path} is missing; re-run \`natschat init --dir ${dir}\``,
      );
    let claims: ClaimsData<unknown>;
    try {
      claims = decode(text);
    } catch (err) {
      throw new TrustError("JWT_CORRUPT", `${path} is not a valid JWT (${(err as Error).message})`);
    }
    if (!claims.sub) throw new TrustError("JWT_CORRUPT", `${path} has no subject`);
    return text;
  };
  const operatorJwt = await readJwt("operator");
  const accountJwts = {} as Record<AccountName, string>;
  for (const acc of ACCOUNT_NAMES) accountJwts[acc] = await readJwt(acc);
  return { dir, summary, operatorJwt, accountJwts };
}

/** Reads a signing or identity seed from the store (for the access service and revocation). */
export async function loadSeed(dir: string, name: string, type: "O" | "A"): Promise<string> {
  const path = layout(dir).key(name);
  const text = await readOptional(path);
  if (text === undefined)
    throw new TrustError(
      "KEY_MISSING",
      `${path} is missing; re-run \`natschat init --dir ${dir}\``,
    );
  return parseSeed(text, type, path);
}

/**
 * The edge server's leafnode remotes: CHAT (the chat itself), ADMIN (so CHAT's service imports
 * are applied at the edge, where the user is connected: the services then see the user in
 * Nats-Request-Info, not the CHAT leaf binding) and SYS (account updates, revocations). The CHAT
 * remote does not carry the imported service subjects, so each request takes the ADMIN path once.
 */
export function edgeLeafCreds(t: LoadedTrust) {
  const paths = layout(t.dir);
  return {
    chat: {
      account: t.summary.accounts.CHAT.publicKey,
      credentials: paths.creds("leaf"),
      denyExports: [ACCESS_SUBJECT, HISTORY_SUBJECTS, DIRECTORY_SUBJECTS],
    },
    admin: { account: t.summary.accounts.ADMIN.publicKey, credentials: paths.creds("leaf-admin") },
    sys: { account: t.summary.accounts.SYS.publicKey, credentials: paths.creds("sys") },
  };
}

/** The resolver material for server configs: operator, system account, and the preload map. */
export function resolverTrust(t: LoadedTrust) {
  const preload: Record<string, string> = {};
  for (const acc of ACCOUNT_NAMES) preload[t.summary.accounts[acc].publicKey] = t.accountJwts[acc];
  return { operatorJwt: t.operatorJwt, systemAccount: t.summary.accounts.SYS.publicKey, preload };
}

export { ROLE_SPECS };
