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
import { ACCESS_SUBJECT, inboxPrefixFor, ONLINE_SUBJECT, parseCreds } from "@natschat/protocol";
import { TrustError } from "./errors.ts";
import {
  accessPermissions,
  adminPermissions,
  bootstrapPermissions,
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
export const ROLES = ["sys", "push", "access", "admin", "bootstrap", "leaf"] as const;
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
  // JetStream: ADMIN holds the registry bucket, CHAT the history streams.
  return {
    ...base,
    mem_storage: name === "CHAT" ? 256 * 1024 * 1024 : 64 * 1024 * 1024,
    disk_storage: name === "CHAT" ? 1024 * 1024 * 1024 : 256 * 1024 * 1024,
    streams: name === "CHAT" ? 8 : 4,
    consumer: -1,
    max_ack_pending: -1,
    mem_max_stream_bytes: -1,
    disk_max_stream_bytes: -1,
    max_bytes_required: false,
  };
}

function accountClaims(name: AccountName, keys: Record<string, KeyPair>): Partial<Account> {
  const pub = (n: string) => (keys[n] as KeyPair).getPublicKey();
  const claims: Partial<Account> = {
    limits: accountLimits(name),
    signing_keys: [pub(`${name}-signing`)],
  };
  if (name === "ADMIN") {
    claims.exports = [
      { name: "chat-access", subject: ACCESS_SUBJECT, type: "service", response_type: "Singleton" },
      {
        name: "chat-directory",
        subject: "chat.svc.directory.>",
        type: "service",
        response_type: "Singleton",
      },
    ];
    claims.imports = [
      { name: "chat-online", subject: ONLINE_SUBJECT, account: pub("CHAT"), type: "stream" },
    ];
  }
  if (name === "CHAT") {
    claims.exports = [{ name: "chat-online", subject: ONLINE_SUBJECT, type: "stream" }];
    // share: true makes the server add Nats-Request-Info (the requester's account, user key and
    // address) to each request crossing the import: the access service limits per address.
    claims.imports = [
      {
        name: "chat-access",
        subject: ACCESS_SUBJECT,
        account: pub("ADMIN"),
        type: "service",
        share: true,
      },
      {
        name: "chat-directory",
        subject: "chat.svc.directory.>",
        account: pub("ADMIN"),
        type: "service",
        share: true,
      },
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
  const report: InitReport = { dir, created: [], kept: [] };
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

  for (const acc of ACCOUNT_NAMES) {
    if (await exists(paths.jwt(acc))) {
      report.kept.push(`jwt ${acc}`);
      continue;
    }
    const jwt = await encodeAccount(acc, keys[acc] as KeyPair, accountClaims(acc, keys), {
      signer: opSigning,
    });
    await writePublic(paths.jwt(acc), `${jwt}\n`);
    report.created.push(`jwt ${acc}`);
  }

  const roles = {} as TrustSummary["roles"];
  for (const role of ROLES) {
    const spec = ROLE_SPECS[role];
    const credsPath = paths.creds(role);
    const existing = await readOptional(credsPath);
    let publicKey: string;
    if (existing !== undefined) {
      publicKey = await credsPublicKey(existing, credsPath);
      report.kept.push(`creds ${role}`);
    } else {
      const ukp = createUser();
      publicKey = ukp.getPublicKey();
      const perms = spec.permissions?.();
      const jwt = await encodeUser(role, ukp, keys[spec.account] as KeyPair, perms ?? {}, {
        signer: keys[`${spec.account}-signing`] as KeyPair,
      });
      await writeSecret(credsPath, new TextDecoder().decode(fmtCreds(jwt, ukp)));
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

/** The user key of an existing creds file; a damaged file is named, never silently replaced. */
async function credsPublicKey(text: string, path: string): Promise<string> {
  try {
    return (await parseCreds(text)).publicKey;
  } catch (err) {
    throw new TrustError(
      "CREDS_CORRUPT",
      `${path}: ${(err as Error).message}; delete it to re-issue, or init --force`,
    );
  }
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

/** The resolver material for server configs: operator, system account, and the preload map. */
export function resolverTrust(t: LoadedTrust) {
  const preload: Record<string, string> = {};
  for (const acc of ACCOUNT_NAMES) preload[t.summary.accounts[acc].publicKey] = t.accountJwts[acc];
  return { operatorJwt: t.operatorJwt, systemAccount: t.summary.accounts.SYS.publicKey, preload };
}

export { ROLE_SPECS };
