// The web app over wss in Chromium on the leaf topology with TLS on every listener: a browser on a
// hub server (wss, trusting the development CA through its key hash) and a terminal-side user at
// the edge see each other online and exchange posts; a browser on the edge's websocket (no
// JetStream there) reads the channel history from the hub through the JetStream domain.
import { readFile } from "node:fs/promises";
import { type ChatSession, waitForSnapshot } from "@natschat/client";
import { DEFAULT_CHANNELS } from "@natschat/protocol";
import { spkiSha256, tlsLayout } from "@natschat/server";
import { type RunningWebServer, startWebServer } from "@natschat/web";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatStack, registerAt, sessionAt, startChatStack } from "./multi-region.ts";

const WAIT = 15_000;
let cs: ChatStack;
let web: RunningWebServer;
let edgeWeb: RunningWebServer;
let browser: Browser;

beforeAll(async () => {
  cs = await startChatStack({ topology: "leaf", tls: true });
  const hub = cs.stack.topology.servers[0] as (typeof cs.stack.topology.servers)[0];
  expect(hub.websocketUrl).toMatch(/^wss:\/\//);
  const chat = cs.stack.trust.summary.accounts.CHAT;
  const bootstrapCreds = await readFile(cs.stack.creds("bootstrap"), "utf8");
  const config = (websocketUrl: string) => async () => ({
    websocketUrls: [websocketUrl],
    bootstrapCreds,
    chatAccount: chat.publicKey,
    chatSigningKeys: chat.signingKeys,
    channels: [...DEFAULT_CHANNELS],
  });
  web = await startWebServer({ port: 0, config: config(hub.websocketUrl) });
  const edge = cs.stack.topology.servers.at(-1) as typeof hub;
  expect(edge.spec.jetstream).toBe("none");
  edgeWeb = await startWebServer({ port: 0, config: config(edge.websocketUrl) });
  // the browser trusts the development CA's chain for this run only (no system store change)
  const tls = tlsLayout(cs.stack.dir);
  const pins = [
    spkiSha256(await readFile(tls.cert, "utf8")),
    spkiSha256(await readFile(tls.ca, "utf8")),
  ];
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      `--ignore-certificate-errors-spki-list=${pins.join(",")}`,
    ],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await web?.stop();
  await edgeWeb?.stop();
  await cs?.stop();
}, 60_000);

async function joinAs(page: Page, name: string, at = web): Promise<void> {
  await page.goto(at.url);
  await page.getByLabel("Pick a name").fill(name);
  await page.getByRole("button", { name: "Join the chat" }).click();
  await page.getByTestId("me-name").getByText(name, { exact: true }).waitFor({ timeout: WAIT });
  await page.locator('.sidebar output[data-state="connected"]').waitFor({ timeout: WAIT });
}

describe("web app over wss (leaf topology, TLS)", () => {
  it("a browser on the hub and a user at the edge chat", async () => {
    const page = await (await browser.newContext()).newPage();
    await joinAs(page, "wss-alice");

    const edge = cs.stack.topology.servers.at(-1) as (typeof cs.stack.topology.servers)[0];
    const bob = await registerAt(cs, edge, "edge-bob");
    const sb: ChatSession = await sessionAt(cs, edge, bob);

    await page
      .getByRole("region", { name: "Online" })
      .getByRole("button", { name: "Message edge-bob (online)" })
      .waitFor({ timeout: WAIT });
    await waitForSnapshot(sb, (s) => s.users.some((u) => u.name === "wss-alice" && u.online), {
      timeoutMs: WAIT,
      what: "the edge user to see the browser user online",
    });

    const composer = page.getByRole("textbox", { name: /^Message / });
    await composer.fill("hello from the browser, over wss");
    await composer.press("Enter");
    await waitForSnapshot(
      sb,
      (s) =>
        s.channels.some((c) =>
          c.messages.some(
            (m) => m.text === "hello from the browser, over wss" && m.name === "wss-alice",
          ),
        ),
      { timeoutMs: WAIT, what: "the edge user to receive the browser's post" },
    );
    // the browser shows the first channel, #KUBECON, when it joins
    await sb.send("#KUBECON", "hello from the edge");
    await page
      .getByRole("log")
      .locator("p.text")
      .getByText("hello from the edge", { exact: true })
      .waitFor({ timeout: WAIT });

    // a browser that joins at the edge later gets both posts from the history streams in the hub
    const late = await (await browser.newContext()).newPage();
    await joinAs(late, "edge-carol", edgeWeb);
    const log = late.getByRole("log").locator("p.text");
    for (const text of ["hello from the browser, over wss", "hello from the edge"])
      await log.getByText(text, { exact: true }).waitFor({ timeout: WAIT });
  });
});
