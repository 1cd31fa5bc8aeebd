// Test support for the web app: a real `natschat up` as a subprocess (servers, access service,
// web server), and Debian's chromium driven by playwright-core. Everything is stopped at the end.
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePorts } from "@natschat/server";
import { startCli, stopCli } from "@natschat/testing";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

export const REPO = fileURLToPath(new URL("../../..", import.meta.url));
/** Where tests put screenshots: docs/ with `npm run web:screenshots`, else a temp folder. */
export const SHOTS = process.env.NATSCHAT_SCREENSHOTS
  ? resolve(REPO, process.env.NATSCHAT_SCREENSHOTS)
  : join(tmpdir(), "natschat-screenshots");
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

/**
 * Starts `natschat up` in a temp dir on free ports and waits for "Ctrl-C stops everything";
 * `host` is its --host (the ports are found free there), `args` more flags (e.g. --tls).
 */
export async function startUp(
  opts: { host?: string; args?: string[]; timeoutMs?: number } = {},
): Promise<UpStack> {
  await mkdir(SHOTS, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), "natschat-web-"));
  const dir = join(tmp, "data");
  const [port, ws, http, web] = (await freePorts(4, opts.host)).map(String) as [
    string,
    string,
    string,
    string,
  ];
  const { child, output } = await startCli(
    [
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
      ...(opts.host ? ["--host", opts.host] : []),
      ...(opts.args ?? []),
    ],
    /Ctrl-C stops everything/,
    opts.timeoutMs ?? 150_000,
  ).catch(async (err: unknown) => {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  });
  const stop = async () => {
    await stopCli(child, "SIGTERM", 15_000);
    await rm(tmp, { recursive: true, force: true });
  };
  try {
    const up = JSON.parse(await readFile(join(dir, "up.json"), "utf8")) as UpJson;
    if (!up.web) throw new Error(`up.json has no web URL; output:\n${output()}`);
    return { dir, up, web: up.web, output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
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
