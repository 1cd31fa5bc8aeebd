// Runs a planned topology on this machine: renders each config, starts every server, waits for
// all of them to be healthy, and stops them all together.
import { join } from "node:path";
import { type RunningServer, startServer } from "./process.ts";
import { type ResolverTrust, renderServerConfig } from "./server-config.ts";
import type { Plan } from "./topology.ts";

/** The running servers of one topology. */
export interface RunningTopology {
  plan: Plan;
  servers: RunningServer[];
  /** Stops every server (in parallel); safe to call twice. */
  stop(): Promise<void>;
}

/** Starts every server of the plan; on any failure, stops the ones already started. */
export async function startTopology(opts: {
  binary: string;
  plan: Plan;
  trust: ResolverTrust;
  /** where configs and logs go (one folder per server). */
  dir: string;
  healthTimeoutMs?: number;
}): Promise<RunningTopology> {
  const started: RunningServer[] = [];
  const stop = async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
  const results = await Promise.allSettled(
    opts.plan.servers.map(async (spec) => {
      const server = await startServer({
        binary: opts.binary,
        spec,
        config: renderServerConfig(spec, opts.trust),
        configPath: join(opts.dir, spec.name, "nats.conf"),
        logPath: join(opts.dir, spec.name, "nats.log"),
        healthTimeoutMs: opts.healthTimeoutMs ?? 60_000,
      });
      started.push(server);
      return server;
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const byName = new Map(started.map((s) => [s.spec.name, s]));
  const servers = opts.plan.servers.map((spec) => byName.get(spec.name) as RunningServer);
  return { plan: opts.plan, servers, stop };
}
