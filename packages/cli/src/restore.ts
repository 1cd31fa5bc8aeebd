// `natschat restore FILE`: brings back what `natschat backup` saved. The whole file is checked
// first (backup-file.ts); then
//   1. the trust tree: written into a data dir that has none (secrets 0600), or, when the dir
//      holds the same operator's tree, only the account JWTs the backup has newer (revocations);
//      a dir with another operator's tree is refused;
//   2. when a system runs on that trust (DIR/up.json, or --server), the account JWTs are pushed
//      to every server (so a revoked user stays refused) and the registry, the history streams
//      and the message states are loaded into it, which must not hold any of their messages yet
//      (each state filed under the sequence its message gets there).
// After a wipe the first run restores the trust tree and says to start `natschat up`; the same
// command run again then loads the data. Running services see the data arrive as they would
// live writes (the registry's watch, the history index's consumer).
import { join } from "node:path";
import { decode } from "@nats-io/jwt";
import {
  ACCOUNT_NAMES,
  layout,
  loadTrust,
  pushAll,
  readOptional,
  writePublic,
  writeSecret,
} from "@natschat/trust";
import { parseVerb } from "./args.ts";
import { BackupError, type BackupLine, readBackup, verifyBackup } from "./backup-file.ts";
import { BACKED_UP_STREAMS, checkEmpty, MessageSeqs, StreamLoader } from "./backup-streams.ts";
import { UsageError } from "./errors.ts";
import { connectVerbRole, isAlive, readUpState } from "./up-state.ts";

const USAGE = "natschat restore FILE [--dir DIR] [--server URL]";

type FileLine = Extract<BackupLine, { kind: "file" }>;

/** The operator public key of the tree in `dir`, or undefined when it has none. */
async function operatorOf(dir: string): Promise<string | undefined> {
  if ((await readOptional(layout(dir).trust)) === undefined) return undefined;
  return (await loadTrust(dir)).summary.operator.publicKey;
}

async function writeFileLine(dir: string, f: FileLine): Promise<void> {
  const path = join(dir, f.path);
  await (f.secret ? writeSecret(path, f.text) : writePublic(path, f.text));
}

/** Restores the trust tree; returns what it did, in words. */
async function restoreTrust(file: string, dir: string, operator: string): Promise<string> {
  const have = await operatorOf(dir);
  if (have !== undefined && have !== operator) {
    throw new BackupError(
      "RESTORE_CONFLICT",
      `${dir} holds another trust tree (operator ${have}, the backup's is ${operator}); restore into an empty dir (--dir), or move that one away`,
    );
  }
  let written = 0;
  for await (const line of readBackup(file)) {
    if (line.kind !== "file") continue;
    if (have === undefined) {
      await writeFileLine(dir, line);
      written++;
      continue;
    }
    // the same tree: keep its keys and creds; take an account JWT only when the backup's is newer
    const account = ACCOUNT_NAMES.find((a) => line.path === `jwt/${a}.jwt`);
    if (!account) continue;
    const current = (await readOptional(join(dir, line.path)))?.trim();
    if (!current || (decode(line.text.trim()).iat ?? 0) > (decode(current).iat ?? 0)) {
      await writeFileLine(dir, line);
      written++;
    }
  }
  return have === undefined
    ? `trust tree restored into ${dir} (${written} files)`
    : `trust tree in ${dir} is the backup's${written ? ` (${written} newer account JWTs taken)` : ""}`;
}

/** Loads the backup's streams into the running system. */
async function restoreStreams(
  file: string,
  flags: { dir: string; server?: string },
): Promise<string[]> {
  // every target is checked before the first is written: a refusal leaves nothing half done
  for (const spec of BACKED_UP_STREAMS) {
    const nc = await connectVerbRole(flags, spec.role);
    try {
      await checkEmpty(nc, spec.name);
    } finally {
      await nc.close();
    }
  }
  const done: string[] = [];
  const seqs = new MessageSeqs();
  let loader: StreamLoader | undefined;
  let close: (() => Promise<void>) | undefined;
  try {
    for await (const line of readBackup(file)) {
      if (line.kind === "stream") {
        const spec = BACKED_UP_STREAMS.find((s) => s.name === line.config.name);
        if (!spec)
          throw new BackupError(
            "BACKUP_INVALID",
            `the backup holds an unknown stream ${line.config.name}`,
          );
        const nc = await connectVerbRole(flags, spec.role);
        close = () => nc.close();
        loader = await StreamLoader.open(nc, line, seqs);
      } else if (line.kind === "msg") {
        if (!loader)
          throw new BackupError("BACKUP_INVALID", "the backup has a message outside a stream");
        await loader.add(line);
      } else if (line.kind === "stream-end") {
        if (!loader)
          throw new BackupError("BACKUP_INVALID", "the backup ends a stream it never began");
        const total = await loader.finish(line.messages);
        const skipped = loader.skipped
          ? ` (${loader.skipped} states of messages not restored left out)`
          : "";
        done.push(
          `${line.name}: ${line.messages - loader.skipped} messages restored (${total} in the stream)${skipped}`,
        );
        loader = undefined;
        await close?.();
        close = undefined;
      }
    }
  } finally {
    await close?.();
  }
  return done;
}

export async function restoreVerb(argv: string[]): Promise<number> {
  const { flags, positionals } = parseVerb(argv, { server: { type: "string" } }, USAGE, 1);
  const file = positionals[0];
  if (!file) throw new UsageError(`the backup FILE is missing\nusage: ${USAGE}`);
  const { operator, created } = await verifyBackup(file);
  console.log(`${file}: a complete natschat backup made ${created}`);
  console.log(await restoreTrust(file, flags.dir, operator));
  const up = await readUpState(flags.dir);
  const running = flags.server !== undefined || (up !== undefined && isAlive(up.pid));
  if (!running) {
    console.log(
      `no system runs on ${flags.dir}: start it (\`natschat up --dir ${flags.dir}\`), then run \`natschat restore ${file} --dir ${flags.dir}\` again to load the registry and history`,
    );
    return 0;
  }
  // the servers must hold the restored revocations before anyone can connect with an old JWT
  const trust = await loadTrust(flags.dir);
  const push = await connectVerbRole(flags, "push");
  try {
    const { replies } = await pushAll(push, Object.values(trust.accountJwts));
    const failed = replies.flat().filter((r) => !r.ok);
    if (failed.length)
      throw new BackupError(
        "RESTORE_CONFLICT",
        `a server refused the restored account JWTs: ${failed.map((f) => `${f.server}: ${f.message}`).join("; ")}`,
      );
  } finally {
    await push.close();
  }
  for (const line of await restoreStreams(file, flags)) console.log(line);
  return 0;
}
