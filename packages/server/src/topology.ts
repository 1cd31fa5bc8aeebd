// Plans the servers of a topology (single, cluster, supercluster, leaf) on one host:
// names, regions, ports, routes, gateways and leafnode remotes. Configs render from these specs.
import { join } from "node:path";
import { ServerLayerError } from "./errors.ts";
import { freePort, isPortFree } from "./ports.ts";
import type { LeafRemote, ServerSpec, TlsFiles } from "./server-config.ts";

export const TOPOLOGIES = ["single", "cluster", "supercluster", "leaf"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export function parseTopology(s: string): Topology {
  if ((TOPOLOGIES as readonly string[]).includes(s)) return s as Topology;
  throw new ServerLayerError(
    "BAD_TOPOLOGY",
    `unknown topology "${s}": use one of ${TOPOLOGIES.join(", ")}`,
  );
}

export interface PlanOptions {
  topology: Topology;
  /** where configs, JetStream stores and resolver dirs go. */
  dir: string;
  host?: string;
  /** region names: [hub, second] for supercluster; [hub] otherwise. */
  regions?: string[];
  /** preferred client/websocket/monitoring ports of the first server; fall back to free ports when busy. */
  preferred?: { client?: number; websocket?: number; http?: number };
  /** what to do when a preferred port is busy. */
  onBusyPort?: "fallback" | "fail" | "ignore";
  /** creds files for the edge's leafnode remotes (leaf topology). */
  leafCreds?: {
    chat: { account: string; credentials: string };
    sys: { account: string; credentials: string };
  };
  tls?: TlsFiles;
}

/** A planned topology: the specs, and what changed from the preferred ports. */
export interface Plan {
  topology: Topology;
  servers: ServerSpec[];
  notes: string[];
}

async function pickPort(
  preferred: number | undefined,
  label: string,
  host: string,
  mode: "fallback" | "fail" | "ignore",
  notes: string[],
): Promise<number> {
  if (preferred === undefined) return freePort(host);
  if (mode === "ignore") return preferred;
  if (await isPortFree(preferred, host)) return preferred;
  if (mode === "fail") {
    throw new ServerLayerError(
      "PORT_BUSY",
      `${label} port ${preferred} on ${host} is in use; stop what holds it or choose another port`,
    );
  }
  const port = await freePort(host);
  notes.push(`${label} port ${preferred} is busy; using ${port}`);
  return port;
}

/** Plans every server of the topology with concrete ports. */
export async function planTopology(opts: PlanOptions): Promise<Plan> {
  const host = opts.host ?? "127.0.0.1";
  const notes: string[] = [];
  const mode = opts.onBusyPort ?? "fallback";
  const regions = opts.regions ?? [];
  const [hub = opts.topology === "single" ? "local" : "east", second = "west"] = regions;
  const layoutFor: Record<Topology, { region: string; count: number }[]> = {
    single: [{ region: hub, count: 1 }],
    cluster: [{ region: hub, count: 3 }],
    supercluster: [
      { region: hub, count: 3 },
      { region: second, count: 3 },
    ],
    leaf: [{ region: hub, count: 3 }],
  };
  const clustered = opts.topology !== "single";
  const servers: ServerSpec[] = [];
  for (const { region, count } of layoutFor[opts.topology]) {
    for (let i = 1; i <= count; i++) {
      const first = servers.length === 0;
      const name = opts.topology === "single" ? "n1" : `${region}-${i}`;
      servers.push({
        name,
        region,
        host,
        ports: {
          client: await pickPort(
            first ? opts.preferred?.client : undefined,
            "client",
            host,
            mode,
            notes,
          ),
          websocket: await pickPort(
            first ? opts.preferred?.websocket : undefined,
            "websocket",
            host,
            mode,
            notes,
          ),
          http: await pickPort(
            first ? opts.preferred?.http : undefined,
            "monitoring",
            host,
            mode,
            notes,
          ),
          cluster: clustered ? await freePort(host) : undefined,
          gateway: opts.topology === "supercluster" ? await freePort(host) : undefined,
          leafnode: opts.topology === "leaf" ? await freePort(host) : undefined,
        },
        storeDir: join(opts.dir, name, "jetstream"),
        resolverDir: join(opts.dir, name, "resolver"),
        tls: opts.tls,
      });
    }
  }
  for (const s of servers) {
    const peers = servers.filter((p) => p.region === s.region && p !== s);
    if (clustered) s.routes = peers.map((p) => `nats-route://${host}:${p.ports.cluster}`);
    if (opts.topology === "supercluster") {
      const byRegion = new Map<string, string[]>();
      for (const p of servers) {
        byRegion.set(p.region, [
          ...(byRegion.get(p.region) ?? []),
          `nats://${host}:${p.ports.gateway}`,
        ]);
      }
      s.gateways = [...byRegion].map(([name, urls]) => ({ name, urls }));
    }
  }
  if (opts.topology === "leaf") {
    if (!opts.leafCreds)
      throw new ServerLayerError("LEAF_CREDS", "the leaf topology needs CHAT and SYS leaf creds");
    const hubs = servers.map((p) => `nats-leaf://${host}:${p.ports.leafnode}`);
    const remote = (r: { account: string; credentials: string }): LeafRemote[] =>
      hubs.slice(0, 1).map((url) => ({ url, account: r.account, credentials: r.credentials }));
    servers.push({
      name: "edge-1",
      region: "edge",
      host,
      ports: {
        client: await freePort(host),
        websocket: await freePort(host),
        http: await freePort(host),
      },
      storeDir: join(opts.dir, "edge-1", "jetstream"),
      resolverDir: join(opts.dir, "edge-1", "resolver"),
      leafRemotes: [...remote(opts.leafCreds.chat), ...remote(opts.leafCreds.sys)],
      jetstreamDomain: "edge",
      tls: opts.tls,
    });
  }
  return { topology: opts.topology, servers, notes };
}
