// (c) Two replicas share the load and never issue a name twice: 500 concurrent registrations
// over 250 names give exactly 250 winners, and the registry equals the successes.
import type { NatsConnection } from "@nats-io/nats-core";
import type { AccessService } from "@natschat/access";
import { type Registration, register } from "@natschat/client";
import {
  AccessError,
  encodeRegistryQuery,
  PROVISIONED_SUBJECT,
  parseRegistryPage,
} from "@natschat/protocol";
import { startTestStack, type TestStack } from "@natschat/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { chatOptions, connectAs, startService } from "./helpers.ts";

let stack: TestStack;
let replicas: AccessService[];
const conns: NatsConnection[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  const a = await startService(stack, { replicaId: "a" });
  const b = await startService(stack, { replicaId: "b" });
  replicas = [a, b];
  for (let i = 0; i < 4; i++) conns.push(await connectAs(stack, "bootstrap"));
  conns.push(await connectAs(stack, "admin"));
});

afterAll(async () => {
  for (const c of conns) await c.close().catch(() => undefined);
  for (const r of replicas ?? []) await r.stop().catch(() => undefined);
  await stack?.stop();
});

it("500 concurrent registrations over 250 names across two replicas: 250 winners", async () => {
  const names = Array.from({ length: 250 }, (_, i) => `racer-${i}`);
  const attempts = names.flatMap((n) => [n, n]);
  const opts = { ...chatOptions(stack), timeoutMs: 60_000 };
  const results = await Promise.allSettled(
    attempts.map((name, i) => register(conns[i % 4] as NatsConnection, name, opts)),
  );
  const wins = results
    .filter((r): r is PromiseFulfilledResult<Registration> => r.status === "fulfilled")
    .map((r) => r.value);
  const losses = results
    .filter((r): r is PromiseRejectedResult => r.status === "rejected")
    .map((r) => r.reason as Error);
  expect(losses.filter((e) => !(e instanceof AccessError) || e.code !== "NAME_TAKEN")).toEqual([]);
  expect(wins).toHaveLength(250);
  expect(new Set(wins.map((w) => w.name)).size).toBe(250);
  const expected = Object.fromEntries(wins.map((w) => [w.name, w.publicKey]));

  // The registry as the admin sees it, and as each replica's view holds it, equals the winners.
  const admin = conns[4] as NatsConnection;
  const page = parseRegistryPage(
    (await admin.request(PROVISIONED_SUBJECT, encodeRegistryQuery({ limit: 1000 }))).string(),
  );
  expect(Object.fromEntries(page.users.map((u) => [u.name, u.key]))).toEqual(expected);
  for (const r of replicas) {
    expect(
      await r.registry.caughtUp(Math.max(...replicas.map((x) => x.registry.revision)), 5000),
    ).toBe(true);
    expect(Object.fromEntries(r.registry.records().map((u) => [u.name, u.key]))).toEqual(expected);
  }
  // both replicas did part of the work (one queue group)
  for (const r of replicas) {
    const stats = await r.stats();
    const access = stats.endpoints?.find((e) => e.name === "access");
    expect(access?.num_requests, r.replicaId).toBeGreaterThan(0);
  }
}, 120_000);
