// The on-disk trust store: one data directory (0700) with keys and creds as 0600 files.
import { chmod, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fromSeed } from "@nats-io/nkeys";
import { TrustError } from "./errors.ts";

/** Default data directory, overridable with --dir or NATSCHAT_DIR. */
export function defaultDataDir(): string {
  return process.env.NATSCHAT_DIR || ".natschat";
}

/** Paths inside a data directory. */
export function layout(dir: string) {
  return {
    dir,
    trust: join(dir, "trust.json"),
    key: (name: string) => join(dir, "keys", `${name}.nk`),
    jwt: (name: string) => join(dir, "jwt", `${name}.jwt`),
    creds: (role: string) => join(dir, "creds", `${role}.creds`),
    server: join(dir, "server"),
    upJson: join(dir, "up.json"),
  };
}

function fsError(err: unknown, action: string, path: string): TrustError {
  const code = (err as NodeJS.ErrnoException).code ?? "EUNKNOWN";
  const hint =
    code === "EACCES" || code === "EPERM" || code === "EROFS"
      ? "choose a writable directory with --dir"
      : code === "ENOTDIR"
        ? "a path component is a file, not a directory"
        : code === "ENOENT"
          ? "a parent cannot hold it (a dangling symlink, or a special file system such as /proc)"
          : (err as Error).message;
  return new TrustError("DIR_UNWRITABLE", `cannot ${action} ${path} (${code}): ${hint}`);
}

/**
 * mkdir -p, one level at a time. Node's `recursive: true` spins forever (100% CPU, never
 * settles) when a parent exists but cannot hold the child: a path under /proc, or below a
 * dangling symlink, answers ENOENT however often it is retried. Here that ENOENT is final.
 */
async function makeDirs(path: string, mode: number): Promise<void> {
  try {
    await mkdir(path, { mode });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      if ((await stat(path)).isDirectory()) return;
      throw Object.assign(new Error(`${path} exists and is not a directory`), { code: "ENOTDIR" });
    }
    if (code !== "ENOENT" || dirname(path) === path) throw err;
  }
  await makeDirs(dirname(path), mode);
  try {
    await mkdir(path, { mode });
  } catch (err) {
    // another process may have made it meanwhile; anything else (ENOENT included) is final
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

/** Creates a directory (and its parents) with mode; a failure says which path and why. */
export async function ensureDir(path: string, mode: number): Promise<void> {
  try {
    await makeDirs(path, mode);
  } catch (err) {
    throw fsError(err, "create directory", path);
  }
}

/** Creates a directory with mode 0700 (and its parents). */
export async function ensurePrivateDir(path: string): Promise<void> {
  await ensureDir(path, 0o700);
  try {
    await chmod(path, 0o700);
  } catch (err) {
    throw fsError(err, "create directory", path);
  }
}

/** Writes a secret atomically with mode 0600, inside a 0700 directory. */
export async function writeSecret(path: string, data: string): Promise<void> {
  await ensurePrivateDir(dirname(path));
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    throw fsError(err, "write", path);
  }
}

/** Writes a public file (JWTs, trust.json) atomically. */
export async function writePublic(path: string, data: string): Promise<void> {
  await ensurePrivateDir(dirname(path));
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data, { mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    throw fsError(err, "write", path);
  }
}

/** Reads a file, or undefined when it does not exist. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fsError(err, "read", path);
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

const SEED_PREFIX: Record<string, string> = { O: "SO", A: "SA", U: "SU" };

/** Checks a seed file's text: a valid nkey seed of the wanted type ('O', 'A' or 'U'). */
export function parseSeed(text: string, type: "O" | "A" | "U", path: string): string {
  const seed = text.trim();
  const want = SEED_PREFIX[type];
  if (!seed.startsWith("S"))
    throw new TrustError("KEY_CORRUPT", `${path} does not hold an nkey seed`);
  if (!seed.startsWith(want ?? "")) {
    throw new TrustError(
      "KEY_WRONG_TYPE",
      `${path} holds a ${seed.slice(0, 2)} seed, expected ${want}`,
    );
  }
  try {
    fromSeed(new TextEncoder().encode(seed)).getPublicKey();
  } catch {
    throw new TrustError(
      "KEY_CORRUPT",
      `${path} holds a corrupt or truncated nkey seed; restore it or re-run init --force`,
    );
  }
  return seed;
}
