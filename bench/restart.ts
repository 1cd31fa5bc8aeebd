// Benchmark of restarting a topology on its own JetStream stores (run: npm run bench:restart).
// For each topology it starts real nats-servers on loopback (@natschat/testing), makes the
// history stores and the registry at the topology's replicas, writes a few messages, then
// ROUNDS times stops every server and starts them again on the same stores with startTopology,
// as `natschat up` does on its data dir. It prints, per topology, how many restarts formed, how
// many needed a server restarted by start-up (its `note:` lines), and the p50/max restart time
// as a ratio of the fresh start of the same run. A script, not a test: it never fails on a
// figure. BENCH_ROUNDS (default 10), BENCH_TOPOLOGIES (a,b,...).
import { Kvm } from "@nats-io/kv";
import { ensureHistoryStores } from "@natschat/history";
import { ensureNatsServer, parseTopology, startTopology, type Topology } from "@natschat/server";
import { startTestStack } from "@natschat/testing";
import { connectRole, layout, loadTrust, REGISTRY_BUCKET, resolverTrust } from "@natschat/trust";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const TOPOLOGIES: Topology[] = (process.env.BENCH_TOPOLOGIES ?? "cluster,leaf")
  .split(",")
  .map((t) => parseTopology(t.trim()));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

async function run(topology: Topology) {
  const t0 = performance.now();
  const stack = await startTestStack({ topology });
  const fresh = performance.now() - t0;
  const binary = await ensureNatsServer();
  const { replicas } = stack.topology.plan.storage;
  const hub = stack.topology.servers.filter((s) => s.spec.jetstream === "server").map((s) => s.url);
  const leaf = await connectRole({
    servers: hub,
    credsPath: stack.creds("leaf"),
    inboxOwner: "leaf",
  });
  await ensureHistoryStores(leaf, { replicas });
  await leaf.close();
  const access = await connectRole({
    servers: hub,
    credsPath: stack.creds("access"),
    inboxOwner: "access",
  });
  const kv = await new Kvm(access).create(REGISTRY_BUCKET, { history: 1, replicas });
  for (let i = 0; i < 20; i++) await kv.put(`bench-${i}`, JSON.stringify({ i }));
  await access.close();

  const times: number[] = [];
  const notes: string[] = [];
  let failed = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await stack.topology.stop();
      const started = performance.now();
      try {
        stack.topology = await startTopology({
          binary: binary.path,
          plan: stack.topology.plan,
          trust: resolverTrust(await loadTrust(stack.dir)),
          dir: layout(stack.dir).server,
          log: (line) => notes.push(`round ${round}: ${line}`),
        });
        times.push(performance.now() - started);
      } catch (err) {
        failed++;
        console.error(`${topology} round ${round}: ${(err as Error).message}`);
        // the servers were stopped by startTopology; start the next round from the same stores
      }
    }
  } finally {
    await stack.stop();
  }
  times.sort((a, b) => a - b);
  return { topology, fresh, times, failed, notes };
}

const results = [];
for (const topology of TOPOLOGIES) results.push(await run(topology));
console.log(
  `\nrestart on the same stores, ${ROUNDS} rounds per topology (ratio: to a fresh start)`,
);
console.log(
  "| topology | formed | healed by a restart | fresh start | restart p50 | restart max |",
);
console.log("|---|---|---|---|---|---|");
for (const r of results) {
  const healed = new Set(r.notes.map((n) => n.split(":")[0])).size;
  const p50 = percentile(r.times, 50);
  const max = r.times.at(-1) ?? Number.NaN;
  console.log(
    `| ${r.topology} | ${r.times.length} of ${ROUNDS} | ${healed} | ${(r.fresh / 1000).toFixed(1)} s | ` +
      `${(p50 / 1000).toFixed(1)} s (${(p50 / r.fresh).toFixed(2)}×) | ${(max / 1000).toFixed(1)} s (${(max / r.fresh).toFixed(2)}×) |`,
  );
}
for (const r of results) for (const n of r.notes) console.log(`${r.topology} ${n}`);
