// The backup file of `natschat backup`: gzip'd JSON lines, written 0600 (it holds every seed of
// the trust tree). Line 1 says what it is; then the data dir's files, then each stream (its
// config, its messages, its end with a count); the last line holds the number of lines and the
// SHA-256 of every line before it. A reader checks the whole file before anything is restored,
// so a truncated, damaged or foreign file is refused with what is wrong and nothing is half done.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import type { StreamConfig } from "@nats-io/jetstream";
import { NatschatError } from "@natschat/protocol";

export const BACKUP_FORMAT = "natschat-backup";
export const BACKUP_VERSION = 1;

export type BackupErrorCode =
  | "BACKUP_UNREADABLE"
  | "BACKUP_UNWRITABLE"
  | "BACKUP_INVALID"
  | "BACKUP_TRUNCATED"
  | "BACKUP_DAMAGED"
  | "BACKUP_VERSION"
  | "RESTORE_CONFLICT";

/** A backup that cannot be made or restored; the message says what is wrong and what to do. */
export class BackupError extends NatschatError {
  override name = "BackupError";
  constructor(
    override readonly code: BackupErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** What a backup holds, line by line. */
export type BackupLine =
  | {
      kind: "header";
      format: typeof BACKUP_FORMAT;
      version: number;
      created: string;
      operator: string;
    }
  | { kind: "file"; path: string; secret: boolean; text: string }
  | { kind: "stream"; account: "ADMIN" | "CHAT"; config: StreamConfig }
  | { kind: "msg"; subject: string; headers?: [string, string][]; data: string }
  | { kind: "stream-end"; name: string; messages: number }
  | { kind: "end"; lines: number; sha256: string };

/** Writes a backup: lines go through `write`, then `close` seals it with the trailer and renames. */
export async function createBackupWriter(path: string) {
  const tmp = `${path}.partial-${process.pid}`;
  // created 0600 before a byte is written: the file holds seeds
  const fh = await open(tmp, "wx", 0o600).catch((err: NodeJS.ErrnoException) => {
    throw new BackupError(
      "BACKUP_UNWRITABLE",
      `cannot write ${path} (${err.code ?? err.message}); choose a writable path with --out`,
    );
  });
  await fh.close();
  const gzip = createGzip();
  const done = pipeline(gzip, createWriteStream(tmp, { mode: 0o600 }));
  const hash = createHash("sha256");
  let lines = 0;
  const put = async (line: BackupLine) => {
    const text = `${JSON.stringify(line)}\n`;
    hash.update(text);
    lines++;
    if (!gzip.write(text)) await new Promise((r) => gzip.once("drain", r));
  };
  return {
    put,
    async close(): Promise<void> {
      const trailer: BackupLine = { kind: "end", lines, sha256: hash.digest("hex") };
      gzip.end(`${JSON.stringify(trailer)}\n`);
      await done;
      await rename(tmp, path);
    },
    async abort(): Promise<void> {
      gzip.destroy();
      await done.catch(() => undefined);
      await rm(tmp, { force: true });
    },
  };
}

function invalid(n: number, what: string): BackupError {
  return new BackupError("BACKUP_INVALID", `line ${n} of the backup ${what}`);
}

/** Checks one parsed line's shape; throws BACKUP_INVALID naming the line. */
function checkLine(v: unknown, n: number): BackupLine {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalid(n, "is not an object");
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === "string";
  switch (o.kind) {
    case "header":
      if (o.format !== BACKUP_FORMAT) throw invalid(n, "is not a natschat backup header");
      if (!str("created") || !str("operator")) throw invalid(n, "has a header without its fields");
      break;
    case "file":
      if (!str("path") || !str("text") || typeof o.secret !== "boolean")
        throw invalid(n, "has a file without path, text or secret");
      if (
        (o.path as string).split("/").some((p) => p === ".." || p === "") ||
        (o.path as string).startsWith("/")
      )
        throw invalid(
          n,
          `names a path outside the data dir: ${JSON.stringify(o.path).slice(0, 80)}`,
        );
      break;
    case "stream": {
      const c = o.config as Record<string, unknown> | undefined;
      if ((o.account !== "ADMIN" && o.account !== "CHAT") || typeof c?.name !== "string")
        throw invalid(n, "has a stream without account or config");
      break;
    }
    case "msg":
      if (!str("subject") || !str("data"))
        throw invalid(n, "has a message without subject or data");
      if (o.headers !== undefined && !Array.isArray(o.headers))
        throw invalid(n, "has message headers that are not a list");
      break;
    case "stream-end":
      if (!str("name") || typeof o.messages !== "number") throw invalid(n, "has a bad stream end");
      break;
    case "end":
      if (typeof o.lines !== "number" || !str("sha256")) throw invalid(n, "has a bad trailer");
      break;
    default:
      throw invalid(n, `has an unknown kind ${JSON.stringify(o.kind).slice(0, 40)}`);
  }
  return o as BackupLine;
}

/** Reads every line of a backup in order; the caller sees no line before the file checked out. */
async function* rawLines(path: string): AsyncGenerator<{ text: string; n: number }> {
  const file = createReadStream(path);
  const gunzip = createGunzip();
  const failed = new Promise<never>((_, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "EACCES" || err.code === "EISDIR")
        reject(new BackupError("BACKUP_UNREADABLE", `cannot read ${path} (${err.code})`));
      else if (err.code === "Z_BUF_ERROR" || /unexpected end/i.test(err.message))
        reject(
          new BackupError(
            "BACKUP_TRUNCATED",
            `${path} ends early (the gzip stream is cut off): it is truncated; use a complete copy`,
          ),
        );
      else
        reject(
          new BackupError(
            "BACKUP_DAMAGED",
            `${path} is not a readable natschat backup (${err.message}); it is damaged or not a backup`,
          ),
        );
    };
    file.once("error", fail);
    gunzip.once("error", fail);
  });
  failed.catch(() => undefined); // observed through the race below
  const lines = createInterface({ input: file.pipe(gunzip), crlfDelay: Number.POSITIVE_INFINITY });
  const it = lines[Symbol.asyncIterator]();
  let n = 0;
  try {
    for (;;) {
      const next = await Promise.race([it.next(), failed]);
      if (next.done) break;
      yield { text: next.value, n: ++n };
    }
    // a stream error after the last line still counts
    await Promise.race([failed, new Promise((r) => setImmediate(r))]);
  } finally {
    lines.close();
    file.destroy();
  }
}

