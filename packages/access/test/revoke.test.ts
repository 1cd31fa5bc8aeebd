// (e) Revocation on a three-server cluster: only the admin role may ask; the CHAT JWT is re-signed
// and pushed to every server; the server closes the revoked user's live connection (on another
// server than the service's) and refuses to let it back in; the name stays reserved unless
// released.
import { readFile } from "node:fs/promises";
import type { NatsConnection } from "@nats-io/nats-core";
import type { AccessService } from "@natschat/access";
import { register, renew } from "@natschat/client";
import {
  PROVISIONED_UPDATES_SUBJECT,
  parseRegistryChange,
  parseRevokeResult,
  REVOKE_SUBJECT,
  signerFromSeed,
} from "@natschat/protocol";
import { probePublish, startTestStack, type TestStack } from "@natschat/testing";
import { layout, lookupAccountJwt, revocationsOf } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chatOptions,
  connectAs,
  connectUser,
  startService,
  waitForStatus,
  within,
} from "./helpers.ts";

let stack: TestStack;
let svc: AccessService;
let admin: NatsConnection;
let bootstrap: NatsConnection;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  stack = await startTestStack({ topology: "cluster" });
  // the service talks to the first server only; users connect to the last one
  svc = await startService(stack, { servers: [stack.urls[0] as string] });
  closers.push(() => svc.stop());
  admin = await connectAs(stack, "admin");
  bootstrap = await connectAs(stack, "bootstrap");
  closers.push(
    () => admin.close(),
    () => bootstrap.close(),
  );
}, 120_000);

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await stack?.stop();
});

function lastServer(): TestStack {
  return { ...stack, urls: [stack.urls[stack.urls.length - 1] as string] };
}

async function revoke(body: string): Promise<{ body: string; code?: string }> {
  const m = await admin.request(REVOKE_SUBJECT, body, { timeout: 20_000 });
  return { body: m.string(), code: m.headers?.get("Natschat-Error-Code") || undefined };
}

describe("(e) revocation", () => {
  it("a chat user and a bootstrap user cannot call revoke: the server denies it", async () => {
    const user = await register(bootstrap, "someone", chatOptions(stack));
    const nc = await connectUser(stack, user);
    closers.push(() => nc.close());
    expect(await probePublish(nc, REVOKE_SUBJECT)).toBe("denied");
    expect(await probePublish(bootstrap, REVOKE_SUBJECT)).toBe("denied");
    expect(await probePublish(admin, REVOKE_SUBJECT)).toBe("allowed");
    // the registry still lists them: nothing reached the service
    expect(svc.registry.get("someone")?.record.revoked).toBeUndefined();
  });

  it("closes the live connection on every server, blocks reconnect, and keeps the name reserved", async () => {
    const victim = await register(bootstrap, "victim", chatOptions(stack));
    const nc = await connectUser(lastServer(), victim, { maxReconnectAttempts: 2 });
    closers.push(() => nc.close());
    await nc.flush();
    const updates: string[] = [];
    const sub = admin.subscribe(PROVISIONED_UPDATES_SUBJECT, {
      callback: (_e, m) => {
        updates.push(m.string());
      },
    });
    await admin.flush();
    // closed() would only resolve after the reconnect attempts fail: watch the server's error.
    const revokedSeen = waitForStatus(
      nc,
      "the server's 'User Authentication Revoked'",
      (s) => s.type === "error" && /revoked/i.test(String(s.error?.message)),
      20_000,
    );

    const reply = await revoke("victim");
    expect(reply.code).toBeUndefined();
    // the reply is the revoked user and every server's answer, not the registry
    const result = parseRevokeResult(reply.body);
    expect(result.revoked).toEqual({ name: "victim", key: victim.publicKey, released: false });
    expect(result.servers.map((s) => s.ok)).toEqual([true, true, true]);

    await revokedSeen;
    await within(nc.closed(), "the revoked connection to close", 20_000);

    // every server holds the revocation, and so does the data dir for the next `up`
    const sys = await connectAs(stack, "push");
    closers.push(() => sys.close());
    const chat = stack.trust.summary.accounts.CHAT.publicKey;
    for (const url of stack.urls) {
      const one = await connectAs({ ...stack, urls: [url] }, "push");
      const jwt = await lookupAccountJwt(one, chat);
      await one.close();
      expect(revocationsOf(jwt)[victim.publicKey], url).toBeGreaterThan(0);
    }
    const onDisk = (await readFile(layout(stack.dir).jwt("CHAT"), "utf8")).trim();
    expect(revocationsOf(onDisk)[victim.publicKey]).toBeGreaterThan(0);

    // reconnecting with the same creds is refused by the server
    await expect(connectUser(lastServer(), victim)).rejects.toThrow(/revoked|authorization/i);
    await expect(connectUser(stack, victim)).rejects.toThrow(/revoked|authorization/i);

    // the name stays reserved: no renewal for the revoked key, no new key for the name
    const signer = await signerFromSeed(victim.seed);
    await expect(renew(bootstrap, signer, "victim", chatOptions(stack))).rejects.toMatchObject({
      code: "NAME_REVOKED",
      message: 'access for "victim" was revoked by the admin',
    });
    await expect(register(bootstrap, "victim", chatOptions(stack))).rejects.toMatchObject({
      code: "NAME_REVOKED",
    });
    await admin.flush();
    sub.unsubscribe();
    expect(updates.map((u) => parseRegistryChange(u))).toContainEqual({
      op: "revoked",
      user: expect.objectContaining({ name: "victim", key: victim.publicKey, revoked: true }),
    });
    expect(svc.registry.get("victim")?.record).toMatchObject({
      revoked: true,
      key: victim.publicKey,
    });
  });

  it("--release frees the name for a new key, while the old key stays revoked", async () => {
    const old = await register(bootstrap, "temp", chatOptions(stack));
    const reply = await revoke(JSON.stringify({ name: "temp", release: true }));
    expect(reply.code).toBeUndefined();
    expect(parseRevokeResult(reply.body).revoked).toMatchObject({ name: "temp", released: true });
    await svc.registry.caughtUp(svc.registry.revision + 1, 1000);
    const fresh = await register(bootstrap, "temp", chatOptions(stack));
    expect(fresh.publicKey).not.toBe(old.publicKey);
    await expect(connectUser(stack, old)).rejects.toThrow(/revoked|authorization/i);
    const nc = await connectUser(stack, fresh);
    await nc.close();
  });

  it("gives clear errors for unknown names and bad requests", async () => {
    expect(await revoke("nobody")).toEqual({
      code: "NOT_FOUND",
      body: "-ERR 'no user named \"nobody\" is registered'",
    });
    expect(await revoke("{not json")).toMatchObject({ code: "BAD_REQUEST" });
    expect(await revoke('{"name": 5}')).toMatchObject({ code: "BAD_REQUEST" });
    expect(await revoke("bad.name")).toMatchObject({
      code: "NAME_INVALID",
      body: expect.stringMatching(/has '\.'/),
    });
  });
});
