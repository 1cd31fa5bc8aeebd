// Page helpers of the browser tests: joining on Welcome, the composer, the message log, the
// sidebar's lists. Each takes the page (and the web URL where it navigates).
import type { Page } from "playwright-core";

/** How long a browser test waits for something to show. */
export const WAIT = 10_000;

/** Registers `name` on the Welcome page and waits for the chat to be connected. */
export async function joinAs(page: Page, web: string, name: string): Promise<void> {
  await page.goto(web);
  await page.getByLabel("Pick a name").fill(name);
  await page.getByRole("button", { name: "Join the chat" }).click();
  await page.getByTestId("me-name").getByText(name, { exact: true }).waitFor({ timeout: WAIT });
  await connected(page);
}

/** Waits for the chat page's connection badge to say connected. */
export async function connected(page: Page): Promise<void> {
  await page.locator('.sidebar output[data-state="connected"]').waitFor({ timeout: WAIT });
}

export function composer(page: Page) {
  return page.getByRole("textbox", { name: /^Message / });
}

export async function send(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press("Enter");
}

/** The message with exactly this text in the open conversation. */
export function message(page: Page, text: string) {
  return page.getByRole("log").locator("p.text").getByText(text, { exact: true });
}

/** The sender name shown above the message with this text. */
export async function authorOf(page: Page, text: string): Promise<string> {
  const group = page
    .getByRole("log")
    .locator("li.group", { has: page.locator("p.text").getByText(text, { exact: true }) });
  return ((await group.locator(".author").textContent()) ?? "").trim();
}

export function onlineEntry(page: Page, name: string) {
  return page
    .getByRole("region", { name: "Online" })
    .getByRole("button", { name: `Message ${name} (online)` });
}

export function channel(page: Page, name: string) {
  return page
    .getByRole("navigation", { name: "Channels" })
    .locator(`[data-conversation="#${name}"]`);
}

/** The DM list's entry for a peer (its accessible name starts "Direct message with NAME"). */
export function dmEntry(page: Page, name: string) {
  return page
    .getByRole("navigation", { name: "Direct messages" })
    .getByRole("button", { name: new RegExp(`^Direct message with ${name}\\b`) });
}
