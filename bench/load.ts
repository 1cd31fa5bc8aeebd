// Load: 5,000 registrations with 200 in flight across two access-service replicas, each in its
// own process (`natschat access`, as Kubernetes runs them), on one nats-server. 4,500 names, of
// which 500 are claimed by two keys at once, so the "no name issued twice" check is exercised.
// It prints the accounting: every success must be in the registry under its key, no name may be
// issued twice, nothing may be registered without a success, and the registry count must equal
// the successes (exit status 1 if any of that fails). Figures (rate, latency, each replica's
// share) are printed, never judged. Run: npm run bench:load. Env: LOAD_REQUESTS (5000),
// LOAD_CONTESTED (500), LOAD_IN_FLIGHT (200), LOAD_CONNECTIONS (8).
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { SERVICE_NAME } from "@natschat/access";
import {
  burstNames,
  formatAccounting,
  type ReplicaProcess,
  servedByReplica,
  settleAccounting,
  startBurst,
  startReplica,
} from "@natschat/e2e";
import { startTestStack } from "@natschat/testing";
import { connectRole } from "@natschat/trust";

const REQUESTS = Number(process.env.LOAD_REQUESTS ?? 5000);
const CONTESTED = Number(process.env.LOAD_CONTESTED ?? 500);
const IN_FLIGHT = Number(process.env.LOAD_IN_FLIGHT ?? 200);
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 8);
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

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Each replica's own registry count, from $SRV.STATS (the access endpoint's data). */
async function registeredByReplica(admin: NatsConnection): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const client = new Svcm(admin).client({ strategy: "stall", stall: 150, maxWait: 1500 });
  for await (const s of await client.stats(SERVICE_NAME)) {
    const data = s.endpoints?.find((e) => e.name === "access")?.data as
      | { registered?: number }
      | undefined;
    out[s.metadata?.replica ?? s.id] = data?.registered ?? -1;
  }
  return out;
}

async function main(): Promise<number> {
  const unique = REQUESTS - CONTESTED;
  console.log(
    `load: ${REQUESTS} registrations (${unique} names, ${CONTESTED} of them claimed by two keys), ${IN_FLIGHT} in flight, ${CONNECTIONS} client connections, two replicas`,
  );
  const stack = await startTestStack();
  const replicas: ReplicaProcess[] = [];
  const conns: NatsConnection[] = [];
  try {
    const admin = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("admin"),
      inboxOwner: "admin",
    });
    conns.push(admin);
    replicas.push(
      ...(await Promise.all([
        startReplica(
          {
            dir: stack.dir,
            servers: stack.urls,
            replicaId: "r1",
            args: [...LIMITS, "--log-level", "warn"],
          },
          admin,
        ),
        startReplica(
          {
            dir: stack.dir,
            servers: stack.urls,
            replicaId: "r2",
            args: [...LIMITS, "--log-level", "warn"],
          },
          admin,
        ),
      ])),
    );
    for (let i = 0; i < CONNECTIONS; i++) {
      conns.push(
        await connectRole({
          servers: stack.urls,
          credsPath: stack.creds("bootstrap"),
          inboxOwner: "bootstrap",
        }),
      );
    }
    const chat = stack.trust.summary.accounts.CHAT;
    const started = performance.now();
    const burst = startBurst({
      conns: conns.slice(1),
      names: burstNames("load-", unique, CONTESTED),
      inFlight: IN_FLIGHT,
      register: {
        chatAccount: chat.publicKey,
        chatSigningKeys: chat.signingKeys,
        timeoutMs: 30_000,
      },
      retryForMs: 60_000,
    });
    const results = await burst.done;
    const wallMs = performance.now() - started;
    const acc = await settleAccounting(admin, results);
    const served = await servedByReplica(admin);
    const views = await registeredByReplica(admin);
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);

    console.log(`\n${formatAccounting(acc)}`);
    console.log(
      `each replica's registry view: ${Object.entries(views)
        .map(([id, n]) => `${id} ${n}`)
        .join(", ")}`,
    );
    console.log(
      `requests served: ${Object.entries(served)
        .map(([id, n]) => `${id} ${n}`)
        .join(", ")}`,
    );
    console.log(
      `\n${(results.length / (wallMs / 1000)).toFixed(0)} registrations/s over ${(wallMs / 1000).toFixed(2)} s; ` +
        `latency p50 ${percentile(ms, 50).toFixed(1)} ms, p90 ${percentile(ms, 90).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, max ${percentile(ms, 100).toFixed(1)} ms`,
    );

    const problems: string[] = [];
    if (acc.lost.length) problems.push(`${acc.lost.length} successes missing from the registry`);
    if (acc.duplicates.length) problems.push(`${acc.duplicates.length} names issued twice`);
    if (acc.orphans.length)
      problems.push(`${acc.orphans.length} names registered without a success`);
    if (acc.keysTwice.length) problems.push(`${acc.keysTwice.length} keys with two names`);
    if (acc.registry !== acc.successes)
      problems.push(`registry holds ${acc.registry}, successes are ${acc.successes}`);
    if (acc.successes !== unique) problems.push(`${acc.successes} of ${unique} names registered`);
    if (Object.keys(acc.failed).length) problems.push(`failures: ${JSON.stringify(acc.failed)}`);
    for (const [id, n] of Object.entries(views)) {
      if (n !== acc.registry) problems.push(`replica ${id} view holds ${n}, not ${acc.registry}`);
    }
    if (Object.keys(served).length !== 2 || Object.values(served).some((n) => n === 0))
      problems.push(`both replicas should have served: ${JSON.stringify(served)}`);
    console.log(
      problems.length
        ? `\nFAILED: ${problems.join("; ")}`
        : "\nOK: zero lost, zero duplicates, registry count == successes",
    );
    return problems.length ? 1 : 0;
  } finally {
    for (const c of conns) await c.close().catch(() => undefined);
    await Promise.all(replicas.map((r) => r.stop()));
    await stack.stop();
  }
}

process.exitCode = await main();
