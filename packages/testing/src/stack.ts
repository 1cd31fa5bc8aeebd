// Test support: a fresh trust tree in a temp dir and real nats-server processes on random
// loopback ports, always stopped (and the dir removed) by stop().
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ensureDevCerts,
  ensureNatsServer,
  planTopology,
  type RunningTopology,
  startTopology,
  type Topology,
} from "@natschat/server";
import {
  edgeLeafCreds,
  initTrust,
  type LoadedTrust,
  layout,
  loadTrust,
  resolverTrust,
} from "@natschat/trust";

export interface TestStack {
  dir: string;
  trust: LoadedTrust;
  topology: RunningTopology;
  /** client URLs of every server (tls:// when the stack runs TLS). */
  urls: string[];
  /** the development CA clients must trust, when the stack runs TLS. */
  caFile?: string;
  creds(role: string): string;
  /** Stops every server, then starts them again on the same ports, dirs and JetStream stores. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a fresh topology. startTopology already restarts a server a new JetStream meta group
 * left out; should the group still not form, the servers have no state yet, so one clean retry
 * from scratch is safe.
 */
async function firstStart(
  start: () => Promise<RunningTopology>,
  serverDir: string,
): Promise<RunningTopology> {
  try {
    return await start();
  } catch (err) {
    if ((err as { code?: string }).code !== "JETSTREAM_NOT_READY") throw err;
    console.warn(`[testing] ${(err as Error).message}; starting the topology once more`);
    await rm(serverDir, { recursive: true, force: true });
    return start();
  }
}

/** Builds a trust tree and starts a topology for one test file. */
export async function startTestStack(
  opts: { topology?: Topology; dir?: string; regions?: string[]; tls?: boolean } = {},
): Promise<TestStack> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "natschat-test-")));
  await initTrust({ dir });
  const trust = await loadTrust(dir);
  const binary = await ensureNatsServer();
  const paths = layout(dir);
  const tls = opts.tls ? (await ensureDevCerts({ dir })).files : undefined;
  const plan = await planTopology({
    topology: opts.topology ?? "single",
    dir: paths.server,
    regions: opts.regions,
    tls,
    leafCreds: edgeLeafCreds(trust),
  });
  // Like `natschat up`, every start preloads the account JWTs the data dir holds now (a
  // revocation rewrites DIR/jwt/CHAT.jwt).
  const start = async () =>
    startTopology({
      binary: binary.path,
      plan,
      trust: resolverTrust(await loadTrust(dir)),
      dir: paths.server,
      log: (line) => console.warn(`[testing] ${line}`),
    });
  const stack: TestStack = {
    dir,
    trust,
    topology: await firstStart(start, paths.server),
    urls: [],
    caFile: tls?.ca,
    creds: (role) => paths.creds(role),
    async restart() {
      await stack.topology.stop();
      // startTopology restarts a server the meta group is stuck on (a restart of every server
      // sometimes leaves one never current, or no leader at all, on nats-server 2.10)
      stack.topology = await start();
    },
    async stop() {
      await stack.topology.stop();
      // NATSCHAT_KEEP_TEST_DIRS=1 keeps configs and server logs for a post-mortem
      if (!opts.dir && !process.env.NATSCHAT_KEEP_TEST_DIRS)
        await rm(dir, { recursive: true, force: true });
    },
  };
  stack.urls = stack.topology.servers.map((s) => s.url);
  return stack;
}
