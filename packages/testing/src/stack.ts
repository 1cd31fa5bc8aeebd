// Test support: a fresh trust tree in a temp dir and real nats-server processes on random
// loopback ports, always stopped (and the dir removed) by stop().
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ensureNatsServer,
  planTopology,
  type RunningTopology,
  startTopology,
  type Topology,
} from "@natschat/server";
import { initTrust, type LoadedTrust, layout, loadTrust, resolverTrust } from "@natschat/trust";

export interface TestStack {
  dir: string;
  trust: LoadedTrust;
  topology: RunningTopology;
  /** client URLs of every server. */
  urls: string[];
  creds(role: string): string;
  stop(): Promise<void>;
}

/** Builds a trust tree and starts a topology for one test file. */
export async function startTestStack(
  opts: { topology?: Topology; dir?: string } = {},
): Promise<TestStack> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "natschat-test-")));
  await initTrust({ dir });
  const trust = await loadTrust(dir);
  const binary = await ensureNatsServer();
  const paths = layout(dir);
  const plan = await planTopology({
    topology: opts.topology ?? "single",
    dir: paths.server,
    leafCreds: {
      chat: { account: trust.summary.accounts.CHAT.publicKey, credentials: paths.creds("leaf") },
      sys: { account: trust.summary.accounts.SYS.publicKey, credentials: paths.creds("sys") },
    },
  });
  const topology = await startTopology({
    binary: binary.path,
    plan,
    trust: resolverTrust(trust),
    dir: paths.server,
  });
  return {
    dir,
    trust,
    topology,
    urls: topology.servers.map((s) => s.url),
    creds: (role) => paths.creds(role),
    async stop() {
      await topology.stop();
      if (!opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
