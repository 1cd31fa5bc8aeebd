// A teammate on the LAN (issue 15, point 7): `natschat up --host ADDR --tls` binds every
// listener (nats client, websocket, monitoring, web) to ADDR and serves the web app over https
// with wss, since a browser gives WebCrypto (the user's own Ed25519 key) only to a secure
// context. 127.0.0.2 stands in for a LAN address: it is local, but not where the defaults bind.
// Chromium ignores the certificate error here (a teammate trusts DIR/tls/ca.pem instead); Node
// checks the certificate against the development CA, so it must name 127.0.0.2.
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, startUp, type UpStack } from "./harness.ts";
import { authorOf, joinAs, message, onlineEntry, send, WAIT } from "./pages.ts";

const HOST = "127.0.0.2";
let stack: UpStack;
let browser: Browser;
const contexts: BrowserContext[] = [];

/** GET over https, trusting only the development CA (so the certificate must name the host). */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Whether something accepts TCP connections at host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function teammate(): Promise<Page> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1180, height: 760 },
    reducedMotion: "reduce",
  });
  contexts.push(context);
  return context.newPage();
}

beforeAll(async () => {
  stack = await startUp({ host: HOST, args: ["--tls"] });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await stack?.stop();
}, 60_000);

describe("a teammate on the LAN: up --host ADDR --tls", () => {
  it("binds every listener to the address and prints the https URL to open", async () => {
    expect(stack.web).toMatch(/^https:\/\/127\.0\.0\.2:\d+$/);
    expect(stack.output()).toContain(stack.web);
    expect(stack.up.websocket).toMatch(/^wss:\/\/127\.0\.0\.2:\d+$/);
    for (const url of [stack.web, stack.up.websocket, stack.up.client]) {
      const port = Number(new URL(url).port);
      expect(await accepts(HOST, port), `${url} on ${HOST}`).toBe(true);
      // bound to the address given, not to every interface
      expect(await accepts("127.0.0.1", port), `${url} on 127.0.0.1`).toBe(false);
    }
    const raw = JSON.parse(await readFile(join(stack.dir, "up.json"), "utf8")) as {
      tlsCa?: string;
    };
    const ca = await readFile(raw.tlsCa as string, "utf8");
    const config = await httpsGet(`${stack.web}/config.json`, ca);
    expect(config.status).toBe(200);
    expect((JSON.parse(config.body) as { websocketUrls: string[] }).websocketUrls).toEqual([
      stack.up.websocket,
    ]);
  });

  it("two browsers join over https and wss, and chat", async () => {
    const alice = await teammate();
    await joinAs(alice, stack.web, "alice");
    expect(await alice.evaluate(() => window.isSecureContext)).toBe(true);
    const bob = await teammate();
    await joinAs(bob, stack.web, "bob");
    await onlineEntry(alice, "bob").waitFor({ timeout: WAIT });
    await send(bob, "hello over the LAN, on wss");
    await message(alice, "hello over the LAN, on wss").waitFor({ timeout: WAIT });
    expect(await authorOf(alice, "hello over the LAN, on wss")).toBe("bob");
  });
});
