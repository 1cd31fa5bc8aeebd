// Test support for the web app: a real `natschat up` as a subprocess (servers, access service,
// web server), and Debian's chromium driven by playwright-core. Everything is stopped at the end.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePorts } from "@natschat/server";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

export const REPO = fileURLToPath(new URL("../../..", import.meta.url));
export const BIN = join(REPO, "bin", "natschat.js");
export const CHROMIUM = "/usr/bin/chromium";

export interface UpJson {
  client: string;
  websocket: string;
  web?: string;
  creds: Record<string, string>;
  pids: { up: number; servers: number[]; access?: number; web?: number };
}

export interface UpStack {
  dir: string;
  up: UpJson;
  web: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `natschat up` in a temp dir on free ports and waits for "Ctrl-C stops everything". */
export async function startUp(timeoutMs = 150_000): Promise<UpStack> {
  const tmp = await mkdtemp(join(tmpdir(), "natschat-web-"));
  const dir = join(tmp, "data");
  const [port, ws, http, web] = (await freePorts(4)).map(String) as [
    string,
    string,
    string,
    string,
  ];
  const child = spawn(
    process.execPath,
    [
      BIN,
      "up",
      "--dir",
      dir,
      "--port",
      port,
      "--ws-port",
      ws,
      "--http-port",
      http,
      "--web-port",
      web,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(tmp, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`natschat up did not come up in ${timeoutMs} ms:\n${out}`)),
        timeoutMs,
      );
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("Ctrl-C stops everything")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`natschat up exited (${code}) before it was up:\n${out}`));
      });
    });
    const up = JSON.parse(await readFile(join(dir, "up.json"), "utf8")) as UpJson;
    if (!up.web) throw new Error(`up.json has no web URL; output:\n${out}`);
    return { dir, up, web: up.web, output: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Runs a CLI verb to completion. */
export function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Launches headless Debian chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A browser context that records dialogs, page errors and CSP violations (none are expected). */
export async function newContext(
  browser: Browser,
  viewport = { width: 1180, height: 760 },
): Promise<{ context: BrowserContext; dialogs: string[]; errors: string[] }> {
  // Reduced motion: no drawer transition half-way through a screenshot.
  const context = await browser.newContext({
    viewport,
    colorScheme: "light",
    reducedMotion: "reduce",
  });
  const dialogs: string[] = [];
  const errors: string[] = [];
  context.on("page", (page) => {
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on("pageerror", (e) => errors.push(e.message));
    // A Content-Security-Policy violation is logged by the browser as a console error.
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(m.text());
    });
  });
  return { context, dialogs, errors };
}
