// Fault: the nats-server restarts in the middle of a registration burst. The access service (two
// replicas, in this process) and the bootstrap clients reconnect by themselves; JetStream comes
// back with the registry. Whatever went unanswered is retried with the same key. Accounting:
// every registration that got a success reply is in the registry under its key, no name was
// issued twice, nothing was registered without a success.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  type AccessService,
  DEFAULT_RATE_LIMITS,
  resolveAccessConfig,
  silentLogger,
  startAccessService,
} from "@natschat/access";
import { startTestStack, type TestStack } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  burstNames,
  eventually,
  formatAccounting,
  pingReplicas,
  roleConnections,
  settleAccounting,
  startBurst,
} from "../src/mod.ts";

let stack: TestStack;
let admin: NatsConnection;
const services: AccessService[] = [];
const conns: NatsConnection[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  const base = await resolveAccessConfig({ flags: {}, env: {}, dir: stack.dir });
  for (const id of ["r1", "r2"]) {
    services.push(
      await startAccessService({
        ...base,
        servers: stack.urls,
        replicaId: id,
        rateLimits: {
          global: { rate: 100_000, perSeconds: 1, burst: 100_000 },
          perName: { ...DEFAULT_RATE_LIMITS.perName, rate: 1000, perSeconds: 1, burst: 1000 },
          perKey: { ...DEFAULT_RATE_LIMITS.perKey, rate: 1000, perSeconds: 1, burst: 1000 },
        },
        log: silentLogger,
      }),
    );
  }
  [admin] = (await roleConnections(stack, "admin", 1)) as [NatsConnection];
  conns.push(...(await roleConnections(stack, "bootstrap", 4)));
}, 120_000);

afterAll(async () => {
  for (const c of conns) await c.close().catch(() => undefined);
  await admin?.close().catch(() => undefined);
  for (const s of services) await s.stop().catch(() => undefined);
  await stack?.stop();
});

describe("fault: nats-server restart during a registration burst", () => {
  it("service and clients reconnect; every success is in the registry, no name issued twice", async () => {
    const chat = stack.trust.summary.accounts.CHAT;
    const names = burstNames("rs-", 500, 100);
    const reconnects = conns.map((nc) => {
      const seen = { disconnect: 0, reconnect: 0 };
      void (async () => {
        for await (const s of nc.status()) {
          if (s.type === "disconnect") seen.disconnect++;
          if (s.type === "reconnect") seen.reconnect++;
        }
      })();
      return seen;
    });
    const burst = startBurst({
      conns,
      names,
      inFlight: 50,
      register: { chatAccount: chat.publicKey, chatSigningKeys: chat.signingKeys, timeoutMs: 2000 },
      retryForMs: 45_000,
    });
    await burst.reached(120);
    const settledAtRestart = burst.settled;
    await stack.restart();
    const results = await burst.done;
    const acc = await settleAccounting(admin, results);
    console.log(
      `nats-server restarted after ${settledAtRestart} of ${names.length}:\n${formatAccounting(acc)}`,
    );
    expect(acc.failed).toEqual({});
    expect(acc.lost).toEqual([]);
    expect(acc.duplicates).toEqual([]);
    expect(acc.orphans).toEqual([]);
    expect(acc.keysTwice).toEqual([]);
    expect(acc.successes).toBe(500);
    expect(acc.taken).toBe(100);
    expect(acc.registry).toBe(500);
    // the restart was real: every client connection dropped and came back
    for (const r of reconnects) expect(r).toMatchObject({ disconnect: 1, reconnect: 1 });
    expect(acc.retriedAttempts).toBeGreaterThan(0);
    // both replicas reconnected and still serve, each from an up-to-date registry view
    await eventually(
      async () => (await pingReplicas(admin)).sort().join() === "r1,r2",
      "both replicas to answer $SRV.PING after the restart",
    );
    for (const s of services) {
      expect(s.nc.isClosed()).toBe(false);
      await eventually(() => s.registry.size >= 500, `replica ${s.replicaId} view to hold 500`, {
        describe: () => String(s.registry.size),
      });
    }
  });
});
