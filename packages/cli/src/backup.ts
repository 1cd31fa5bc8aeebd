// `natschat backup --out FILE`: one file (0600) with what a data dir and its running system need
// to come back: the trust tree (keys, JWTs, creds, the users' creds made here, the development
// TLS files), the account JWTs as the servers hold them (the CHAT one carries every revocation),
// the registry bucket, the history streams and the message states. See backup-file.ts for the format and
// backup-streams.ts for the JetStream side.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { decode } from "@nats-io/jwt";
import { ACCOUNT_NAMES, loadTrust, lookupAccountJwt, readOptional } from "@natschat/trust";
import { parseVerb } from "./args.ts";
import { BACKUP_FORMAT, BACKUP_VERSION, createBackupWriter } from "./backup-file.ts";
import { BACKED_UP_STREAMS, dumpStream, MessageSeqs } from "./backup-streams.ts";
import { UsageError } from "./errors.ts";
import { connectVerbRole } from "./up-state.ts";

const USAGE = "natschat backup --out FILE [--dir DIR] [--server URL] [--force]";

/** The data dir's folders that hold the trust tree and what was made with it (never server/). */
export const TRUST_FOLDERS = ["keys", "jwt", "creds", "users", "tls"] as const;

/** Whether a data dir file is public (JWTs, trust.json, certificates); everything else is secret. */
export function isPublicFile(path: string): boolean {
  return (
    path === "trust.json" ||
    path.startsWith("jwt/") ||
    (path.startsWith("tls/") && path.endsWith(".pem") && !path.endsWith("-key.pem"))
  );
}

async function trustFiles(dir: string): Promise<string[]> {
  const files = ["trust.json"];
  for (const folder of TRUST_FOLDERS) {
    const names = await readdir(join(dir, folder)).catch(() => [] as string[]);
    for (const name of names.sort()) if (!name.includes(".tmp-")) files.push(`${folder}/${name}`);
  }
  return files;
}

/** The later of two JWTs by `iat` (a server may hold a newer one than the data dir). */
function later(a: string, b: string): string {
  return (decode(b).iat ?? 0) > (decode(a).iat ?? 0) ? b : a;
}

export async function backupVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    { out: { type: "string" }, server: { type: "string" }, force: { type: "boolean" } },
    USAGE,
  );
  if (!flags.out) throw new UsageError(`--out FILE is missing\nusage: ${USAGE}`);
  if (!flags.force && (await readOptional(flags.out).catch(() => "")) !== undefined)
    throw new UsageError(`${flags.out} exists; pass --force to replace it`);
  const trust = await loadTrust(flags.dir);
  const out = await createBackupWriter(flags.out); // an unwritable path fails before any work
  const counts: string[] = [];
  try {
    const accountJwts = { ...trust.accountJwts };
    const push = await connectVerbRole(flags, "push");
    try {
      for (const acc of ACCOUNT_NAMES) {
        const held = await lookupAccountJwt(push, trust.summary.accounts[acc].publicKey);
        accountJwts[acc] = later(accountJwts[acc], held);
      }
    } finally {
      await push.close();
    }
    await out.put({
      kind: "header",
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      created: new Date().toISOString(),
      operator: trust.summary.operator.publicKey,
    });
    const files = await trustFiles(flags.dir);
    for (const path of files) {
      const account = ACCOUNT_NAMES.find((a) => path === `jwt/${a}.jwt`);
      const text = account
        ? `${accountJwts[account]}\n`
        : await readFile(join(flags.dir, path), "utf8");
      await out.put({ kind: "file", path, secret: !isPublicFile(path), text });
    }
    counts.push(`${files.length} files of the trust tree`);
    const seqs = new MessageSeqs();
    for (const s of BACKED_UP_STREAMS) {
      const nc = await connectVerbRole(flags, s.role);
      try {
        const { messages, leftOut } = await dumpStream(nc, s, out.put, seqs);
        counts.push(
          `${s.name}: ${messages} messages${leftOut ? ` (${leftOut} unserved v2 ones left out)` : ""}`,
        );
      } finally {
        await nc.close();
      }
    }
    await out.close();
  } catch (err) {
    await out.abort();
    throw err;
  }
  console.log(`backup written to ${flags.out} (mode 0600: it holds every seed)`);
  for (const c of counts) console.log(`  ${c}`);
  return 0;
}
