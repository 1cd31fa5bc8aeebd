// The deployment path of the v2 → v3 upgrade (docs/operations.md, "Upgrading from protocol v2"):
// servers hold a v2 CHAT JWT and a chat user is connected; `init` of this release on the trust
// dir, then a push, and the server closes that user's live connection ("User Authentication
// Revoked") and refuses the old bootstrap JWT, while the re-issued bootstrap creds connect.
import { readFile, writeFile } from "node:fs/promises";
import { decode, encodeAccount } from "@nats-io/jwt";
import type { NatsConnection } from "@nats-io/nats-core";
import { fromSeed } from "@nats-io/nkeys";
import { connectChatUser, mintChatUser, startTestStack, type TestStack } from "@natschat/testing";
import {
  connectRole,
  connectWithCreds,
  initTrust,
  layout,
  loadTrust,
  pushAll,
} from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  stack = await startTestStack();
}, 60_000);

afterAll(async () => {
  for (const close of closers) await close().catch(() => undefined);
  await stack?.stop();
});

async function push(): Promise<void> {
  const nc = await connectRole({
    servers: stack.urls,
    credsPath: stack.creds("push"),
    inboxOwner: "push",
  });
  try {
    const { replies } = await pushAll(nc, Object.values((await loadTrust(stack.dir)).accountJwts));
    expect(replies.flat().every((r) => r.ok)).toBe(true);
  } finally {
    await nc.close();
  }
}

/** Resolves with the first error status matching `re`; fails after `ms`. */
function errorSeen(nc: NatsConnection, re: RegExp, ms = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no status matching ${re} in ${ms} ms`)), ms);
    void (async () => {
      for await (const s of nc.status()) {
        const text = s.type === "error" ? String(s.error?.message) : "";
        if (re.test(text)) {
          clearTimeout(timer);
          resolve(text);
          return;
        }
      }
    })();
  });
}

describe("upgrading a live deployment from protocol v2", () => {
  it("init + push closes the v2 users' connections and re-issues the CHAT roles", async () => {
    const p = layout(stack.dir);
    // the servers hold a CHAT JWT as a v2 release wrote it: no history import
    const current = decode<Record<string, unknown>>((await loadTrust(stack.dir)).accountJwts.CHAT);
    const nats = { ...(current.nats as Record<string, unknown>) };
    nats.imports = (nats.imports as { name: string }[]).filter((i) => i.name === "chat-access");
    delete nats.type;
    delete nats.version;
    const opSigning = fromSeed(
      new TextEncoder().encode((await readFile(p.key("operator-signing"), "utf8")).trim()),
    );
    await writeFile(
      p.jwt("CHAT"),
      `${await encodeAccount("CHAT", current.sub as string, nats, { signer: opSigning })}\n`,
    );
    await push();
    const oldBootstrap = await readFile(p.creds("bootstrap"));

    // a user of that release, connected now
    const user = await mintChatUser(stack.dir, "alice");
    const nc = await connectChatUser(stack, user);
    closers.push(() => nc.close());
    await nc.flush();
    const revoked = errorSeen(nc, /revoked/i);

    const report = await initTrust({ dir: stack.dir });
    expect(report.updated).toContain("revoked every CHAT user JWT issued before this upgrade");
    expect(report.updated).toContain("creds bootstrap");
    await push();
    expect(await revoked).toMatch(/User Authentication Revoked/i);

    // the old bootstrap JWT is refused; the re-issued one connects
    await expect(
      connectWithCreds(oldBootstrap, "old bootstrap", {
        servers: stack.urls,
        inboxOwner: "bootstrap",
      }),
    ).rejects.toThrow(/authoriz|revoked/i);
    const boot = await connectRole({
      servers: stack.urls,
      credsPath: p.creds("bootstrap"),
      inboxOwner: "bootstrap",
    });
    await boot.close();
  }, 120_000);
});
