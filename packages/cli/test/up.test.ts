// `natschat up` end to end: up.json, one instance per dir, busy ports, push and tools against
// it, and a clean stop on SIGTERM with no orphan nats-server.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "@natschat/server";
import { runCli, startCli, stopCli } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface UpJson {
  client: string;
  websocket: string;
  monitoring: string;
  servers: { name: string; pid: number }[];
  creds: Record<string, string>;
  history?: { service: string };
  pids: { up: number; servers: number[] };
  notes: string[];
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "natschat-up-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("natschat up", () => {
  it("starts the system, writes up.json, refuses a second up, serves push and tools, stops cleanly", async () => {
    const dir = join(tmp, "a");
    const [port, ws, http] = (await freePorts(3)).map(String) as [string, string, string];
    const { child, output } = await startCli(
      ["up", "--dir", dir, "--port", port, "--ws-port", ws, "--http-port", http],
      /Ctrl-C stops everything/,
    );
    try {
      // every next step it prints works as printed: it names this data dir, not the default one
      const steps = output()
        .split("\n")
        .filter((l) => l.trimStart().startsWith("npx natschat "));
      expect(steps.length).toBeGreaterThan(3);
      for (const step of steps) expect(step, step).toContain(`--dir ${dir}`);
      expect(output()).toContain(`describe ${join(dir, "creds", "admin.creds")}`);
      expect(output()).not.toContain(".natschat/creds");
      const up = JSON.parse(await readFile(join(dir, "up.json"), "utf8")) as UpJson;
      expect(up.client).toBe(`nats://127.0.0.1:${port}`);
      expect(up.websocket).toBe(`ws://127.0.0.1:${ws}`);
      expect(up.monitoring).toBe(`http://127.0.0.1:${http}`);
      expect(Object.keys(up.creds)).toEqual(
        expect.arrayContaining(["bootstrap", "access", "admin", "sys", "history", "history-api"]),
      );
      // both services run, and $SRV lists them
      expect(up.history?.service).toBe("natschat-history");
      const ping = await runCli(["status", "--dir", dir, "--json"]);
      expect(ping.stdout).toContain("natschat-history");
      // the human status has words, not a JSON blob on each service line
      const status = await runCli(["status", "--dir", dir]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain("natschat-access");
      expect(status.stdout).not.toMatch(/[{}"]/);
      expect(up.pids.servers.every(alive)).toBe(true);

      const second = await runCli(["up", "--dir", dir]);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain("already running");

      const push = await runCli(["push", "--dir", dir]);
      expect(push.code, push.stderr).toBe(0);
      expect(push.stdout).toMatch(/CHAT\s+→ n1: ok/);
      expect(push.stdout).toContain("pushed 3 accounts to 1 servers");

      // tools take their server from up.json; the server denies what a role may not do
      const req = await runCli([
        "pub",
        "chat.req.revoke",
        "x",
        "--dir",
        dir,
        "--role",
        "bootstrap",
      ]);
      expect(req.stderr).toMatch(/Permissions Violation/i);
      const ok = await runCli([
        "pub",
        "chat.req.provisioned",
        "x",
        "--dir",
        dir,
        "--role",
        "admin",
      ]);
      expect(ok.code).toBe(0);
      expect(ok.stderr).not.toMatch(/Permissions Violation/i);

      const code = await stopCli(child, "SIGTERM");
      expect(code).toBe(0);
      for (const pid of up.pids.servers)
        expect(alive(pid), `nats-server ${pid} left running`).toBe(false);
      await expect(readFile(join(dir, "up.json"))).rejects.toThrow();
    } finally {
      // after a failed assertion: SIGTERM lets up stop its nats-server (SIGKILL orphaned it)
      await stopCli(child, "SIGTERM", 30_000);
    }
  });

  it("still stops on SIGTERM after its nats-server died (no hang, nothing left behind)", async () => {
    const dir = join(tmp, "c");
    const [port, ws, http, web] = (await freePorts(4)).map(String) as [
      string,
      string,
      string,
      string,
    ];
    const { child } = await startCli(
      ["up", "--dir", dir, "--port", port, "--ws-port", ws, "--http-port", http, "--web-port", web],
      /Ctrl-C stops everything/,
    );
    try {
      const up = JSON.parse(await readFile(join(dir, "up.json"), "utf8")) as UpJson;
      process.kill(up.pids.servers[0] as number, "SIGKILL");
      expect(await stopCli(child, "SIGTERM")).toBe(0);
    } finally {
      await stopCli(child, "SIGKILL");
    }
  });

  it("stops every server on SIGHUP (a closed terminal)", async () => {
    const dir = join(tmp, "d");
    const [port, ws, http, web] = (await freePorts(4)).map(String) as [
      string,
      string,
      string,
      string,
    ];
    const { child } = await startCli(
      ["up", "--dir", dir, "--port", port, "--ws-port", ws, "--http-port", http, "--web-port", web],
      /Ctrl-C stops everything/,
    );
    try {
      const up = JSON.parse(await readFile(join(dir, "up.json"), "utf8")) as UpJson;
      expect(await stopCli(child, "SIGHUP")).toBe(0);
      for (const pid of up.pids.servers)
        expect(alive(pid), `nats-server ${pid} left running`).toBe(false);
    } finally {
      await stopCli(child, "SIGKILL");
    }
  });

  it("falls back from a busy port, or refuses it with --strict-ports", async () => {
    const dir = join(tmp, "b");
    const blocker: Server = createServer();
    const [busy] = await freePorts(1);
    await new Promise<void>((r) => blocker.listen(busy, "127.0.0.1", () => r()));
    try {
      const strict = await runCli(["up", "--dir", dir, "--port", String(busy), "--strict-ports"]);
      expect(strict.code).toBe(1);
      expect(strict.stderr).toContain(`client port ${busy} on 127.0.0.1 is in use`);
      const [ws, http] = (await freePorts(2)).map(String) as [string, string];
      const { child } = await startCli(
        ["up", "--dir", dir, "--port", String(busy), "--ws-port", ws, "--http-port", http],
        /Ctrl-C stops everything/,
      );
      try {
        const up = JSON.parse(await readFile(join(dir, "up.json"), "utf8")) as UpJson;
        expect(up.client).not.toBe(`nats://127.0.0.1:${busy}`);
        expect(up.notes.join(" ")).toContain(`client port ${busy} is busy`);
      } finally {
        expect(await stopCli(child)).toBe(0);
      }
    } finally {
      blocker.close();
    }
  });
});
