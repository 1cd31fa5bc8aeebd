// The web chat end to end, in Debian chromium driven by playwright-core, against a real
// `natschat up` (nats-server, access service, web server): registration with a key made in the
// browser, channel posts, DMs, presence, interop with a terminal-side client, reload with
// history, name errors, HTML shown as text, and an admin revocation that sends the revoked
// user back to Welcome within 2 s. The tests also take screenshots: into a temporary folder,
// or into docs/ (the ones the README shows) with `npm run web:screenshots`.
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { ChatSession, waitForSnapshot } from "@natschat/client";
import { parseCreds } from "@natschat/protocol";
import { mintChatUser, runCli } from "@natschat/testing";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, newContext, REPO, SHOTS, startUp, type UpStack } from "./harness.ts";
import {
  authorOf,
  channel,
  composer,
  joinAs as joinAt,
  message,
  onlineEntry,
  send,
  WAIT,
} from "./pages.ts";

let stack: UpStack;
let browser: Browser;
const contexts: BrowserContext[] = [];
const recorders: { dialogs: string[]; errors: string[] }[] = [];
const dialogs = () => recorders.flatMap((r) => r.dialogs);
const pageErrors = () => recorders.flatMap((r) => r.errors);
let alice: Page;
let bob: Page;
let carol: ChatSession | undefined;

async function openPage(viewport?: { width: number; height: number }): Promise<Page> {
  const c = await newContext(browser, viewport);
  contexts.push(c.context);
  recorders.push(c);
  return c.context.newPage();
}

/** Registers `name` on this stack's Welcome page. */
const joinAs = (page: Page, name: string) => joinAt(page, stack.web, name);

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  stack = await startUp();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await carol?.stop().catch(() => undefined);
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await stack?.stop();
}, 60_000);

