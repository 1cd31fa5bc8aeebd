// The process policy of `natschat up` for unexpected errors (up-guard.ts), in a child process
// with a real nats-server as its part: an unhandled rejection is counted and the process keeps
// serving; an uncaught exception stops every part (the server is gone) and exits 1.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { within } from "@natschat/testing";
import { expect, it } from "vitest";

const FIXTURE = fileURLToPath(new URL("./fixtures/guarded-crash.ts", import.meta.url));
const TSCONFIG = fileURLToPath(new URL("../../../tsconfig.json", import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it("an uncaught exception stops every part, the nats-server included, and exits 1", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const code = await within(
    new Promise<number | null>((r) => child.once("exit", (c) => r(c))),
    "the guarded process to exit",
    60_000,
  );
  const pid = (JSON.parse(out.split("\n")[0] ?? "{}") as { pid?: number }).pid;
  expect(pid, err).toBeGreaterThan(0);
  expect(out).toMatch(/still serving after 1 unhandled rejection/);
  expect(err).toMatch(
    /unexpected error \(counted: 1; still serving\): Error: a bug nobody awaited/,
  );
  expect(err).toMatch(/uncaught exception: Error: boom; stopping every part/);
  expect(code).toBe(1);
  expect(alive(pid as number), `nats-server ${pid} left running`).toBe(false);
}, 90_000);
