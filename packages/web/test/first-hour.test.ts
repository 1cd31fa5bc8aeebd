// What a new user trips over in the first hour on the web (issue 15), in Debian chromium against
// a real `natschat up`: names that must stay names when their owner is offline, presence that
// says goodbye, the admin page (wrong creds, reload, phone width, role), the way back in after
// a logout, slash commands, name entry, and what chat users expect on day one (links, a safe
// markdown subset, times, a quick switcher, DMs to offline users, the last conversation).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { mintChatUser, runCli } from "@natschat/testing";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, newContext, SHOTS, startUp, type UpStack } from "./harness.ts";
import {
  authorOf,
  channel,
  composer,
  connected,
  dmEntry,
  joinAs,
  message,
  onlineEntry,
  send,
  WAIT,
} from "./pages.ts";

let stack: UpStack;
let browser: Browser;
const contexts: BrowserContext[] = [];
const recorders: { dialogs: string[]; errors: string[] }[] = [];
let alice: Page;
let bob: Page;

async function openContext(viewport?: { width: number; height: number }): Promise<BrowserContext> {
  const c = await newContext(browser, viewport);
  contexts.push(c.context);
  recorders.push(c);
  return c.context;
}

async function openPage(viewport?: { width: number; height: number }): Promise<Page> {
  return (await openContext(viewport)).newPage();
}

