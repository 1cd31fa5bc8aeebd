// Fault: a rollout of the access service on a cluster whose streams and registry exist (R3), as
// Kubernetes does it. Two replicas (`natschat access` processes) start one after the other; then
// each is stopped (a with kill -9, b with SIGTERM) and started again while the other serves, and
// registrations keep being answered in every phase. Before, a replica started after the
// streams existed retried forever on "insufficient storage resources available", so only the
// first replica ever served, and after a rollout none did. History replicas start on the same
// existing streams, one after the other.
import type { NatsConnection } from "@nats-io/nats-core";
import { silentLogger, withRetries } from "@natschat/access";
import { ensureHistoryStores } from "@natschat/history";
import { startTestHistory, startTestStack, type TestStack } from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AttemptResult,
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
const ARGS = [
  ...["--replicas", "3"],
  ...["--rate-global", "100000/1", "--rate-name", "1000/1", "--rate-key", "1000/1"],
  ...["--rate-address", "0/1", "--quota-address", "0/1"],
];

let stack: TestStack;
let admin: NatsConnection;
const replicas = new Map<string, ReplicaProcess>();
const conns: NatsConnection[] = [];
const results: AttemptResult[] = [];

beforeAll(async () => {
  stack = await startTestStack({ topology: "cluster" });
  [admin] = (await roleConnections(stack, "admin", 1)) as [NatsConnection];
  conns.push(...(await roleConnections(stack, "bootstrap", 2)));
  // the history streams exist too, as on a deployment that ran before (R3, in CHAT)
  const leaf = await connectRole({
    servers: stack.urls,
    credsPath: stack.creds("leaf"),
    inboxOwner: "leaf",
  });
  // retried as the history service's own start-up does: a server of a fresh cluster may not
  // have applied CHAT's JetStream yet ("JetStream not enabled for account", seen in a full run)
  await withRetries(
    "create the history streams",
    silentLogger,
    () => ensureHistoryStores(leaf, { replicas: 3 }),
    (message, cause) => new Error(message, { cause }),
  );
  await leaf.close();
}, 180_000);

afterAll(async () => {
  for (const c of conns) await c.close().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  await Promise.all([...replicas.values()].map((r) => r.kill9()));
  await stack?.stop();
});

function start(replicaId: string): Promise<ReplicaProcess> {
  return startReplica(
    { dir: stack.dir, servers: stack.urls, replicaId, args: ARGS },
    admin,
    90_000,
  );
}

/** Registers `n` new names (each retried with its key while the answer is "unavailable"). */
async function registrations(phase: string, n = 20): Promise<AttemptResult[]> {
  const chat = stack.trust.summary.accounts.CHAT;
  const burst = startBurst({
    conns,
    names: burstNames(`${phase}-`, n),
    inFlight: 2,
    register: { chatAccount: chat.publicKey, chatSigningKeys: chat.signingKeys, timeoutMs: 2000 },
    retryForMs: 45_000,
  });
  const done = await burst.done;
  results.push(...done);
  const failed = done.filter((r) => r.outcome !== "ok");
  expect(failed, `${phase}: ${JSON.stringify(failed.slice(0, 3))}`).toEqual([]);
  return done;
}

describe("fault: rolling the access service on a cluster with existing streams and registry", () => {
  it("replicas start, stop and start again in any order; registrations are answered throughout", async () => {
    replicas.set("a", await start("a"));
    await registrations("a-alone");
    // b starts after the registry and the streams exist
    replicas.set("b", await start("b"));
    expect((await pingReplicas(admin)).sort()).toEqual(["a", "b"]);
    await registrations("both");

    // a dies mid-service; b serves while a starts again
    const servedBefore = await servedByReplica(admin);
    expect(await replicas.get("a")?.kill9()).toBe("SIGKILL");
    await registrations("a-dead");
    const [aAgain] = await Promise.all([start("a"), registrations("a-restarting")]);
    replicas.set("a", aAgain);
    const servedByB = await servedByReplica(admin);
    expect(servedByB.b, "b answered while a was down").toBeGreaterThan(servedBefore.b ?? 0);

    // b stops (SIGTERM drains it); a serves while b starts again
    expect(await replicas.get("b")?.stop()).toBe(0);
    await registrations("b-stopped");
    const [bAgain] = await Promise.all([start("b"), registrations("b-restarting")]);
    replicas.set("b", bAgain);
    expect((await pingReplicas(admin)).sort()).toEqual(["a", "b"]);
    const servedByA = await servedByReplica(admin);
    expect(servedByA.a, "the restarted a answered while b was away").toBeGreaterThan(0);
    await registrations("after");

    const acc = await settleAccounting(admin, results);
    console.log(`access rollout, ${results.length} registrations:\n${formatAccounting(acc)}`);
    expect(acc.failed).toEqual({});
    expect(acc.lost).toEqual([]);
    expect(acc.duplicates).toEqual([]);
    expect(acc.orphans).toEqual([]);
    expect(acc.successes).toBe(results.length);
    expect(acc.registry).toBe(results.length);
  }, 600_000);

  it("history replicas start one after the other on the existing R3 streams, and again", async () => {
    // each start checks the budget and updates the streams in place (the update path the
    // storage error hit): a second while the first runs, and a third after the first stopped
    const h1 = await startTestHistory(stack, { replicas: 3, replicaId: "h1" });
    const h2 = await startTestHistory(stack, { replicas: 3, replicaId: "h2" });
    await h1.stop();
    const h3 = await startTestHistory(stack, { replicas: 3, replicaId: "h3" });
    await Promise.all([h2.stop(), h3.stop()]);
  }, 180_000);
});
