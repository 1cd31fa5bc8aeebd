// Issue 13 in the browser: replies and the thread panel, reactions, edits and deletes (and an
// admin's removal), the typing line, mentions with autocomplete, unread counts and the "new
// messages" line, mute, browser notifications, search with paging, and all of it by keyboard.
// Debian chromium (playwright-core) against a real `natschat up` (servers, access service,
// history service, web server); a third user, carol, is a ChatSession in Node for bulk posts.
// One stack for the whole file. The screenshots (thread panel, message events, search) go into
// a temporary folder, or into docs/ with `npm run web:screenshots`.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { ChatSession, waitForSnapshot } from "@natschat/client";
import { parseCreds } from "@natschat/protocol";
import { runCli } from "@natschat/testing";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, newContext, SHOTS, startUp, type UpStack } from "./harness.ts";
import { channel, composer, joinAs, message, onlineEntry, send, WAIT } from "./pages.ts";

/** Typing indicators live 6 s (the relay's ttl); the line must be gone well within this. */
const TYPING_EXPIRY_WAIT = 20_000;

let stack: UpStack;
let browser: Browser;
const contexts: BrowserContext[] = [];
const errors: string[] = [];
let alice: Page;
let bob: Page;
let carol: ChatSession | undefined;
let bobKey = "";

/**
 * Installed in bob's page before any script: records each Notification the app creates (the
 * real constructor still runs: the context has the permission) and lets the test say whether
 * the tab is hidden. Headless Chromium reports every page as visible — checked with another tab
 * in front, a minimized window and a CDP-created foreground target — so visibilityState is the
 * one thing set by hand here.
 */
function notificationSpy(): void {
  const w = window as unknown as {
    Notification: typeof Notification;
    __notes: { title: string; body: string; tag: string }[];
    __setHidden: (hidden: boolean) => void;
  };
  const Real = w.Notification;
  let hidden = false;
  w.__notes = [];
  Object.defineProperty(Document.prototype, "visibilityState", {
    configurable: true,
    get: () => (hidden ? "hidden" : "visible"),
  });
  Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => hidden });
  w.__setHidden = (h: boolean) => {
    hidden = h;
    document.dispatchEvent(new Event("visibilitychange"));
  };
  class Recorded extends Real {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options);
      w.__notes.push({ title, body: options?.body ?? "", tag: options?.tag ?? "" });
    }
  }
  w.Notification = Recorded;
}

async function notes(page: Page): Promise<{ title: string; body: string; tag: string }[]> {
  return page.evaluate(
    () =>
      (window as unknown as { __notes: { title: string; body: string; tag: string }[] }).__notes,
  );
}

async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate(
    (h) => (window as unknown as { __setHidden: (h: boolean) => void }).__setHidden(h),
    hidden,
  );
}

/** The message line (article) whose own text (not a quote) contains `text`, in the pane. */
function line(page: Page, text: string): Locator {
  return page.locator(".messages article", { has: page.locator("p.text", { hasText: text }) });
}

/** The same in the thread panel. */
function threadLine(page: Page, text: string): Locator {
  return page
    .getByRole("complementary", { name: "Thread" })
    .locator("article", { has: page.locator("p.text", { hasText: text }) });
}

/** Runs a message action from its hover toolbar. */
async function act(page: Page, text: string, action: RegExp): Promise<void> {
  const l = line(page, text);
  await l.hover();
  await l.getByRole("button", { name: action }).click();
}

function focusedId(page: Page): Promise<string | null> {
  return page.evaluate(() => document.activeElement?.getAttribute("data-message-id") ?? null);
}

beforeAll(async () => {
  stack = await startUp();
  browser = await launchChromium();
  const a = await newContext(browser);
  const b = await newContext(browser);
  contexts.push(a.context, b.context);
  await b.context.grantPermissions(["notifications"], { origin: stack.web });
  await b.context.addInitScript(notificationSpy);
  for (const c of [a, b])
    c.context.on("page", (p) => p.on("pageerror", (e) => errors.push(e.message)));
  alice = await a.context.newPage();
  await joinAs(alice, stack.web, "alice");
  bob = await b.context.newPage();
  await joinAs(bob, stack.web, "bob");
  await onlineEntry(alice, "bob").waitFor({ timeout: WAIT });
  await onlineEntry(bob, "alice").waitFor({ timeout: WAIT });
  bobKey = await keyOf(alice, "bob");
}, 180_000);

