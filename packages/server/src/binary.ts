// Finds a nats-server 2.10+ binary, or installs Debian trixie's package into a project-local folder.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ServerLayerError } from "./errors.ts";

const run = promisify(execFile);
export const MIN_VERSION: readonly [number, number] = [2, 10];
const DEBIAN_SUITE = "trixie";

/** The project-local folder where a missing nats-server gets installed (`<repo>/.cache`). */
export const PROJECT_CACHE_DIR = fileURLToPath(new URL("../../../.cache", import.meta.url));

/** A usable nats-server: its path and version. */
export interface NatsServerBinary {
  path: string;
  version: string;
}

/** Parses `nats-server --version` output ("nats-server: v2.10.27") into [major, minor, patch]. */
export function parseVersion(output: string): [number, number, number] | undefined {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(output);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Runs `--version` on a candidate; throws when it is missing, broken or older than 2.10. */
export async function probe(path: string): Promise<NatsServerBinary> {
  let out: string;
  try {
    out = (await run(path, ["--version"], { timeout: 10_000 })).stdout;
  } catch (err) {
    throw new ServerLayerError(
      "SERVER_NOT_RUNNABLE",
      `nats-server at ${path} could not run (${(err as Error).message.split("\n")[0]})`,
    );
  }
  const v = parseVersion(out);
  if (!v)
    throw new ServerLayerError(
      "SERVER_VERSION",
      `cannot read the version of ${path}: "${out.trim()}"`,
    );
  const version = v.join(".");
  const [major, minor] = MIN_VERSION;
  if (v[0] < major || (v[0] === major && v[1] < minor)) {
    throw new ServerLayerError(
      "SERVER_TOO_OLD",
      `nats-server ${version} at ${path} is too old: natschat needs ${major}.${minor} or later`,
    );
  }
  return { path, version };
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * Finds nats-server: $NATS_SERVER, then PATH, then the project-local install under cacheDir,
 * installing it there from Debian trixie when nothing else is usable.
 */
export async function ensureNatsServer(
  cacheDir = PROJECT_CACHE_DIR,
  log = (_: string) => {},
): Promise<NatsServerBinary> {
  const explicit = process.env.NATS_SERVER;
  if (explicit) return probe(explicit);
  const reasons: string[] = [];
  const system = await onPath("nats-server");
  if (system) {
    try {
      return await probe(system);
    } catch (err) {
      reasons.push((err as Error).message);
    }
  }
  const local = join(cacheDir, "nats-server", "usr", "sbin", "nats-server");
  if (existsSync(local)) return probe(local);
  log(
    `${reasons.length ? `${reasons[0]}; ` : ""}installing nats-server from Debian ${DEBIAN_SUITE} into ${cacheDir}`,
  );
  await installFromDebian(cacheDir);
  return probe(local);
}

/** Downloads and unpacks Debian's nats-server package with a private apt state; the machine's apt config is untouched. */
export async function installFromDebian(cacheDir: string): Promise<void> {
  const apt = join(cacheDir, "apt");
  const target = join(cacheDir, "nats-server");
  if (!(await onPath("apt-get")) || !(await onPath("dpkg"))) {
    throw new ServerLayerError(
      "SERVER_MISSING",
      "nats-server 2.10+ was not found and this machine has no apt-get/dpkg to install it. " +
        "Install nats-server 2.10 or later (https://github.com/nats-io/nats-server/releases), " +
        "put it on PATH or set NATS_SERVER=/path/to/nats-server, then run again.",
    );
  }
  await mkdir(join(apt, "lists", "partial"), { recursive: true });
  await mkdir(join(apt, "cache", "archives", "partial"), { recursive: true });
  const sources = join(apt, "sources.list");
  await writeFile(sources, `deb http://deb.debian.org/debian ${DEBIAN_SUITE} main\n`);
  const aptOpts = [
    "-o",
    `Dir::Etc::SourceList=${sources}`,
    "-o",
    "Dir::Etc::SourceParts=/dev/null",
    "-o",
    `Dir::State::Lists=${join(apt, "lists")}`,
    "-o",
    `Dir::Cache=${join(apt, "cache")}`,
    "-o",
    "Debug::NoLocking=1",
    "-o",
    "APT::Sandbox::User=root",
  ];
  try {
    await run("apt-get", [...aptOpts, "-q", "update"], { timeout: 300_000 });
    await run("apt-get", [...aptOpts, "-q", "download", "nats-server"], {
      cwd: apt,
      timeout: 300_000,
    });
    const deb = (await readdir(apt)).find(
      (f) => f.startsWith("nats-server_") && f.endsWith(".deb"),
    );
    if (!deb) throw new Error("apt-get download produced no nats-server .deb");
    await rm(target, { recursive: true, force: true });
    await run("dpkg", ["-x", join(apt, deb), target], { timeout: 120_000 });
  } catch (err) {
    throw new ServerLayerError(
      "SERVER_INSTALL_FAILED",
      `installing nats-server from Debian ${DEBIAN_SUITE} failed: ${(err as Error).message.split("\n")[0]}. ` +
        "Install nats-server 2.10+ yourself and set NATS_SERVER=/path/to/nats-server.",
    );
  }
}
