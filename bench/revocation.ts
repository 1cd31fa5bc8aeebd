// Benchmark of revocation per topology (run: npm run bench:revocation). For each topology it starts
// real nats-servers on loopback (@natschat/testing), then, SAMPLES times: a fresh chat user connects
// to the farthest server (the same server, another server of the cluster, the other region, the
// edge); the pusher publishes the CHAT account JWT with that user revoked to
// $SYS.REQ.CLAIMS.UPDATE at the first server; the time runs from that publish to the moment the
// user's client sees the server's "User Authentication Revoked". It prints p50/p99 per topology
// against the goals (≤ 50 ms on one server, ≤ 250 ms across supercluster and leaf). A script, not
// a test: it never fails on a figure. BENCH_SAMPLES (default 40), BENCH_TOPOLOGIES (a,b,...),
// BENCH_TLS=1 to run the servers with TLS.
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { inboxPrefixFor } from "@natschat/protocol";
import { parseTopology, type RunningServer, type Topology } from "@natschat/server";
import { mintChatUser, startTestStack, type TestStack } from "@natschat/testing";
import {
  connectRole,
  installNodeEd25519,
  loadSeed,
  nativeKeyPair,
  pushAccountJwt,
  revokeInAccountJwt,
} from "@natschat/trust";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 40);
const TOPOLOGIES: Topology[] = (process.env.BENCH_TOPOLOGIES ?? "single,cluster,supercluster,leaf")
  .split(",")
  .map((t) => parseTopology(t.trim()));
const TLS = process.env.BENCH_TLS === "1";
const GOAL_MS: Record<Topology, number> = {
  single: 50,
  cluster: 250,
  supercluster: 250,
  leaf: 250,
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

/** Resolves at the first status event that says the server revoked the user. */
function revokedAt(nc: NatsConnection, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not revoked within ${timeoutMs} ms`)),
      timeoutMs,
    );
    void (async () => {
      for await (const s of nc.status()) {
        const text = "error" in s && s.error ? String(s.error.message) : "";
        if (/revoked/i.test(text)) {
          clearTimeout(timer);
          resolve(performance.now());
          return;
        }
      }
    })();
  });
}

interface Result {
  topology: Topology;
  pushAt: string;
  userAt: string;
  servers: number;
  samples: number[];
}

async function measure(topology: Topology): Promise<Result> {
  const stack: TestStack = await startTestStack({ topology, tls: TLS });
  try {
    const servers = stack.topology.servers;
    const pushAt = servers[0] as RunningServer;
    const userAt = servers.at(-1) as RunningServer; // another region's last server, or the edge
    const operator = nativeKeyPair(await loadSeed(stack.dir, "operator-signing", "O"));
    const pusher = await connectRole({
      servers: pushAt.url,
      credsPath: stack.creds("push"),
      inboxOwner: "push",
      tlsCaFile: stack.caFile,
    });
    let chatJwt = stack.trust.accountJwts.CHAT;
    const samples: number[] = [];
    try {
      for (let i = 0; i < SAMPLES; i++) {
        const user = await mintChatUser(stack.dir, `victim-${i}`);
        const nc = await connect({
          servers: userAt.url,
          authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)),
          inboxPrefix: inboxPrefixFor(user.publicKey),
          maxReconnectAttempts: 0,
          tls: stack.caFile ? { caFile: stack.caFile } : undefined,
        });
        await nc.flush();
        chatJwt = await revokeInAccountJwt(chatJwt, user.publicKey, operator);
        const closed = revokedAt(nc, 10_000);
        const t0 = performance.now();
        const replies = pushAccountJwt(pusher, chatJwt, servers.length);
        const t1 = await closed;
        samples.push(t1 - t0);
        const answered = await replies;
        if (answered.length !== servers.length || answered.some((r) => !r.ok))
          throw new Error(`push answered by ${answered.length}/${servers.length} servers`);
        await nc.closed();
      }
    } finally {
      await pusher.close();
    }
    return {
      topology,
      pushAt: pushAt.spec.name,
      userAt: userAt.spec.name,
      servers: servers.length,
      samples,
    };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  // Node signs and verifies with node:crypto, as every natschat Node entry point does.
  installNodeEd25519();
  console.log(
    `revocation: CLAIMS.UPDATE published → the user's client sees the revocation; ${SAMPLES} samples per topology${TLS ? ", TLS" : ""}`,
  );
  console.log(
    "topology      servers  update at → user at     p50 ms   p99 ms   max ms   goal (p99)",
  );
  for (const topology of TOPOLOGIES) {
    const r = await measure(topology);
    const s = [...r.samples].sort((a, b) => a - b);
    const p50 = percentile(s, 50);
    const p99 = percentile(s, 99);
    const goal = GOAL_MS[topology];
    console.log(
      [
        topology.padEnd(13),
        String(r.servers).padStart(7),
        `  ${`${r.pushAt} → ${r.userAt}`.padEnd(22)}`,
        p50.toFixed(1).padStart(7),
        p99.toFixed(1).padStart(8),
        (s.at(-1) ?? Number.NaN).toFixed(1).padStart(8),
        `   ≤ ${goal} ms ${p99 <= goal ? "met" : "MISSED"}`,
      ].join(" "),
    );
  }
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});