/** Checks a whole backup file: header, every line's shape, the trailer's count and checksum. */
export async function verifyBackup(
  path: string,
): Promise<{ operator: string; created: string; lines: number }> {
  const hash = createHash("sha256");
  let header: Extract<BackupLine, { kind: "header" }> | undefined;
  let trailer: Extract<BackupLine, { kind: "end" }> | undefined;
  let count = 0;
  for await (const { text, n } of rawLines(path)) {
    if (trailer) throw invalid(n, "comes after the trailer");
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw invalid(n, "is not JSON");
    }
    const line = checkLine(v, n);
    if (n === 1) {
      if (line.kind !== "header") throw invalid(1, "is not a natschat backup header");
      if (line.version !== BACKUP_VERSION)
        throw new BackupError(
          "BACKUP_VERSION",
          `${path} is backup format version ${line.version}; this natschat reads version ${BACKUP_VERSION}`,
        );
      header = line;
    }
    if (line.kind === "end") trailer = line;
    else {
      hash.update(`${text}\n`);
      count++;
    }
  }
  if (!header) throw new BackupError("BACKUP_INVALID", `${path} is empty: not a natschat backup`);
  if (!trailer)
    throw new BackupError(
      "BACKUP_TRUNCATED",
      `${path} has no trailer after ${count} lines: it is truncated; use a complete copy`,
    );
  if (trailer.lines !== count || trailer.sha256 !== hash.digest("hex"))
    throw new BackupError(
      "BACKUP_DAMAGED",
      `${path} does not match its checksum (${count} lines, the trailer says ${trailer.lines}): it was changed or damaged`,
    );
  return { operator: header.operator, created: header.created, lines: count };
}

/** The lines of a backup that verifyBackup accepted (the trailer left out). */
export async function* readBackup(path: string): AsyncGenerator<BackupLine> {
  for await (const { text } of rawLines(path)) {
    const line = JSON.parse(text) as BackupLine;
    if (line.kind !== "end") yield line;
  }
}
