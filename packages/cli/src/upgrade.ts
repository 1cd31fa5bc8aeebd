// Upgrading a data dir's stores in place from protocol v2 (issue 14): the history streams take
// the v3 config, and the v2 messages whose signer the registry issued a name to (before any
// revocation of that key) are copied into the v3 layout. `natschat up` runs it before its history
// service starts; `natschat upgrade` runs it against running servers (a deployment whose
// history service is scaled to zero). The trust side (every v2 user JWT revoked, the CHAT roles
// re-issued) is done by `natschat init`: see trust/tree.ts.
import { Registry, type RegistryRecord, silentLogger } from "@natschat/access";
import {
  DEDUPE_WINDOW_SECONDS,
  ensureHistoryStores,
  migrateV2History,
  type TrustedSigner,
  type V2MigrationReport,
  v2MigrationPending,
} from "@natschat/history";
import { CLOCK_SKEW_SECONDS } from "@natschat/protocol";
import { connectRole, layout } from "@natschat/trust";
import { parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";
import { defaultServer, defaultTlsCa } from "./up-state.ts";

const USAGE = "natschat upgrade [--dir DIR] [--server URL] [--replicas 1|3]";

/**
 * The registry's word on a v2 signer: the key holds a name (the record found for it is that
 * key's), and, when the key was revoked, the message was signed at or before the revocation.
 */
export function trustedSigners(
  recordOf: (key: string) => RegistryRecord | undefined,
): TrustedSigner {
  return (key, iat) => {
    const record = recordOf(key);
    if (!record || record.key !== key) return false;
    if (!record.revoked) return true;
    return record.revokedAt !== undefined && iat <= Date.parse(record.revokedAt) / 1000;
  };
}

/** A key's record in the registry's view. */
function recordIn(registry: Registry) {
  return (key: string) => {
    const name = registry.nameOf(key);
    return name === undefined ? undefined : registry.get(name)?.record;
  };
}

/** Brings the history stores of a v2 data dir to v3; [] when they were migrated before. */
export async function upgradeHistoryStores(
  dir: string,
  servers: string | string[],
  replicas: number,
  tlsCaFile?: string,
): Promise<V2MigrationReport[]> {
  const paths = layout(dir);
  const chat = await connectRole({
    servers,
    credsPath: paths.creds("history"),
    inboxOwner: "history",
    tlsCaFile,
  });
  const admin = await connectRole({
    servers,
    credsPath: paths.creds("access"),
    inboxOwner: "access",
    tlsCaFile,
  });
  try {
    // nothing of v2 (a new deployment, or moved before): the history service owns the stores
    if (!(await v2MigrationPending(chat))) return [];
    // the v3 config first (stored subjects), with the window the history service sets
    await ensureHistoryStores(chat, {
      replicas,
      dedupeWindowSeconds: DEDUPE_WINDOW_SECONDS + CLOCK_SKEW_SECONDS,
    });
    const registry = await Registry.open(admin, { replicas, log: silentLogger });
    try {
      await registry.ready;
      return await migrateV2History(chat, trustedSigners(recordIn(registry)));
    } finally {
      await registry.stop();
    }
  } finally {
    await Promise.allSettled([chat.close(), admin.close()]);
  }
}

/** One line per stream that had v2 messages. */
export function describeMigration(reports: V2MigrationReport[]): string[] {
  return reports
    .filter((r) => !r.already && r.found > 0)
    .map((r) => {
      const skipped = Object.entries(r.skipped).map(([why, n]) => `${n} ${why}`);
      return `${r.stream}: ${r.copied} of ${r.found} v2 messages moved to the v3 layout${
        skipped.length ? `; left unserved: ${skipped.join(", ")}` : ""
      }`;
    });
}

export async function upgradeVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    { server: { type: "string" }, replicas: { type: "string" } },
    USAGE,
  );
  const replicas = Number(flags.replicas ?? "1");
  if (replicas !== 1 && replicas !== 3)
    throw new UsageError(`--replicas must be 1 or 3 (the stores' replicas)\nusage: ${USAGE}`);
  const server = await defaultServer(flags.dir, flags.server);
  const reports = await upgradeHistoryStores(
    flags.dir,
    server,
    replicas,
    await defaultTlsCa(flags.dir),
  );
  const lines = describeMigration(reports);
  for (const line of lines) console.log(line);
  if (lines.length === 0) console.log("history stores are current: nothing to move");
  return 0;
}