describe("web chat in chromium", () => {
  it("serves the app with a strict CSP and a runtime config, and no chunk uses eval", async () => {
    const res = await fetch(stack.web);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).toContain(stack.up.websocket);
    const html = await res.text();
    const config = (await (await fetch(`${stack.web}/config.json`)).json()) as Record<
      string,
      unknown
    >;
    expect(config.websocketUrls).toEqual([stack.up.websocket]);
    expect(String(config.bootstrapCreds)).toContain("NATS USER JWT");
    // The config is the public one: no seed but the bootstrap's own (which is public by design).
    const bootstrap = await parseCreds(String(config.bootstrapCreds));
    expect(bootstrap.claims.name).toBe("bootstrap");
    expect(html).toMatch(/src="\/assets\/[^"]+\.js"/);
    // Every chunk, the lazily loaded ones too: no eval, no Function constructor (CSP-safe).
    const assets = join(REPO, "packages", "web", "dist", "assets");
    const chunks = (await readdir(assets)).filter((f) => f.endsWith(".js"));
    expect(chunks.length).toBeGreaterThan(1);
    for (const f of chunks) {
      expect(await readFile(join(assets, f), "utf8"), f).not.toMatch(/\beval\(|new Function\(/);
    }
  });

  it("two browsers register, see each other online, and exchange a channel post and a DM", async () => {
    alice = await openPage();
    await alice.goto(stack.web);
    await alice.getByLabel("Pick a name").waitFor({ timeout: WAIT });
    await alice.screenshot({ path: join(SHOTS, "web-welcome.png") });
    await joinAs(alice, "alice");
    bob = await openPage();
    await joinAs(bob, "bob");

    await onlineEntry(alice, "bob").waitFor({ timeout: WAIT });
    await onlineEntry(bob, "alice").waitFor({ timeout: WAIT });

    await send(alice, "Hello from alice, over the NATS websocket!");
    await send(alice, "Every message is a JWT signed by its sender's key.");
    await message(bob, "Hello from alice, over the NATS websocket!").waitFor({ timeout: WAIT });
    await message(bob, "Every message is a JWT signed by its sender's key.").waitFor({
      timeout: WAIT,
    });
    expect(await authorOf(bob, "Hello from alice, over the NATS websocket!")).toBe("alice");
    // The input keeps its focus after sending.
    expect(await composer(alice).evaluate((el) => el === document.activeElement)).toBe(true);

    // bob opens a DM with alice from the online list
    await onlineEntry(bob, "alice").click();
    await bob.getByRole("heading", { name: "alice" }).waitFor({ timeout: WAIT });
    await send(bob, "psst, alice: this one is just for you");
    const dmEntry = alice
      .getByRole("navigation", { name: "Direct messages" })
      .getByRole("button", { name: /^Direct message with bob.*1 unread/ });
    await dmEntry.waitFor({ timeout: WAIT });
    await dmEntry.click();
    await message(alice, "psst, alice: this one is just for you").waitFor({ timeout: WAIT });
    expect(await authorOf(alice, "psst, alice: this one is just for you")).toBe("bob");
    await channel(alice, "KUBECON").click();
    await channel(bob, "KUBECON").click();
    // Keyboard: Alt+↓ / Alt+↑ move between conversations, and the input follows.
    await composer(alice).press("Alt+ArrowDown");
    await alice.getByRole("heading", { name: "#NATS" }).waitFor({ timeout: WAIT });
    expect(
      await alice
        .getByRole("textbox", { name: "Message #NATS" })
        .evaluate((el) => el === document.activeElement),
    ).toBe(true);
    await composer(alice).press("Alt+ArrowUp");
    await alice.getByRole("heading", { name: "#KUBECON" }).waitFor({ timeout: WAIT });
  });

  it("chats with a user registered from the terminal (natschat join + the client core)", async () => {
    const credsPath = join(stack.dir, "carol.creds");
    const joined = await runCli(["join", "carol", "--dir", stack.dir, "--out", credsPath]);
    expect(joined.code, joined.stderr).toBe(0);
    const creds = await parseCreds(await readFile(credsPath, "utf8"));
    const trust = JSON.parse(await readFile(join(stack.dir, "trust.json"), "utf8")) as {
      accounts: { CHAT: { publicKey: string; signingKeys: string[] } };
    };
    carol = new ChatSession(
      { jwt: creds.jwt, seed: creds.seed },
      {
        servers: stack.up.client,
        connect,
        chatAccount: trust.accounts.CHAT.publicKey,
        chatSigningKeys: trust.accounts.CHAT.signingKeys,
        name: "natschat-test-carol",
      },
    );
    await carol.start();
    const session = carol;

    await onlineEntry(alice, "carol").waitFor({ timeout: WAIT });
    await waitForSnapshot(session, (s) => s.users.some((u) => u.name === "alice" && u.online), {
      timeoutMs: WAIT,
      what: "alice online in the terminal session",
    });

    await session.send("#KUBECON", "carol here, from the terminal side");
    await message(alice, "carol here, from the terminal side").waitFor({ timeout: WAIT });
    await message(bob, "carol here, from the terminal side").waitFor({ timeout: WAIT });
    expect(await authorOf(bob, "carol here, from the terminal side")).toBe("carol");

    await send(bob, "welcome carol, bob in the browser");
    const got = await waitForSnapshot(
      session,
      (s) =>
        s.channels
          .find((c) => c.id === "#KUBECON")
          ?.messages.some(
            // bob's presence may arrive after his post: the name resolves once it is verified
            (m) => m.text === "welcome carol, bob in the browser" && m.name === "bob",
          ) ?? false,
      { timeoutMs: WAIT, what: "bob's post under his issued name in the terminal session" },
    );
    const m = got.channels
      .find((c) => c.id === "#KUBECON")
      ?.messages.find((x) => x.text === "welcome carol, bob in the browser");
    expect(m?.name).toBe("bob");

    const aliceKey = got.users.find((u) => u.name === "alice")?.key as string;
    await session.send(`@${aliceKey}`, "a DM from the terminal");
    const dm = alice
      .getByRole("navigation", { name: "Direct messages" })
      .getByRole("button", { name: /^Direct message with carol.*1 unread/ });
    await dm.waitFor({ timeout: WAIT });
    await alice.getByRole("region", { name: "Online" }).waitFor();
    await alice.screenshot({ path: join(SHOTS, "web-chat.png") });
  });

  it("follows new messages at the bottom, but leaves a reader who scrolled up in place", async () => {
    const session = carol as ChatSession;
    for (let i = 1; i <= 40; i++) await session.send("#General", `general line ${i}`);
    await channel(alice, "General").click();
    await message(alice, "general line 40").waitFor({ timeout: WAIT });
    const log = alice.getByRole("log");
    const atBottom = () =>
      log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 48);
    await alice.waitForFunction(
      () => {
        const el = document.querySelector('[role="log"]');
        return el !== null && el.scrollHeight - el.scrollTop - el.clientHeight < 48;
      },
      undefined,
      { timeout: WAIT },
    );
    await session.send("#General", "general line 41");
    await message(alice, "general line 41").waitFor({ timeout: WAIT });
    expect(await atBottom()).toBe(true);

    // The reader scrolls up: a new message neither moves the view nor is lost.
    await log.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event("scroll"));
    });
    await session.send("#General", "general line 42");
    await message(alice, "general line 42").waitFor({ state: "attached", timeout: WAIT });
    const jump = alice.getByRole("button", { name: /1 new message/ });
    await jump.waitFor({ timeout: WAIT });
    expect(await log.evaluate((el) => el.scrollTop)).toBe(0);
    await jump.click();
    expect(await atBottom()).toBe(true);
    await channel(alice, "KUBECON").click();
  });

  it("shows a message with HTML in it as text, and no script runs", async () => {
    const evil = "<img src=x onerror=alert(1)>";
    await send(alice, evil);
    await message(bob, evil).waitFor({ timeout: WAIT });
    expect(await bob.getByRole("log").locator("img").count()).toBe(0);
    expect(await bob.evaluate(() => document.querySelectorAll("img[src=x]").length)).toBe(0);
    expect(dialogs()).toEqual([]);
  });

  it("keeps the session across a reload and shows the history", async () => {
    await bob.reload();
    await bob.getByTestId("me-name").getByText("bob", { exact: true }).waitFor({ timeout: WAIT });
    await message(bob, "Hello from alice, over the NATS websocket!").waitFor({ timeout: WAIT });
    await message(bob, "<img src=x onerror=alert(1)>").waitFor({ timeout: WAIT });
    expect(await authorOf(bob, "Hello from alice, over the NATS websocket!")).toBe("alice");
    // DMs come back from history too, under the DM conversation.
    await bob
      .getByRole("navigation", { name: "Direct messages" })
      .getByRole("button", { name: /^Direct message with alice/ })
      .waitFor({ timeout: WAIT });
    await onlineEntry(bob, "alice").waitFor({ timeout: WAIT });
  });

  it("renews an expired saved login: same key, same name, back in the chat", async () => {
    const credsPath = join(stack.dir, "erin.creds");
    const joined = await runCli(["join", "erin", "--dir", stack.dir, "--out", credsPath]);
    expect(joined.code, joined.stderr).toBe(0);
    const issued = await parseCreds(await readFile(credsPath, "utf8"));
    // the same key and name, with a JWT that expired a minute ago
    const expired = await mintChatUser(stack.dir, "erin", -60, issued.seed);
    expect(expired.publicKey).toBe(issued.publicKey);
    const trust = JSON.parse(await readFile(join(stack.dir, "trust.json"), "utf8")) as {
      accounts: { CHAT: { publicKey: string } };
    };
    const storageKey = `natschat:identity:${trust.accounts.CHAT.publicKey}`;
    const page = await openPage();
    await page.goto(stack.web);
    await page.evaluate(
      ([k, v]) => localStorage.setItem(k as string, v as string),
      [storageKey, JSON.stringify({ name: "erin", key: expired.publicKey, creds: expired.creds })],
    );
    await page.reload();
    await page.getByTestId("me-name").getByText("erin", { exact: true }).waitFor({ timeout: WAIT });
    await page.locator('.sidebar output[data-state="connected"]').waitFor({ timeout: WAIT });
    const saved = JSON.parse(
      (await page.evaluate((k) => localStorage.getItem(k), storageKey)) ?? "{}",
    ) as { key?: string; creds?: string };
    expect(saved.key).toBe(issued.publicKey);
    const renewed = await parseCreds(saved.creds ?? "");
    expect(renewed.seed).toBe(issued.seed);
    expect(renewed.expires?.getTime()).toBeGreaterThan(Date.now());
  });

  it("shows a taken name and an invalid name as errors on Welcome", async () => {
    const page = await openPage();
    await page.goto(stack.web);
    await page.getByLabel("Pick a name").fill("alice");
    await page.getByRole("button", { name: "Join the chat" }).click();
    const error = page.getByRole("alert").filter({ hasText: "already taken" });
    await error.waitFor({ timeout: WAIT });
    expect(await error.getAttribute("data-code")).toBe("NAME_TAKEN");

    // an invalid name is explained as it is typed, and Join stays off
    await page.getByLabel("Pick a name").fill("al.ice");
    const invalid = page.getByRole("alert").filter({ hasText: '"."' });
    await invalid.waitFor({ timeout: WAIT });
    expect(await invalid.getAttribute("data-code")).toBe("NAME_INVALID");
    expect(await page.getByLabel("Pick a name").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByRole("button", { name: "Join the chat" }).isDisabled()).toBe(true);
  });

  it("works at phone width: the conversation list is a drawer", async () => {
    const page = await openPage({ width: 375, height: 720 });
    await page.goto(stack.web);
    const credsPath = join(stack.dir, "carol.creds");
    await page.getByLabel("Use a creds file").setInputFiles(credsPath);
    await page.getByRole("log").waitFor({ timeout: WAIT });
    const sidebar = page.locator("#sidebar");
    expect(await sidebar.isVisible()).toBe(false);
    await page.getByRole("button", { name: "Open the conversation list" }).click();
    await sidebar.waitFor({ state: "visible", timeout: WAIT });
    await page.screenshot({ path: join(SHOTS, "web-phone.png") });
    await channel(page, "NATS").click();
    await page.getByRole("heading", { name: "#NATS" }).waitFor({ timeout: WAIT });
    await sidebar.waitFor({ state: "hidden", timeout: WAIT });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth > document.documentElement.clientWidth,
    );
    expect(overflow).toBe(false);
  });

  it("revokes a user from the admin page; the user lands on Welcome within 2 s", async () => {
    const admin = await openPage({ width: 1180, height: 620 });
    await admin.goto(`${stack.web}/admin`);
    // A file that is not creds is refused with a clear message.
    await admin.getByLabel("Admin creds file").setInputFiles({
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("not a creds file"),
    });
    await admin.getByRole("alert").getByText("not a creds file").waitFor({ timeout: WAIT });
    // The admin creds, dropped onto the page.
    const adminCreds = await readFile(stack.up.creds.admin as string, "utf8");
    const transfer = await admin.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], "admin.creds", { type: "text/plain" }));
      return dt;
    }, adminCreds);
    await admin.getByTestId("creds-drop").dispatchEvent("drop", { dataTransfer: transfer });
    const table = admin.getByRole("table", { name: "Registered users" });
    for (const name of ["alice", "bob", "carol"]) {
      await table.locator(`tr[data-user="${name}"]`).waitFor({ timeout: WAIT });
    }
    await table
      .locator('tr[data-user="bob"] td[data-col="online"]')
      .getByText("online", { exact: true })
      .waitFor({ timeout: WAIT });

    await admin.getByRole("button", { name: "Revoke bob" }).click();
    const dialog = admin.getByRole("dialog", { name: "Revoke bob?" });
    await dialog.waitFor({ timeout: WAIT });
    await dialog.getByRole("button", { name: "Revoke bob" }).click();
    // Within 2 s of the confirmation, bob's page shows Welcome with the revoked notice.
    await bob
      .getByTestId("welcome-notice")
      .getByText("Your access has been revoked", { exact: false })
      .waitFor({ timeout: 2000 });
    await bob.getByLabel("Pick a name").waitFor({ timeout: 2000 });
    await table
      .locator('tr[data-user="bob"]')
      .getByText("revoked", { exact: true })
      .waitFor({ timeout: WAIT });
    await admin.getByRole("status").getByText("bob was revoked").waitFor({ timeout: WAIT });
    await admin.screenshot({ path: join(SHOTS, "web-admin.png") });
    // A reload still shows the notice, and the creds are gone from the browser.
    await bob.reload();
    await bob.getByTestId("welcome-notice").waitFor({ timeout: WAIT });
    // A user whose page was closed when revoked lands on Welcome with the notice next time.
    const dave = await openPage();
    await joinAs(dave, "dave");
    const daveContext = dave.context();
    await dave.close();
    await table.locator('tr[data-user="dave"]').waitFor({ timeout: WAIT });
    await admin.getByRole("button", { name: "Revoke dave" }).click();
    await admin
      .getByRole("dialog", { name: "Revoke dave?" })
      .getByRole("button", { name: "Revoke dave" })
      .click();
    await table
      .locator('tr[data-user="dave"]')
      .getByText("revoked", { exact: true })
      .waitFor({ timeout: WAIT });
    const daveAgain = await daveContext.newPage();
    await daveAgain.goto(stack.web);
    await daveAgain
      .getByTestId("welcome-notice")
      .getByText("Your access has been revoked", { exact: false })
      .waitFor({ timeout: WAIT });
    // alice is unaffected.
    await send(alice, "still here after the revocation");
    await message(alice, "still here after the revocation").waitFor({ timeout: WAIT });
    expect(pageErrors()).toEqual([]);
  });
});
