// A supercluster or leaf topology whose inter-region links run through TCP proxies the test
// controls: every gateway (supercluster) or every hub leafnode port (leaf) gets a proxy, the
// configured URLs point at the proxies, and each server advertises its proxy, so the addresses
// servers learn by gossip go through the proxies too. cut() then severs every link between the
// regions (or the edge) while each region's own routes stay up; heal() restores them.
// Everything else (trust tree, configs, JetStream, resolver preload) is what startTestStack
// builds, through the same planner and renderer.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ConfValue,
  ensureNatsServer,
  missingConnections,
  type Plan,
  planTopology,
  type RunningServer,
  startTopology,
  waitMetaGroup,
} from "@natschat/server";
import { eventually } from "@natschat/testing";
import {
  edgeLeafCreds,
  initTrust,
  type LoadedTrust,
  layout,
  loadTrust,
  resolverTrust,
} from "@natschat/trust";
import { TcpProxy } from "./proxy.ts";

/** A running topology with controllable inter-region links. */
export interface LinkedStack {
  dir: string;
  trust: LoadedTrust;
  plan: Plan;
  servers: RunningServer[];
  /** One proxy per proxied listener, by server name. */
  proxies: Map<string, TcpProxy>;
  creds(role: string): string;
  /** Severs every gateway (or leafnode) link and waits until each server has dropped them. */
  cut(): Promise<void>;
  /** Lets the links through again and waits until every server has them back. */
  heal(): Promise<void>;
  stop(): Promise<void>;
}

type Linked = "supercluster" | "leaf";

const hostPort = (url: string) => new URL(url.replace(/^nats(-leaf)?:/, "http:"));

/** Rewrites URLs that point at a real port to the proxy in front of it. */
function viaProxy(url: string, byPort: Map<number, TcpProxy>, scheme: string): string {
  const u = hostPort(url);
  const proxy = byPort.get(Number(u.port));
  if (!proxy) throw new Error(`no proxy in front of ${url}`);
  return `${scheme}://127.0.0.1:${proxy.port}`;
}

/** Starts the topology with proxied links; stop() always stops servers and proxies. */
export async function startLinkedStack(opts: {
  topology: Linked;
  regions?: string[];
  /**
   * Gets the stop function before anything starts, so a caller whose hook times out while the
   * stack is still starting can stop whatever did start (otherwise those servers outlive it).
   */
  onStop?: (stop: () => Promise<void>) => void;
}): Promise<LinkedStack> {
  const dir = await mkdtemp(join(tmpdir(), "natschat-e2e-"));
  await initTrust({ dir });
  const trust = await loadTrust(dir);
  const binary = await ensureNatsServer();
  const paths = layout(dir);
  const plan = await planTopology({
    topology: opts.topology,
    dir: paths.server,
    regions: opts.regions,
    leafCreds: edgeLeafCreds(trust),
  });
  const proxies = new Map<string, TcpProxy>();
  const byPort = new Map<number, TcpProxy>();
  let stopServers = async () => {};
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await stopServers();
      await Promise.all([...proxies.values()].map((p) => p.close()));
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  opts.onStop?.(stop);
  try {
    // The plan's ports are free but not yet bound: a proxy must not take one of them.
    const planned = new Set(plan.servers.flatMap((s) => Object.values(s.ports)));
    const proxyFor = async (port: number): Promise<TcpProxy> => {
      const held: TcpProxy[] = [];
      try {
        for (;;) {
          const p = await TcpProxy.start({ port });
          if (!planned.has(p.port)) return p;
          held.push(p); // keep it bound until we have one, so the next try gets another port
        }
      } finally {
        await Promise.all(held.map((p) => p.close()));
      }
    };
    for (const s of plan.servers) {
      const port = opts.topology === "supercluster" ? s.ports.gateway : s.ports.leafnode;
      if (port === undefined) continue;
      const p = await proxyFor(port);
      proxies.set(s.name, p);
      byPort.set(port, p);
    }
    for (const s of plan.servers) {
      s.gateways = s.gateways?.map((g) => ({
        name: g.name,
        urls: g.urls.map((u) => viaProxy(u, byPort, "nats")),
      }));
      s.leafRemotes = s.leafRemotes?.map((r) => ({
        ...r,
        urls: r.urls.map((u) => viaProxy(u, byPort, "nats-leaf")),
      }));
    }
    const topology = await startTopology({
      binary: binary.path,
      plan,
      trust: resolverTrust(trust),
      dir: paths.server,
      // what a server tells others to dial: its proxy, never its real listener
      adjust: (spec, settings) => {
        const proxy = proxies.get(spec.name);
        const key = opts.topology === "supercluster" ? "gateway" : "leafnodes";
        const block = settings[key] as Record<string, ConfValue | undefined> | undefined;
        return proxy && block
          ? { ...settings, [key]: { ...block, advertise: `127.0.0.1:${proxy.port}` } }
          : settings;
      },
    });
    stopServers = topology.stop;
    const { servers } = topology;
    const links = async (s: RunningServer) => {
      const g = await fetch(
        `${s.monitorUrl}/${opts.topology === "supercluster" ? "gatewayz" : "leafz"}`,
        {
          signal: AbortSignal.timeout(2000),
        },
      );
      const j = (await g.json()) as {
        outbound_gateways?: Record<string, unknown>;
        inbound_gateways?: Record<string, unknown[]>;
        leafs?: unknown[];
      };
      if (opts.topology === "leaf") return j.leafs?.length ?? 0;
      const others = (x: Record<string, unknown> | undefined) =>
        Object.keys(x ?? {}).filter((r) => r !== s.spec.region).length;
      return others(j.outbound_gateways) + others(j.inbound_gateways);
    };
    return {
      dir,
      trust,
      plan,
      servers,
      proxies,
      creds: (role) => paths.creds(role),
      async cut() {
        for (const p of proxies.values()) p.cut();
        await eventually(
          async () => (await Promise.all(servers.map(links))).every((n) => n === 0),
          "every server to drop its links to the other region",
          { timeoutMs: 20_000, everyMs: 100 },
        );
      },
      async heal() {
        for (const p of proxies.values()) p.heal();
        await eventually(
          async () =>
            (await Promise.all(servers.map((s) => missingConnections(s)))).every(
              (m) => m.length === 0,
            ),
          "every server to get its links back",
          { timeoutMs: 30_000, everyMs: 100 },
        );
        // JetStream spans the links (the meta group in a supercluster): wait for it to re-form
        await waitMetaGroup(servers, { timeoutMs: 30_000 });
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
