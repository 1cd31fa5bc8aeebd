// (d) The registry lives in JetStream: restarting the service and the server keeps every name,
// key and revoked mark, and a revoked user stays locked out.
import type { NatsConnection } from "@nats-io/nats-core";
import type { AccessService } from "@natschat/access";
import { type Registration, register } from "@natschat/client";
import { PROVISIONED_SUBJECT, REVOKE_SUBJECT } from "@natschat/protocol";
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
  for (let i = 0; i < 20; i++) users.push(await register(bootstrap, `keeper-${i}`, chatOptions(stack)));
  const revoked = users[0] as Registration;
  const reply = await admin.request(REVOKE_SUBJECT, revoked.name, { timeout: 20_000 });
  expect(reply.headers?.get("Natschat-Error-Code")).toBeUndefined();
  await expect(connectUser(stack, revoked)).rejects.toThrow(/revoked|authorization/i);
  const before = (await admin.request(PROVISIONED_SUBJECT, "", { timeout: 5000 })).json();
  const recordsBefore = svc?.registry.records();
  expect(Object.keys(before as object)).toHaveLength(19);
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
  expect((await admin.request(PROVISIONED_SUBJECT, "", { timeout: 5000 })).json()).toEqual(before);
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
  expect(svc.registry.get("after-restart")?.record.key).toBe(fresh.publicKey);
}, 120_000);