afterAll(async () => {
  await carol?.stop().catch(() => undefined);
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await stack?.stop();
}, 60_000);

/** A user's key, from the online list of `page`. */
async function keyOf(page: Page, name: string): Promise<string> {
  return (await onlineEntry(page, name).getAttribute("data-user")) ?? "";
}

async function startCarol(): Promise<ChatSession> {
  const credsPath = join(stack.dir, "carol.creds");
  const joined = await runCli(["join", "carol", "--dir", stack.dir, "--out", credsPath]);
  expect(joined.code, joined.stderr).toBe(0);
  const creds = await parseCreds(await readFile(credsPath, "utf8"));
  const trust = JSON.parse(await readFile(join(stack.dir, "trust.json"), "utf8")) as {
    accounts: { CHAT: { publicKey: string; signingKeys: string[] } };
  };
  const session = new ChatSession(
    { jwt: creds.jwt, seed: creds.seed },
    {
      servers: stack.up.client,
      connect,
      chatAccount: trust.accounts.CHAT.publicKey,
      chatSigningKeys: trust.accounts.CHAT.signingKeys,
      name: "natschat-test-carol",
    },
  );
  await session.start();
  return session;
}

describe("message events in chromium", () => {
  it("replies show a quote in the channel; the thread panel lists them, live ones too", async () => {
    // The notifications offer waits for a first message of one's own.
    expect(await alice.getByRole("button", { name: "Enable notifications" }).count()).toBe(0);
    await send(alice, "Which port does a leaf node listen on?");
    await alice.getByRole("button", { name: "Enable notifications" }).waitFor({ timeout: WAIT });
    await alice.getByRole("button", { name: "Not now" }).click();
    await alice
      .getByRole("button", { name: "Enable notifications" })
      .waitFor({ state: "detached" });

    await message(bob, "Which port does a leaf node listen on?").waitFor({ timeout: WAIT });
    await act(bob, "Which port does a leaf node", /^Reply/);
    await bob.getByRole("status").filter({ hasText: "Replying to alice" }).waitFor();
    await send(bob, "7422 by default");
    const reply = line(alice, "7422 by default");
    await reply.waitFor({ timeout: WAIT });
    expect(await reply.locator(".reply-quote").textContent()).toContain(
      "alice Which port does a leaf node listen on?",
    );
    await line(alice, "Which port does a leaf node")
      .getByRole("button", { name: "1 reply" })
      .click();
    const panel = alice.getByRole("complementary", { name: "Thread" });
    await threadLine(alice, "7422 by default").waitFor({ timeout: WAIT });
    await threadLine(alice, "Which port does a leaf node").waitFor({ timeout: WAIT });

    // A reply from the panel's input reaches the channel (with its quote) and the root's count.
    await panel
      .getByRole("textbox", { name: "Reply in thread" })
      .fill("thanks, and 7422 for TLS too");
    await panel.getByRole("textbox", { name: "Reply in thread" }).press("Enter");
    await line(bob, "thanks, and 7422 for TLS too")
      .locator(".reply-quote")
      .waitFor({ timeout: WAIT });
    await line(bob, "Which port does a leaf node")
      .getByRole("button", { name: "2 replies" })
      .waitFor({ timeout: WAIT });
    // bob answers from his own thread panel: it joins alice's open panel live.
    await line(bob, "Which port does a leaf node")
      .getByRole("button", { name: "2 replies" })
      .click();
    const bobPanel = bob.getByRole("complementary", { name: "Thread" });
    await bobPanel.getByRole("textbox", { name: "Reply in thread" }).fill("yes, same port");
    await bobPanel.getByRole("textbox", { name: "Reply in thread" }).press("Enter");
    await threadLine(alice, "yes, same port").waitFor({ timeout: WAIT });
    expect(await panel.locator("article").count()).toBe(4);
    await alice.mouse.move(600, 600); // no hover toolbar in the picture
    await alice.screenshot({ path: join(SHOTS, "web-thread.png") });
    await panel.getByRole("button", { name: "Close the thread" }).click();
    await bobPanel.getByRole("textbox", { name: "Reply in thread" }).press("Escape");
    await bobPanel.waitFor({ state: "detached" });
  });

  it("a reaction toggles the reader's own, with the count and who reacted", async () => {
    const root = "Which port does a leaf node";
    await act(bob, root, /^React/);
    await bob
      .getByRole("toolbar", { name: "Pick a reaction" })
      .getByRole("button", { name: "React 👍" })
      .click();
    const bobChip = line(bob, root).locator("button.reaction", { hasText: "👍" });
    await bobChip.waitFor({ timeout: WAIT });
    expect(await bobChip.getAttribute("aria-pressed")).toBe("true");

    const aliceChip = line(alice, root).locator("button.reaction", { hasText: "👍" });
    await aliceChip.waitFor({ timeout: WAIT });
    expect(await aliceChip.getAttribute("aria-label")).toBe("👍 1: bob");
    expect(await aliceChip.getAttribute("aria-pressed")).toBe("false");
    await aliceChip.click();
    await line(alice, root)
      .getByRole("button", { name: /^👍 2: / })
      .waitFor({ timeout: WAIT });
    expect(await aliceChip.getAttribute("aria-pressed")).toBe("true");
    expect(await aliceChip.getAttribute("title")).toMatch(/alice/);
    await line(bob, root)
      .getByRole("button", { name: /^👍 2: / })
      .waitFor({ timeout: WAIT });
    // a second click takes alice's back
    await aliceChip.click();
    await line(bob, root).getByRole("button", { name: "👍 1: bob" }).waitFor({ timeout: WAIT });
    await line(alice, root).getByRole("button", { name: "👍 1: bob" }).waitFor({ timeout: WAIT });
    expect(await aliceChip.getAttribute("aria-pressed")).toBe("false");
  });

  it("an edit shows '(edited)' to the other user; a delete and an admin's removal leave tombstones", async () => {
    await send(alice, "the monitoring port is 8223");
    await line(bob, "the monitoring port is 8223").waitFor({ timeout: WAIT });
    await act(alice, "the monitoring port is 8223", /^Edit/);
    const box = alice.getByRole("textbox", { name: "Edit message" });
    await box.fill("the monitoring port is 8222");
    await box.press("Enter");
    const edited = line(bob, "the monitoring port is 8222");
    await edited.locator(".edited").waitFor({ timeout: WAIT });
    expect(await edited.locator("p.text").textContent()).toBe(
      "the monitoring port is 8222 (edited)",
    );
    expect(await line(bob, "8223").count()).toBe(0);
    // bob may not edit or delete alice's message: no such actions on it
    await line(bob, "the monitoring port is 8222").hover();
    expect(
      await line(bob, "the monitoring port is 8222").getByRole("button", { name: /^Edit/ }).count(),
    ).toBe(0);

    await send(alice, "oops, that was for another channel");
    await line(bob, "oops, that was for another channel").waitFor({ timeout: WAIT });
    const id = await line(bob, "oops, that was for another channel").getAttribute(
      "data-message-id",
    );
    await act(alice, "oops, that was for another channel", /^Delete/);
    const dialog = alice.getByRole("dialog", { name: "Delete this message?" });
    await dialog.getByRole("button", { name: "Delete" }).click();
    const gone = bob.locator(`.messages article[data-message-id="${id}"]`);
    await gone.getByText("message deleted", { exact: true }).waitFor({ timeout: WAIT });
    expect(await bob.getByText("oops, that was for another channel").count()).toBe(0);

    // An admin removes bob's message with the CLI; both see "removed by an admin".
    await send(bob, "buy cheap nats at example.com");
    const spam = line(alice, "buy cheap nats");
    await spam.waitFor({ timeout: WAIT });
    const spamId = (await spam.getAttribute("data-message-id")) ?? "";
    const removed = await runCli(["moderate", "remove", spamId, "--dir", stack.dir]);
    expect(removed.code, removed.stderr).toBe(0);
    await alice
      .locator(`.messages article[data-message-id="${spamId}"]`)
      .getByText("removed by an admin", { exact: true })
      .waitFor({ timeout: WAIT });
    await bob
      .locator(`.messages article[data-message-id="${spamId}"]`)
      .getByText("removed by an admin", { exact: true })
      .waitFor({ timeout: WAIT });
  });

  it("shows who is typing, and the line goes away by itself", async () => {
    await composer(bob).pressSequentially("I am writing a long", { delay: 20 });
    const typing = alice.locator(".typing-line");
    await typing.getByText("bob is typing…", { exact: true }).waitFor({ timeout: WAIT });
    // bob stops without sending: the indicator expires on its own
    await alice.waitForFunction(
      () => document.querySelector(".typing-line")?.textContent === "",
      undefined,
      { timeout: TYPING_EXPIRY_WAIT },
    );
    await composer(bob).fill("");
  });

  it("@ autocompletes a name; the mention is highlighted for the one mentioned", async () => {
    await composer(alice).pressSequentially("ping @bo");
    const people = alice.getByRole("listbox", { name: "People" });
    await people.getByRole("option", { name: "@bob" }).waitFor({ timeout: WAIT });
    await composer(alice).press("Enter");
    expect(await composer(alice).inputValue()).toBe("ping @bob ");
    await composer(alice).pressSequentially("the leaf docs are up");
    await composer(alice).press("Enter");
    const mention = line(bob, "the leaf docs are up");
    await mention.waitFor({ timeout: WAIT });
    expect(await mention.getAttribute("class")).toContain("mentions-me");
    const chip = mention.locator(".mention.self");
    expect(await chip.textContent()).toBe("@bob");
    // the chip comes from the key stored in the message, not from the typed name
    expect(await chip.getAttribute("title")).toBe(bobKey);
    expect(bobKey).toMatch(/^U[A-Z2-7]{55}$/);
    // for alice it is a mention, not one of hers
    expect(await line(alice, "the leaf docs are up").locator(".mention:not(.self)").count()).toBe(
      1,
    );
    await bob.mouse.move(600, 700); // no hover toolbar in the picture
    await bob.screenshot({ path: join(SHOTS, "web-events.png") });
  });

  it("counts unread messages and mentions, and marks where the new messages start", async () => {
    await channel(bob, "NATS").click();
    await bob.getByRole("heading", { name: "#NATS" }).waitFor({ timeout: WAIT });
    await send(alice, "unread one");
    await send(alice, "unread two, for @bob ");
    await channel(bob, "KUBECON")
      .and(bob.getByRole("button", { name: /2 unread, 1 mentioning you/ }))
      .waitFor({ timeout: WAIT });
    await channel(bob, "KUBECON").click();
    const group = bob.locator("li.group", {
      has: bob.locator("p.text", { hasText: "unread one" }),
    });
    await group.locator(".unread-separator").getByText("New messages").waitFor({ timeout: WAIT });
    expect(await bob.locator(".unread-separator").count()).toBe(1);
    // read now: away and back, the line is gone
    await channel(bob, "NATS").click();
    await bob.getByRole("heading", { name: "#NATS" }).waitFor({ timeout: WAIT });
    await channel(bob, "KUBECON").click();
    await line(bob, "unread two").waitFor({ timeout: WAIT });
    expect(await bob.locator(".unread-separator").count()).toBe(0);
    // read on one device, read on the other: a reload (a new session) has nothing unread
    await bob.reload();
    await bob.getByRole("heading", { name: "#KUBECON" }).waitFor({ timeout: WAIT });
    await line(bob, "unread two").waitFor({ timeout: WAIT });
    expect(await channel(bob, "KUBECON").getAttribute("aria-label")).toBe("Channel KUBECON");
  });

  it("notifies a mention or a DM while the tab is hidden; never while visible or muted", async () => {
    // visible: the message shows, no notification
    await send(alice, "@bob visible mention");
    await line(bob, "visible mention").waitFor({ timeout: WAIT });
    // hidden: a mention notifies
    await setHidden(bob, true);
    await send(alice, "@bob hidden mention");
    await bob.waitForFunction(
      () =>
        (window as unknown as { __notes: { body: string }[] }).__notes.some((n) =>
          n.body.includes("hidden mention"),
        ),
      undefined,
      { timeout: WAIT },
    );
    // muted #NATS: a mention there is counted but does not notify
    await setHidden(bob, false);
    await channel(bob, "NATS").click();
    await bob.getByRole("button", { name: "Mute #NATS" }).click();
    await channel(bob, "NATS")
      .and(bob.getByRole("button", { name: /muted/ }))
      .waitFor({ timeout: WAIT });
    await channel(bob, "KUBECON").click();
    await setHidden(bob, true);
    await channel(alice, "NATS").click();
    await send(alice, "@bob muted mention");
    await channel(bob, "NATS")
      .and(bob.getByRole("button", { name: /1 unread.*muted/ }))
      .waitFor({ timeout: WAIT });
    // a DM notifies: it comes after the muted mention, which therefore had its chance
    await onlineEntry(alice, "bob").click();
    await send(alice, "a direct question for you");
    await bob.waitForFunction(
      () =>
        (window as unknown as { __notes: { body: string }[] }).__notes.some((n) =>
          n.body.includes("a direct question"),
        ),
      undefined,
      { timeout: WAIT },
    );
    const got = await notes(bob);
    expect(got.map((n) => n.body)).toEqual([
      expect.stringContaining("hidden mention"),
      "a direct question for you",
    ]);
    expect(got[0]?.title).toBe("alice in #KUBECON");
    expect(got[1]?.title).toBe("alice");
    await setHidden(bob, false);
    // the mute is kept by the service: a reload still has it
    await bob.reload();
    await channel(bob, "NATS").click();
    await bob.getByRole("button", { name: "Mute #NATS", pressed: true }).waitFor({ timeout: WAIT });
    await channel(alice, "KUBECON").click();
  });

  it("searches channels and own DMs, newest first, with a 'More results' page", async () => {
    carol = await startCarol();
    const total = 60;
    for (let i = 1; i <= total; i++) await carol.send("#General", `needle number ${i}`);
    // search reads what is stored: wait for the writer's acks, not only for live delivery
    const session = carol;
    await waitForSnapshot(session, () => session.unsaved === 0, {
      timeoutMs: 30_000,
      what: "carol's posts stored",
    });
    await channel(alice, "General").click();
    await message(alice, `needle number ${total}`).waitFor({ timeout: WAIT });
    await channel(alice, "KUBECON").click();
    await alice.getByRole("searchbox", { name: "Search messages" }).fill("NEEDLE");
    await alice.getByRole("searchbox", { name: "Search messages" }).press("Enter");
    const results = alice.getByRole("complementary", { name: "Search results" });
    const hits = results.locator(".search-hit");
    await hits.first().waitFor({ timeout: WAIT });
    expect(await hits.first().textContent()).toContain("needle number");
    const first = await hits.count();
    expect(first).toBeLessThan(total);
    await alice.screenshot({ path: join(SHOTS, "web-search.png") });
    // page on until the end: each page shows "More results" or, at the end, "No more results."
    const more = results.getByRole("button", { name: "More results" });
    const end = results.getByText("No more results.");
    let pages = 1;
    for (;;) {
      await more.or(end).waitFor({ timeout: WAIT });
      if (await end.isVisible()) break;
      await more.click();
      pages++;
    }
    expect(pages).toBeGreaterThan(1);
    const texts = await hits.locator("p.text").allTextContents();
    // every post once, across the pages (newest first is in stored order: the writer may store
    // a retried post after a later one, so the order is the service's, tested in history)
    expect(texts).toHaveLength(total);
    expect([...texts].sort()).toEqual(
      Array.from({ length: total }, (_, i) => `needle number ${i + 1}`).sort(),
    );
    // a result opens its conversation with the message focused
    await hits
      .filter({ hasText: `needle number ${total - 1}` })
      .first()
      .click();
    await alice.getByRole("heading", { name: "#General" }).waitFor({ timeout: WAIT });
    await alice.waitForFunction(
      () => document.activeElement?.textContent?.includes("needle number 59") ?? false,
      undefined,
      { timeout: WAIT },
    );
    await results.getByRole("button", { name: "Close the search results" }).click();
    await channel(alice, "KUBECON").click();
    // the same from the composer: /search opens the results, /mute and /unmute flip the bell
    await send(alice, "/search needle number 42");
    await results.locator(".search-hit").first().waitFor({ timeout: WAIT });
    expect(await results.locator(".search-hit p.text").allTextContents()).toEqual([
      "needle number 42",
    ]);
    await results.getByRole("button", { name: "Close the search results" }).click();
    await send(alice, "/mute");
    await alice
      .getByRole("button", { name: "Mute #KUBECON", pressed: true })
      .waitFor({ timeout: WAIT });
    await send(alice, "/unmute #KUBECON");
    await alice
      .getByRole("button", { name: "Mute #KUBECON", pressed: false })
      .waitFor({ timeout: WAIT });
  });

  it("works by keyboard alone: messages, react, reply, thread, edit, delete, help", async () => {
    await channel(bob, "KUBECON").click();
    await composer(alice).focus();
    await composer(alice).press("ArrowUp");
    const last = await focusedId(alice);
    expect(last).not.toBeNull();
    await alice.keyboard.press("ArrowUp");
    const previous = await focusedId(alice);
    expect(previous).not.toBe(last);
    await alice.keyboard.press("ArrowDown");
    expect(await focusedId(alice)).toBe(last);
    const row = alice.locator(`.messages article[data-message-id="${last}"]`);
    // + opens the picker; → then Enter picks the second emoji
    await alice.keyboard.press("+");
    await alice.keyboard.press("ArrowRight");
    await alice.keyboard.press("Enter");
    await row.getByRole("button", { name: /^❤️ 1: alice/ }).waitFor({ timeout: WAIT });
    expect(await focusedId(alice)).toBe(last);
    // r replies: the input gets the focus with the quote above it
    await alice.keyboard.press("r");
    await alice.getByRole("status").filter({ hasText: "Replying to" }).waitFor();
    await alice.keyboard.type("answered by keyboard");
    await alice.keyboard.press("Enter");
    await line(bob, "answered by keyboard").locator(".reply-quote").waitFor({ timeout: WAIT });
    // t opens the thread with the focus in its input; Escape closes it and returns
    await composer(alice).press("ArrowUp");
    await alice.keyboard.press("t");
    const panel = alice.getByRole("complementary", { name: "Thread" });
    await threadLine(alice, "answered by keyboard").waitFor({ timeout: WAIT });
    expect(
      await panel
        .getByRole("textbox", { name: "Reply in thread" })
        .evaluate((el) => el === document.activeElement),
    ).toBe(true);
    await alice.keyboard.press("Escape");
    await panel.waitFor({ state: "detached" });
    expect(await composer(alice).evaluate((el) => el === document.activeElement)).toBe(true);
    // e edits one's own message, Delete deletes it (the dialog by keyboard too)
    await composer(alice).press("ArrowUp");
    await alice.keyboard.press("e");
    await alice.keyboard.press("End");
    await alice.keyboard.type(" (fixed)");
    await alice.keyboard.press("Enter");
    await line(bob, "answered by keyboard (fixed)").locator(".edited").waitFor({ timeout: WAIT });
    const editedId = await focusedId(alice);
    await alice.keyboard.press("Delete");
    const dialog = alice.getByRole("dialog", { name: "Delete this message?" });
    await dialog.waitFor();
    await alice.keyboard.press("Tab");
    await alice.keyboard.press("Enter");
    await bob
      .locator(`.messages article[data-message-id="${editedId}"]`)
      .getByText("message deleted")
      .waitFor({ timeout: WAIT });
    // the help lists the message keys
    await composer(alice).fill("/help");
    await composer(alice).press("Enter");
    const help = alice.getByRole("dialog", { name: "Commands" });
    await help.getByText("reply to the message").waitFor({ timeout: WAIT });
    await alice.keyboard.press("Escape");
    expect(errors).toEqual([]);
  });

  it("at phone width the thread panel covers the pane, and nothing overflows", async () => {
    await bob.setViewportSize({ width: 375, height: 720 });
    await line(bob, "Which port does a leaf node")
      .getByRole("button", { name: /replies/ })
      .click();
    const panel = bob.getByRole("complementary", { name: "Thread" });
    await threadLine(bob, "7422 by default").waitFor({ timeout: WAIT });
    const box = await panel.boundingBox();
    expect(box?.x).toBe(0);
    expect(box?.width).toBe(375);
    const overflow = await bob.evaluate(
      () => document.documentElement.scrollWidth > document.documentElement.clientWidth,
    );
    expect(overflow).toBe(false);
    await bob.screenshot({ path: join(SHOTS, "web-thread-phone.png") });
    await panel.getByRole("button", { name: "Close the thread" }).click();
    await bob.setViewportSize({ width: 1180, height: 760 });
  });
});
