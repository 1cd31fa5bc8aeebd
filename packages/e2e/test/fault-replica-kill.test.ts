// Fault: `kill -9` of one of two access-service replicas in the middle of a registration burst.
// The replicas run as child processes (`natschat access`), so the kill is real: the process dies
// with requests in its hands, no drain. The other replica keeps serving; every client retries
// what went unanswered with the same key. Accounting: every success is in the registry under its
// key, no name was issued twice, nothing was registered without a success.
import type { NatsConnection } from "@nats-io/nats-core";
import { startTestStack, type TestStack } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  burstNames,
  formatAccounting,
  pingReplicas,
  type ReplicaProcess,
  roleConnections,
  servedByReplica,
  settleAccounting,
  startBurst,
  startReplica,
} from "../src/mod.ts";

// every client of this test is on 127.0.0.1: the per-address limit is off
const LIMITS = [
  "--rate-global",
  "100000/1",
  "--rate-name",
  "1000/1",
  "--rate-key",
  "1000/1",
  "--rate-address",
  "0/1",
  "--quota-address",
  "0/1",
];

let stack: TestStack;
let admin: NatsConnection;
const replicas: ReplicaProcess[] = [];
const conns: NatsConnection[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  [admin] = (await roleConnections(stack, "admin", 1)) as [NatsConnection];
  const [a, b] = await Promise.all([
    startReplica({ dir: stack.dir, servers: stack.urls, replicaId: "a", args: LIMITS }, admin),
    startReplica({ dir: stack.dir, servers: stack.urls, replicaId: "b", args: LIMITS }, admin),
  ]);
  replicas.push(a, b);
  conns.push(...(await roleConnections(stack, "bootstrap", 4)));
}, 120_000);

afterAll(async () => {
  for (const c of conns) await c.close().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  await Promise.all(replicas.map((r) => r.kill9()));
  await stack?.stop();
});

describe("fault: kill -9 of one of two access-service replicas mid-burst", () => {
  it("the other replica keeps serving; nothing lost, no name issued twice", async () => {
    const [a, b] = replicas as [ReplicaProcess, ReplicaProcess];
    const chat = stack.trust.summary.accounts.CHAT;
    // 600 names, the first 100 asked for by two keys at once: 700 registrations, 50 in flight
    const names = burstNames("k9-", 600, 100);
    const burst = startBurst({
      conns,
      names,
      inFlight: 50,
      register: { chatAccount: chat.publicKey, chatSigningKeys: chat.signingKeys, timeoutMs: 2000 },
      retryForMs: 30_000,
    });
    await burst.reached(150);
    const before = await servedByReplica(admin);
    expect(before.a, "replica a served part of the burst before the kill").toBeGreaterThan(0);
    expect(before.b, "replica b served part of the burst before the kill").toBeGreaterThan(0);
    const settledAtKill = burst.settled;
    expect(await a.kill9()).toBe("SIGKILL");

    const results = await burst.done;
    const acc = await settleAccounting(admin, results);
    console.log(
      `kill -9 of replica a after ${settledAtKill} of ${names.length}:\n${formatAccounting(acc)}`,
    );
    expect(acc.failed).toEqual({});
    expect(acc.lost).toEqual([]);
    expect(acc.duplicates).toEqual([]);
    expect(acc.orphans).toEqual([]);
    expect(acc.keysTwice).toEqual([]);
    expect(acc.successes).toBe(600);
    expect(acc.taken).toBe(100);
    expect(acc.registry).toBe(600);
    // only b is left, and it did the rest
    expect(await pingReplicas(admin)).toEqual(["b"]);
    const after = await servedByReplica(admin);
    expect(after.b).toBeGreaterThan(before.b ?? 0);
    expect(b.child.exitCode).toBeNull();
  });
});
