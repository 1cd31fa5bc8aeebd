// The CLI end to end: `natschat access` run from Secret-style files (no data dir, as a Kubernetes
// Deployment runs it), then `join`, `users`, `revoke` and `status` against it, and a drain on
// SIGTERM. Its JSON logs never hold a seed or a JWT.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCreds } from "@natschat/protocol";
import { startTestStack, type TestStack, within } from "@natschat/testing";
import { layout } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_PATTERN } from "./helpers.ts";

const BIN = fileURLToPath(new URL("../../../bin/natschat.js", import.meta.url));

let stack: TestStack;
let secrets: string;
let service: ChildProcess | undefined;
let logs = "";

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  stack = await startTestStack();
  // What a Deployment mounts: four files from Secrets, no data dir.
  secrets = await mkdtemp(join(tmpdir(), "natschat-secrets-"));
  const p = layout(stack.dir);
  await copyFile(p.creds("access"), join(secrets, "access.creds"));
  await copyFile(p.creds("push"), join(secrets, "push.creds"));
  await copyFile(p.key("CHAT-signing"), join(secrets, "chat-signing.nk"));
  await copyFile(p.key("operator-signing"), join(secrets, "operator-signing.nk"));
  await mkdir(join(secrets, "empty"));
  const child = spawn(
    process.execPath,
    [
      BIN,
      "access",
      "--dir",
      join(secrets, "empty"),
      "--server",
      stack.urls[0] as string,
      "--creds",
      join(secrets, "access.creds"),
      "--push-creds",
      join(secrets, "push.creds"),
      "--chat-signing-key",
      join(secrets, "chat-signing.nk"),
      "--operator-signing-key",
      join(secrets, "operator-signing.nk"),
      "--chat-account",
      stack.trust.summary.accounts.CHAT.publicKey,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NATSCHAT_REPLICA_ID: "pod-1", NATSCHAT_LOG_LEVEL: "debug" },
    },
  );
  service = child;
  const started = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      logs += d.toString();
      if (logs.includes('"msg":"access service started"')) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`natschat access exited with ${code}:\n${logs}`)),
    );
  });
  await within(started, "`natschat access` to start", 60_000);
}, 90_000);

afterAll(async () => {
  if (service && service.exitCode === null) {
    const exited = new Promise((r) => service?.once("exit", r));
    service.kill("SIGTERM");
    await exited;
  }
  await stack?.stop();
  await rm(secrets, { recursive: true, force: true });
});

describe("natschat access, join, users, revoke, status", () => {
  it("joins with a key made locally and writes the creds 0600", async () => {
    const r = await cli(["join", "Zoe", "--dir", stack.dir, "--server", stack.urls[0] as string]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/requested "Zoe", issued "zoe"/);
    const path = join(stack.dir, "users", "zoe.creds");
    expect(r.stdout).toContain(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const creds = await parseCreds(await readFile(path, "utf8"));
    expect(creds.claims.name).toBe("zoe");
    const again = await cli([
      "join",
      "zoe",
      "--dir",
      stack.dir,
      "--server",
      stack.urls[0] as string,
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/zoe\.creds exists; pass --force/);
    const taken = await cli([
      "join",
      "zoe",
      "--dir",
      stack.dir,
      "--server",
      stack.urls[0] as string,
      "--out",
      join(secrets, "zoe2.creds"),
    ]);
    expect(taken.code).toBe(1);
    expect(taken.stderr.trim()).toBe(
      'natschat join: [NAME_TAKEN] name "zoe" is taken; pick another',
    );
    const bad = await cli(["join", "z.o.e", "--dir", stack.dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/name "z\.o\.e" has '\.'/);
  });

  it("lists, revokes and reports status", async () => {
    const server = ["--dir", stack.dir, "--server", stack.urls[0] as string];
    await cli(["join", "yann", ...server]);
    const users = await cli(["users", ...server]);
    expect(users.code).toBe(0);
    expect(users.stdout).toMatch(/^zoe\s+U[A-Z2-7]{55}\s.*active$/m);
    expect(users.stdout).toMatch(/2 users \(2 active, 0 revoked\)/);
    const revoked = await cli(["revoke", "yann", ...server]);
    expect(revoked.stdout).toMatch(
      /revoked "yann" \(U[A-Z2-7]{55}\) on 1 of 1 servers; the name stays reserved/,
    );
    expect((await cli(["users", ...server])).stdout).toMatch(/^yann\s.*revoked$/m);
    const missing = await cli(["revoke", "nobody", ...server]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(
      'natschat revoke: [NOT_FOUND] no user named "nobody" is registered',
    );
    // --watch prints the listing, then one line per change
    const watch = spawn(process.execPath, [BIN, "users", "--watch", ...server], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let watched = "";
    const sawLine = (re: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (re.test(watched)) resolve();
        };
        watch.stdout?.on("data", (d: Buffer) => {
          watched += d.toString();
          check();
        });
        check();
      });
    await within(sawLine(/watching for changes/), "users --watch to list", 30_000);
    await cli(["join", "xena", ...server]);
    await within(sawLine(/\+ xena U[A-Z2-7]{55}/), "users --watch to show xena", 30_000);
    const watchExit = new Promise<number | null>((r) => watch.once("exit", (code) => r(code)));
    watch.kill("SIGINT");
    expect(await within(watchExit, "users --watch to stop", 30_000)).toBe(0);

    const status = await cli(["status", ...server]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/servers \(1\):/);
    expect(status.stdout).toMatch(/natschat-access 0\.1\.0 .*replica=pod-1 revoke=yes/);
    expect(status.stdout).toMatch(
      /access\s+chat\.req\.access\s+queue natschat-access\s+requests \d+/,
    );
    expect(status.stdout).toMatch(/registry: 3 names of 200000, storage \d+ MB of 256 MB/);
    expect(status.stdout).toMatch(/refused: (none|\w+ \d+)/);
  });

  it("drains on SIGTERM and never logged a secret", async () => {
    const child = service as ChildProcess;
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await within(exited, "natschat access to exit", 30_000)).toBe(0);
    const lines = logs.trim().split("\n");
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(logs).toMatch(/"msg":"draining"/);
    expect(logs).toMatch(/"msg":"stopped"/);
    expect(logs).toMatch(/"msg":"registered".*"name":"zoe"/);
    expect(logs).not.toMatch(SEED_PATTERN);
    expect(logs).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}\./);
  });
});
