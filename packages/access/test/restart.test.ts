// (d) The registry lives in JetStream: restarting the service and the server keeps every name,
// key and revoked mark, and a revoked user stays locked out.
import type { NatsConnection } from "@nats-io/nats-core";
import type { AccessService } from "@natschat/access";
import { type Registration, register } from "@natschat/client";
import { PROVISIONED_SUBJECT, parseRegistryPage, REVOKE_SUBJECT } from "@natschat/protocol";
import { startTestStack, type TestStack } from "@natschat/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { chatOptions, connectAs, connectUser, startService } from "./helpers.ts";

let stack: TestStack;
let svc: AccessService | undefined;
const conns: NatsConnection[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  svc = await startService(stack);
});

afterAll(async () => {
  for (const c of conns) await c.close().catch(() => undefined);
  await svc?.stop().catch(() => undefined);
  await stack?.stop();
});

it("keeps the registry across a restart of the service and the server", async () => {
  let bootstrap = await connectAs(stack, "bootstrap");
  let admin = await connectAs(stack, "admin");
  const users: Registration[] = [];
  for (let i = 0; i < 20; i++)
    users.push(await register(bootstrap, `keeper-${i}`, chatOptions(stack)));
  const revoked = users[0] as Registration;
  const reply = await admin.request(REVOKE_SUBJECT, revoked.name, { timeout: 20_000 });
  expect(reply.headers?.get("Natschat-Error-Code")).toBeUndefined();
  await expect(connectUser(stack, revoked)).rejects.toThrow(/revoked|authorization/i);
  const active = async () =>
    parseRegistryPage((await admin.request(PROVISIONED_SUBJECT, "", { timeout: 5000 })).string())
      .users.filter((u) => !u.revoked)
      .map((u) => [u.name, u.key]);
  const before = await active();
  const recordsBefore = svc?.registry.records();
  expect(before).toHaveLength(19);
  await bootstrap.close();
  await admin.close();

  await svc?.stop();
  svc = undefined;
  await stack.restart();
  svc = await startService(stack);

  expect(svc.registry.records()).toEqual(recordsBefore);
  bootstrap = await connectAs(stack, "bootstrap");
  admin = await connectAs(stack, "admin");
  conns.push(bootstrap, admin);
  expect(await active()).toEqual(before);
  await expect(register(bootstrap, "keeper-5", chatOptions(stack))).rejects.toMatchObject({
    code: "NAME_TAKEN",
  });
  await expect(register(bootstrap, revoked.name, chatOptions(stack))).rejects.toMatchObject({
    code: "NAME_REVOKED",
  });
  // the restarted server still refuses the revoked user, and still admits the others
  await expect(connectUser(stack, revoked)).rejects.toThrow(/revoked|authorization/i);
  const ok = await connectUser(stack, users[1] as Registration);
  await ok.close();
  const fresh = await register(bootstrap, "after-restart", chatOptions(stack));
  // read-your-writes: the replica's view took the name when it wrote it, before replying
  expect(svc.registry.get("after-restart")?.record.key).toBe(fresh.publicKey);
}, 120_000);

it("a running replica rides out a server restart: it reconnects and keeps serving", async () => {
  const running = svc as AccessService;
  await stack.restart();
  // The service reconnects on its own (backoff from 250 ms, up to 10 s): register until it
  // answers. (Waiting for its "reconnect" event instead could miss one that came first.)
  const bootstrap = await connectAs(stack, "bootstrap");
  conns.push(bootstrap);
  let user: Registration | undefined;
  const deadline = Date.now() + 60_000;
  let lastErr: unknown;
  while (!user && Date.now() < deadline) {
    user = await register(bootstrap, "survivor", chatOptions(stack)).catch((err: unknown) => {
      lastErr = err;
      return undefined;
    });
    if (!user) await new Promise((r) => setTimeout(r, 250));
  }
  expect(user, String(lastErr)).toBeDefined();
  // the registry view follows the bucket again after the restart
  expect(await running.registry.caughtUp(running.registry.revision, 5000)).toBe(true);
  const deadline2 = Date.now() + 10_000;
  while (!running.registry.get("survivor") && Date.now() < deadline2) await running.nc.flush();
  expect(running.registry.get("survivor")?.record.key).toBe(user?.publicKey);
}, 120_000);
