#!/usr/bin/env node
// Installs what the two README commands need, before any dependency exists: npm packages, and
// with --for-tests the Debian tools the tests drive (chromium, tmux). nats-server is ensured by
// the server layer itself (system 2.10+, else Debian trixie's package in ./.cache).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const forTests = process.argv.includes("--for-tests");

function fail(message) {
  console.error(`natschat setup: ${message}`);
  process.exit(1);
}

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19))
  fail(`Node ${process.versions.node} is too old: install Node 20.19 or later`);

const installed = join(root, "node_modules", ".package-lock.json");
const lock = join(root, "package-lock.json");
if (
  !existsSync(installed) ||
  (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs)
) {
  console.log("natschat setup: installing npm dependencies (npm ci)…");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) fail("npm ci failed; see the output above");
}

function has(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

if (forTests) {
  const missing = [];
  if (!existsSync("/usr/bin/chromium")) missing.push("chromium");
  if (!has("tmux")) missing.push("tmux");
  if (missing.length > 0) {
    if (!has("apt-get"))
      fail(`the tests need ${missing.join(" and ")}; install them and run again`);
    const apt = process.getuid?.() === 0 ? ["apt-get"] : ["sudo", "apt-get"];
    const run = (...args) =>
      execFileSync(apt[0], [...apt.slice(1), ...args], {
        stdio: "inherit",
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
    console.log(`natschat setup: installing ${missing.join(", ")} from Debian…`);
    try {
      run("-q", "update");
      run("-q", "install", "-y", "--no-install-recommends", ...missing);
    } catch {
      fail(
        `installing ${missing.join(", ")} failed: run \`apt-get install ${missing.join(" ")}\` as root`,
      );
    }
  }
}