/** Writes `text` to a file of the stack's dir (for a file input) and returns its path. */
async function credsFile(name: string, text: string): Promise<string> {
  const path = join(stack.dir, `${name}.creds`);
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

beforeAll(async () => {
  stack = await startUp();
  browser = await launchChromium();
  alice = await openPage();
  await joinAs(alice, stack.web, "alice");
  bob = await openPage();
  await joinAs(bob, stack.web, "bob");
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await stack?.stop();
}, 60_000);

describe("the first hour in the browser", () => {
  it("point 1: bob's DM and posts still show 'bob' after he closed his tab and alice reloads", async () => {
    await onlineEntry(bob, "alice").click();
    await bob.getByRole("heading", { name: "alice" }).waitFor({ timeout: WAIT });
    await send(bob, "bob's DM before he leaves");
    await channel(bob, "KUBECON").click();
    await send(bob, "bob's post before he leaves");
    await message(alice, "bob's post before he leaves").waitFor({ timeout: WAIT });
    await dmEntry(alice, "bob").waitFor({ timeout: WAIT });

    const bobContext = bob.context();
    await bob.close();
    await alice.reload();
    await connected(alice);
    await channel(alice, "KUBECON").click();
    await message(alice, "bob's post before he leaves").waitFor({ timeout: WAIT });
    // the name resolves through the directory (bob is offline: no presence teaches it)
    await alice
      .getByRole("log")
      .locator("li.group", {
        has: alice.locator("p.text").getByText("bob's post before he leaves", { exact: true }),
      })
      .locator(".author")
      .getByText("bob", { exact: true })
      .waitFor({ timeout: WAIT });
    expect(await authorOf(alice, "bob's post before he leaves")).toBe("bob");
    await dmEntry(alice, "bob").click();
    await message(alice, "bob's DM before he leaves").waitFor({ timeout: WAIT });
    expect(await authorOf(alice, "bob's DM before he leaves")).toBe("bob");
    bob = await bobContext.newPage();
    await bob.goto(stack.web);
    await connected(bob);
  });

  it("point 4: a page that closes says goodbye: alice sees bob go offline at once", async () => {
    await onlineEntry(alice, "bob").waitFor({ timeout: WAIT });
    const bobContext = bob.context();
    await bob.close({ runBeforeUnload: true });
    try {
      // Without a goodbye bob would stay online until his presence expires (60 s).
      await onlineEntry(alice, "bob").waitFor({ state: "detached", timeout: WAIT });
    } finally {
      bob = await bobContext.newPage();
      await bob.goto(stack.web);
      await connected(bob);
    }
    await onlineEntry(alice, "bob").waitFor({ timeout: WAIT });
  });

  it("point 4: a revoked user disappears from everyone's online list", async () => {
    const page = await openPage();
    await joinAs(page, stack.web, "mallory");
    await onlineEntry(alice, "mallory").waitFor({ timeout: WAIT });
    const revoked = await runCli(["revoke", "mallory", "--dir", stack.dir]);
    expect(revoked.code, revoked.stderr).toBe(0);
    await page.getByTestId("welcome-notice").waitFor({ timeout: WAIT });
    // Without a word from the service mallory would stay online until his presence expires.
    await onlineEntry(alice, "mallory").waitFor({ state: "detached", timeout: WAIT });
  });

  it("point 5: the admin page refuses a user's creds, keeps the admin's across a reload, and logs out", async () => {
    const admin = await openPage();
    await admin.goto(`${stack.web}/admin`);
    const drop = admin.getByTestId("creds-drop");
    await drop.waitFor({ timeout: WAIT });
    // The hint names the file `up` wrote, not a hidden folder that depends on --dir.
    expect(await drop.textContent()).not.toContain(".natschat/creds/");
    // A chat user's creds (alice's, as the chat page would download them).
    const aliceCreds = await alice.evaluate(() => {
      for (let i = 0; i < localStorage.length; i++) {
        const k = localStorage.key(i) ?? "";
        if (k.startsWith("natschat:identity:")) {
          return (JSON.parse(localStorage.getItem(k) ?? "{}") as { creds: string }).creds;
        }
      }
      return "";
    });
    expect(aliceCreds).toContain("NATS USER JWT");
    await admin
      .getByLabel("Admin creds file")
      .setInputFiles(await credsFile("alice-download", aliceCreds));
    const refusal = admin.getByRole("alert").filter({ hasText: "not an admin creds file" });
    await refusal.waitFor({ timeout: WAIT });
    expect(await admin.locator("body").textContent()).not.toMatch(/Permissions Violation/i);
    // A chat user named "admin" (names like it are reserved now; minted here as an old one).
    const fake = await mintChatUser(stack.dir, "admin");
    await admin.getByLabel("Admin creds file").setInputFiles(await credsFile("fake", fake.creds));
    await refusal.waitFor({ timeout: WAIT });
    expect(await admin.getByText(/Connected as/).count()).toBe(0);

    // The real admin creds: the header says the role, from the creds, not from a name.
    await admin.getByLabel("Admin creds file").setInputFiles(stack.up.creds.admin as string);
    const table = admin.getByRole("table", { name: "Registered users" });
    await table.locator('tr[data-user="alice"]').waitFor({ timeout: WAIT });
    await admin.getByText("ADMIN account").first().waitFor({ timeout: WAIT });
    // A reload keeps them.
    await admin.reload();
    await table.locator('tr[data-user="alice"]').waitFor({ timeout: WAIT });
    // Logging out forgets them, across a reload too.
    await admin.getByRole("button", { name: "Log out" }).click();
    await drop.waitFor({ timeout: WAIT });
    await admin.reload();
    await drop.waitFor({ timeout: WAIT });
    expect(await table.count()).toBe(0);
  });

  it("point 5: at phone width the admin table fits and Revoke is reachable", async () => {
    const admin = await openPage({ width: 390, height: 844 });
    await admin.goto(`${stack.web}/admin`);
    await admin.getByLabel("Admin creds file").setInputFiles(stack.up.creds.admin as string);
    const row = admin.locator('tr[data-user="alice"]');
    await row.waitFor({ timeout: WAIT });
    const overflow = await admin.evaluate(
      () => document.documentElement.scrollWidth > document.documentElement.clientWidth,
    );
    expect(overflow).toBe(false);
    const revoke = admin.getByRole("button", { name: "Revoke alice" });
    const box = await revoke.boundingBox();
    expect(box).not.toBeNull();
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(390);
    await admin.screenshot({ path: join(SHOTS, "web-admin-phone.png") });
    await admin.getByRole("button", { name: "Log out" }).click();
  });

  it("point 6: after logging out, the taken name says how to get back in", async () => {
    const context = await openContext();
    const page = await context.newPage();
    await joinAs(page, stack.web, "erin");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download my creds file" }).click(),
    ]);
    const saved = join(stack.dir, "erin-download.creds");
    await download.saveAs(saved);
    await page.getByRole("button", { name: "Log out" }).click();
    await page
      .getByRole("dialog", { name: "Log out?" })
      .getByRole("button", { name: "Log out" })
      .click();
    await page.getByLabel("Pick a name").fill("erin");
    await page.getByRole("button", { name: "Join the chat" }).click();
    const taken = page.getByRole("alert").filter({ hasText: "already taken" });
    await taken.waitFor({ timeout: WAIT });
    // This browser was erin: it says how to come back, with the file it downloaded.
    expect(await taken.textContent()).toMatch(/creds file/);
    await taken.getByLabel("Use erin's creds file").setInputFiles(saved);
    await page.getByTestId("me-name").getByText("erin", { exact: true }).waitFor({ timeout: WAIT });
  });

  it("point 8: slash commands run in the app and are never posted", async () => {
    await channel(alice, "KUBECON").click();
    await send(alice, "/help");
    const help = alice.getByRole("dialog", { name: "Commands" });
    await help.waitFor({ timeout: WAIT });
    expect(await help.textContent()).toContain("/dm NAME");
    await help.getByRole("button", { name: "Close" }).click();
    await send(alice, "/join #NATS");
    await alice.getByRole("heading", { name: "#NATS" }).waitFor({ timeout: WAIT });
    await send(alice, "/dm bob");
    await alice.getByRole("heading", { name: "bob" }).waitFor({ timeout: WAIT });
    await send(alice, "/me waves at bob");
    await alice.getByRole("log").locator("p.text em").getByText("waves at bob").waitFor({
      timeout: WAIT,
    });
    await send(alice, "/frobnicate");
    await alice.getByRole("alert").filter({ hasText: "/frobnicate is not a command" }).waitFor({
      timeout: WAIT,
    });
    await channel(alice, "KUBECON").click();
    // Nothing of it was posted anywhere bob can see.
    await channel(bob, "KUBECON").click();
    await channel(bob, "NATS").click();
    for (const text of ["/help", "/join #NATS", "/dm bob", "/frobnicate"]) {
      expect(await message(bob, text).count()).toBe(0);
    }
  });

  it("point 10: Join is off while the name is invalid, and the hint reads like a person's", async () => {
    const page = await openPage();
    await page.goto(stack.web);
    const input = page.getByLabel("Pick a name");
    const join = page.getByRole("button", { name: "Join the chat" });
    await input.fill("john smith");
    const hint = page.getByRole("alert");
    await hint.waitFor({ timeout: WAIT });
    expect(await join.isDisabled()).toBe(true);
    const text = (await hint.textContent()) ?? "";
    expect(text).not.toMatch(/use letters|has a space/);
    expect(text).toMatch(/space/i);
    // The first-character rule is checked as one types, before any submit.
    await input.fill("-bob");
    await page
      .getByRole("alert")
      .filter({ hasText: /start with a letter or a digit/i })
      .waitFor({
        timeout: WAIT,
      });
    expect(await join.isDisabled()).toBe(true);
    await input.fill("bob2");
    expect(await join.isDisabled()).toBe(false);
  });

  it("point 9: links, a safe markdown subset, a time on every message", async () => {
    await channel(alice, "General").click();
    await channel(bob, "General").click();
    await send(alice, "see https://nats.io/about and **bold** *italic* `a.b.>` done");
    await send(alice, "```\nnats sub 'chat.>'\n```");
    const hostile =
      '**<img src=x onerror=alert(1)>** [x](javascript:alert(1)) <a href="javascript:alert(2)">y</a> `<b>`';
    await send(alice, hostile);
    const log = bob.getByRole("log");
    const link = log.getByRole("link", { name: "https://nats.io/about" });
    await link.waitFor({ timeout: WAIT });
    expect(await link.getAttribute("href")).toBe("https://nats.io/about");
    expect(await link.getAttribute("rel")).toContain("noopener");
    await log.locator("strong").getByText("bold", { exact: true }).waitFor();
    await log.locator("em").getByText("italic", { exact: true }).waitFor();
    await log.locator("code").getByText("a.b.>", { exact: true }).waitFor();
    await log.locator("pre code").getByText("nats sub 'chat.>'").waitFor();
    await log
      .locator("strong")
      .getByText("<img src=x onerror=alert(1)>")
      .waitFor({ timeout: WAIT });
    expect(await bob.evaluate(() => document.querySelectorAll("img[src=x], b").length)).toBe(0);
    const hrefs = await log
      .locator("a")
      .evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""));
    expect(hrefs.some((h) => /^javascript:/i.test(h))).toBe(false);
    await log.locator(".line", { has: bob.locator('a[href="https://nats.io/about"]') }).hover();
    await bob.screenshot({ path: join(SHOTS, "web-markdown.png") });
    // Every message carries its time (shown on hover): one <time> per message.
    const texts = await log.locator(".text").count();
    expect(texts).toBeGreaterThanOrEqual(3);
    expect(await log.locator("[data-message-id] > time[datetime]").count()).toBe(texts);
    expect(recorders.flatMap((r) => r.dialogs)).toEqual([]);
  });

  it("point 9: Ctrl+K switches, a DM to an offline user arrives later, the last conversation reopens", async () => {
    // bob leaves; alice writes to him anyway, found through the quick switcher
    const bobContext = bob.context();
    await bob.close();
    await composer(alice).press("Control+k");
    const switcher = alice.getByRole("dialog", { name: "Switch to" });
    await switcher.waitFor({ timeout: WAIT });
    await switcher.getByRole("combobox").fill("bo");
    await switcher.getByRole("combobox").press("Enter");
    await alice.getByRole("heading", { name: "bob" }).waitFor({ timeout: WAIT });
    await send(alice, "for when you are back, bob");
    await message(alice, "for when you are back, bob").waitFor({ timeout: WAIT });
    bob = await bobContext.newPage();
    await bob.goto(stack.web);
    await connected(bob);
    await dmEntry(bob, "alice").click();
    await message(bob, "for when you are back, bob").waitFor({ timeout: WAIT });

    // the quick switcher to a channel, then a reload reopens it
    await composer(alice).press("Control+k");
    await switcher.getByRole("combobox").fill("NAT");
    await switcher.getByRole("combobox").press("Enter");
    await alice.getByRole("heading", { name: "#NATS" }).waitFor({ timeout: WAIT });
    await alice.reload();
    await connected(alice);
    await alice.getByRole("heading", { name: "#NATS" }).waitFor({ timeout: WAIT });
    expect(recorders.flatMap((r) => r.errors)).toEqual([]);
  });
});
