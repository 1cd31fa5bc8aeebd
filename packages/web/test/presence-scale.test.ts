// Issue 12 in the browser: two real pages plus 500 simulated users against a real `natschat up`.
// The online list comes from the directory's presence feed, so each page must count the 500
// simulated users and the other page (501), and a simulated goodbye must bring it to 500.
// The simulated users are real connections with their own keys and signed heartbeats. Their
// registry records are written with the access service's own Registry class (the access role's creds),
// since 500 registrations through chat.req.access from one loopback address would meet the
// per-address limit the access service is meant to enforce.
import type { NatsConnection } from "@nats-io/nats-core";
import { Registry, silentLogger } from "@natschat/access";
import { mintChatUser, type SimulatedUser, simulateUser } from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, it } from "vitest";
import { launchChromium, newContext, startUp, type UpStack } from "./harness.ts";
import { joinAs } from "./pages.ts";

const SIMULATED = 500;
let stack: UpStack;
let browser: Browser;
const conns: NatsConnection[] = [];

beforeAll(async () => {
  stack = await startUp();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
});

/** The count in the page's Online section header. */
async function onlineCount(page: Page): Promise<number> {
  const text = await page.getByRole("region", { name: "Online" }).locator(".count").textContent();
  return Number(text);
}

async function waitForCount(page: Page, n: number, what: string): Promise<void> {
  await page
    .waitForFunction(
      (want) =>
        document.querySelector('section[aria-label="Online"] .count')?.textContent === String(want),
      n,
      { timeout: 60_000 },
    )
    .catch(async (err: unknown) => {
      throw new Error(`${what}: the page counts ${await onlineCount(page)}`, { cause: err });
    });
}

describe("the web UI with 500 simulated users online", () => {
  it("two pages count 501 others online; a goodbye makes it 500", {
    timeout: 300_000,
  }, async () => {
    const access = await connectRole({
      servers: stack.up.client,
      credsPath: stack.up.creds.access as string,
      inboxOwner: "access",
    });
    conns.push(access);
    const registry = await Registry.open(access, { replicas: 1, log: silentLogger });
    await registry.ready;
    const sims: SimulatedUser[] = [];
    const keep = setInterval(() => {
      for (const s of sims) void s.beat().catch(() => undefined);
    }, 10_000);
    try {
      for (let i = 0; i < SIMULATED; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, async (_, j) => {
            const u = await mintChatUser(stack.dir, `sim-${i + j}`);
            const now = new Date();
            await registry.create({
              name: u.name,
              key: u.publicKey,
              issued: now.toISOString(),
              expires: new Date(now.getTime() + 3_600_000).toISOString(),
              jwt: u.jwt,
            });
            const sim = await simulateUser(stack.up.client, u);
            conns.push(sim.nc);
            await sim.beat();
            return sim;
          }),
        );
        sims.push(...batch);
      }
      await registry.stop();
      const pages: Page[] = [];
      for (const name of ["erin", "frank"]) {
        const page = await (await newContext(browser)).context.newPage();
        await joinAs(page, stack.web, name);
        pages.push(page);
      }
      for (const [i, page] of pages.entries()) {
        await waitForCount(page, SIMULATED + 1, `page ${i + 1} to count ${SIMULATED + 1}`);
      }
      await sims.pop()?.beat(true);
      for (const [i, page] of pages.entries()) {
        await waitForCount(page, SIMULATED, `page ${i + 1} to count ${SIMULATED} after a goodbye`);
      }
    } finally {
      clearInterval(keep);
    }
  });
});
