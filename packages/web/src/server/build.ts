// Builds the production bundle (packages/web/dist) with Vite when it is missing or older than its
// sources. Several `natschat up` may start at once (tests run in parallel), so a lock file makes
// one of them build while the others wait, then all read the same finished build.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { open, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebServerError } from "./errors.ts";

/** The web package's folder (holds index.html, vite.config.ts, src/, dist/). */
export const WEB_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Where the production build goes. */
export const DIST_DIR = join(WEB_ROOT, "dist");
/** Written last by a successful build; its mtime is the build's time. */
const STAMP = join(DIST_DIR, ".build-stamp");
// In the temp dir, not the work tree, so a build that dies leaves nothing to commit; named by
// the checkout so two checkouts do not wait for each other.
const LOCK = join(
  tmpdir(),
  `natschat-web-build-${createHash("sha256").update(WEB_ROOT).digest("hex").slice(0, 12)}.lock`,
);
const LOCK_WAIT_MS = 180_000;

/** Everything the bundle is made of: the app, and the isomorphic packages it bundles. */
function sourceRoots(): string[] {
  const packages = join(WEB_ROOT, "..");
  return [
    join(WEB_ROOT, "index.html"),
    join(WEB_ROOT, "vite.config.ts"),
    join(WEB_ROOT, "package.json"),
    join(WEB_ROOT, "src", "app"),
    join(WEB_ROOT, "src", "config.ts"),
    join(packages, "client", "src"),
    join(packages, "protocol", "src"),
  ];
}

async function newestMtime(path: string): Promise<number> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    return 0; // a source that does not exist (yet) cannot make the build stale
  }
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(path)) {
    newest = Math.max(newest, await newestMtime(join(path, entry)));
  }
  return newest;
}

/** Why the build must be (re)made, or undefined when dist is up to date. */
export async function staleReason(): Promise<string | undefined> {
  let built: number;
  try {
    built = (await stat(STAMP)).mtimeMs;
  } catch {
    return "no build yet";
  }
  const newest = Math.max(...(await Promise.all(sourceRoots().map(newestMtime))));
  return newest > built ? "sources changed since the last build" : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the build lock, waiting while a live process holds it. */
async function takeLock(): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fh = await open(LOCK, "wx");
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(LOCK, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number((await readFile(LOCK, "utf8").catch(() => "")).trim());
    if (holder && !isAlive(holder)) {
      await rm(LOCK, { force: true }); // left by a build that died
      continue;
    }
    if (Date.now() > deadline) {
      throw new WebServerError(
        "WEB_BUILD_LOCKED",
        `another web build (pid ${holder || "?"}) has held ${LOCK} for over ${LOCK_WAIT_MS / 1000} s; stop it or remove the file`,
      );
    }
    // Polling a lock file held by another process: there is no event to wait for.
    await new Promise((r) => setTimeout(r, 250));
  }
}

function viteBin(): string {
  const require = createRequire(join(WEB_ROOT, "package.json"));
  let pkg: string;
  try {
    pkg = require.resolve("vite/package.json");
  } catch {
    throw new WebServerError(
      "WEB_BUILD_FAILED",
      "vite is not installed; run `npm install` in the repository first",
    );
  }
  return join(dirname(pkg), "bin", "vite.js");
}

/** Runs `vite build` in a child process; rejects with the tail of its output on failure. */
function runViteBuild(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [viteBin(), "build", "--logLevel", "warn"], {
      cwd: WEB_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_ENV: "production" },
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("error", (err) =>
      reject(new WebServerError("WEB_BUILD_FAILED", `cannot run vite: ${err.message}`)),
    );
    child.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new WebServerError(
            "WEB_BUILD_FAILED",
            `vite build failed (${signal ?? `exit ${code}`}): ${output.trim().split("\n").slice(-8).join(" | ")}`,
          ),
        );
    });
  });
}

/** Makes sure dist holds a build of the current sources; builds it if needed. Returns dist. */
export async function ensureWebBuild(
  log: (line: string) => void = () => {},
  opts: { force?: boolean } = {},
): Promise<string> {
  const unlock = await takeLock();
  try {
    const reason = opts.force ? "asked to" : await staleReason();
    if (reason) {
      log(`web: building the app (${reason})…`);
      const started = Date.now();
      await runViteBuild();
      // Dated when the build started, so an edit made during the build still counts as newer.
      await writeFile(STAMP, `${new Date(started).toISOString()}\n`);
      await utimes(STAMP, started / 1000, started / 1000);
      log(`web: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await unlock();
  }
  return DIST_DIR;
}
