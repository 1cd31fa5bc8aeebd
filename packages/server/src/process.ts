// Starts, health-checks and stops nats-server processes.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { ServerLayerError } from "./errors.ts";
import { dialHost } from "./hosts.ts";
import type { ServerSpec } from "./server-config.ts";

const run = promisify(execFile);

/** A nats-server child process we own. */
export interface RunningServer {
  spec: ServerSpec;
  pid: number;
  configPath: string;
  logPath: string;
  /** Client URL (nats:// or tls://). */
  url: string;
  websocketUrl: string;
  monitorUrl: string;
  /** Stops the process: SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

/** Runs `nats-server -t -c FILE`; throws with the server's own message when the config is invalid. */
export async function checkConfig(binary: string, configPath: string): Promise<void> {
  try {
    await run(binary, ["-t", "-c", configPath], { timeout: 20_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new ServerLayerError(
      "CONFIG_INVALID",
      `nats-server rejected ${configPath}: ${(e.stderr || e.message).trim()}`,
    );
  }
}

/**
 * How much of /healthz must pass: "full" (JetStream with its meta leader and every stream and
 * consumer it holds), or "server" (up, with JetStream enabled; the meta group is checked apart).
 */
export type HealthScope = "full" | "server";

/** Polls /healthz until the server reports ok (JetStream included), or throws after timeoutMs. */
export async function waitHealthy(
  monitorUrl: string,
  timeoutMs = 30_000,
  exited?: Promise<unknown>,
  scope: HealthScope = "full",
): Promise<void> {
  const url = `${monitorUrl}/healthz${scope === "server" ? "?js-enabled-only=true" : ""}`;
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void exited?.then(() => {
    dead = true;
  });
  let last = "no answer";
  while (Date.now() < deadline && !dead) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (res.ok) return;
      last = `${res.status} ${body.trim()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ServerLayerError(
    dead ? "SERVER_EXITED" : "SERVER_UNHEALTHY",
    dead
      ? `nats-server exited during start-up (${monitorUrl})`
      : `nats-server at ${monitorUrl} not healthy after ${timeoutMs} ms: ${last}`,
  );
}

function scheme(spec: ServerSpec, plain: string, secure: string): string {
  return spec.tls ? secure : plain;
}

/** The server's own last fatal or error line in its log, without the pid/time prefix. */
async function fatalLine(logPath: string): Promise<string | undefined> {
  const text = await readFile(logPath, "utf8").catch(() => "");
  const lines = text.split("\n").filter((l) => /\[(FTL|ERR)\]/.test(l));
  const last = lines.find((l) => l.includes("[FTL]")) ?? lines.at(-1);
  return last?.replace(/^\[\d+\] [\d/]+ [\d:.]+ /, "").trim();
}

/** Writes the config, starts nats-server on it, and waits for /healthz. */
export async function startServer(opts: {
  binary: string;
  spec: ServerSpec;
  config: string;
  configPath: string;
  logPath: string;
  healthTimeoutMs?: number;
  /** What to wait for before returning (default "full"). */
  health?: HealthScope;
  /** Keep the server running when our process exits (natschat up runs it in the foreground, tests do not). */
  detached?: boolean;
}): Promise<RunningServer> {
  const { spec } = opts;
  await mkdir(dirname(opts.configPath), { recursive: true });
  await mkdir(dirname(opts.logPath), { recursive: true });
  await writeFile(opts.configPath, opts.config, { mode: 0o600 });
  await checkConfig(opts.binary, opts.configPath);
  const log = createWriteStream(opts.logPath, { flags: "a", mode: 0o600 });
  const child: ChildProcess = spawn(opts.binary, ["-c", opts.configPath], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.detached ?? false,
  });
  // two sources share one log: neither may end it; "close" comes after both have drained
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once("close", () => log.end());
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  if (child.pid === undefined)
    throw new ServerLayerError("SERVER_SPAWN", `could not start ${opts.binary}`);
  const host = dialHost(spec.host);
  const server: RunningServer = {
    spec,
    pid: child.pid,
    configPath: opts.configPath,
    logPath: opts.logPath,
    url: `${scheme(spec, "nats", "tls")}://${host}:${spec.ports.client}`,
    websocketUrl: `${scheme(spec, "ws", "wss")}://${host}:${spec.ports.websocket}`,
    monitorUrl: `http://${host}:${spec.ports.http}`,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await waitHealthy(server.monitorUrl, opts.healthTimeoutMs, exited, opts.health);
  } catch (err) {
    await server.stop();
    const reason = await fatalLine(opts.logPath);
    if (reason && err instanceof ServerLayerError)
      throw new ServerLayerError(err.code, `${spec.name}: ${err.message}: ${reason}`);
    throw err;
  }
  return server;
}
