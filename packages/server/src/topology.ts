// Plans the servers of a topology (single, cluster, supercluster, leaf) on one host:
// names, regions, ports, routes, gateways and leafnode remotes. Configs render from these specs.
import { join } from "node:path";
import { ServerLayerError } from "./errors.ts";
import { dialHost } from "./hosts.ts";
import { type LayoutServer, type LayoutShape, layoutServers } from "./layout.ts";
import { freePort, isPortFree } from "./ports.ts";
import { JETSTREAM_DOMAIN, type ServerSpec, type TlsFiles } from "./server-config.ts";

export const TOPOLOGIES = ["single", "cluster", "supercluster", "leaf"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export function parseTopology(s: string): Topology {
  if ((TOPOLOGIES as readonly string[]).includes(s)) return s as Topology;
  throw new ServerLayerError(
    "BAD_TOPOLOGY",
    `unknown topology "${s}": use one of ${TOPOLOGIES.join(", ")}`,
  );
}

/** Region names: letters, digits, '-' and '_' (they become cluster and gateway names). */
const REGION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

/** Checks and defaults the region names of a topology. */
export function parseRegions(topology: Topology, regions: string[] = []): string[] {
  const wanted = topology === "supercluster" || topology === "leaf" ? 2 : 1;
  const defaults =
    topology === "single" ? ["local"] : topology === "leaf" ? ["east", "edge"] : ["east", "west"];
  const names = regions.map((r) => r.trim()).filter((r) => r !== "");
  if (names.length > wanted) {
    throw new ServerLayerError(
      "BAD_REGIONS",
      `the ${topology} topology has ${wanted} region${wanted > 1 ? "s" : ""}` +
        (topology === "leaf" ? " (hub, edge)" : "") +
        `, got ${names.length}: ${names.join(",")}`,
    );
  }
  const out = defaults.slice(0, wanted).map((d, i) => names[i] ?? d);
  for (const r of out) {
    if (!REGION_NAME.test(r))
      throw new ServerLayerError(
        "BAD_REGIONS",
        `region "${r}" is not a valid name: start with a letter, then letters, digits, '-' or '_' (at most 32)`,
      );
  }
  if (new Set(out).size !== out.length)
    throw new ServerLayerError("BAD_REGIONS", `region names must differ, got ${out.join(",")}`);
  return out;
}

export interface PlanOptions {
  topology: Topology;
  /** where configs, JetStream stores and resolver dirs go. */
  dir: string;
  host?: string;
  /** region names: [hub, second] for supercluster, [hub, edge] for leaf, [hub] otherwise. */
  regions?: string[];
  /** preferred client/websocket/monitoring ports of the first server; fall back to free ports when busy. */
  preferred?: { client?: number; websocket?: number; http?: number };
  /** what to do when a preferred port is busy. */
  onBusyPort?: "fallback" | "fail" | "ignore";
  /** creds files for the edge's leafnode remotes (leaf topology). */
  leafCreds?: {
    /** `denyExports`: the service subjects CHAT imports, taken only over the ADMIN remote. */
    chat: { account: string; credentials: string; denyExports?: string[] };
    /**
     * Optional ADMIN remote: with it, CHAT's service imports are applied at the edge, so the
     * services see the edge user in Nats-Request-Info (not the CHAT leaf binding).
     */
    admin?: { account: string; credentials: string };
    sys: { account: string; credentials: string };
  };
  tls?: TlsFiles;
}

/**
 * Where the chat's JetStream state lives: the domain, the replica count and, in a supercluster,
 * the cluster (the hub region) that holds the history streams and the registry bucket.
 */
export interface StoragePlacement {
  domain: string;
  replicas: number;
  /** placement cluster; undefined when the topology has a single cluster. */
  cluster?: string;
}

/** A planned topology: the specs, and what changed from the preferred ports. */
export interface Plan {
  topology: Topology;
  /** region names in order: the hub first. */
  regions: string[];
  servers: ServerSpec[];
  storage: StoragePlacement;
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

/** The storage placement of a topology: R1 on one server, R3 in the hub cluster otherwise. */
export function storagePlacement(topology: Topology, hub: string): StoragePlacement {
  if (topology === "single") return { domain: JETSTREAM_DOMAIN, replicas: 1 };
  if (topology === "supercluster") return { domain: JETSTREAM_DOMAIN, replicas: 3, cluster: hub };
  return { domain: JETSTREAM_DOMAIN, replicas: 3 };
}

/** The layout of a local topology: its regions, gateways and edge. */
export function topologyShape(topology: Topology, regions: string[]): LayoutShape {
  const [hub = "east", second = "west"] = regions;
  switch (topology) {
    case "single":
      return { regions: [{ name: hub, size: 1 }], gateways: false };
    case "cluster":
      return { regions: [{ name: hub, size: 3 }], gateways: false };
    case "supercluster":
      return {
        regions: [
          { name: hub, size: 3 },
          { name: second, size: 3 },
        ],
        gateways: true,
      };
    case "leaf":
      return { regions: [{ name: hub, size: 3 }], gateways: false, edge: second };
  }
}

/**
 * Plans every server of the topology on one host: the layout first (layoutServers), then ports,
 * then the addresses the layout's routes, gateways and remotes resolve to.
 */
export async function planTopology(opts: PlanOptions): Promise<Plan> {
  const host = opts.host ?? "127.0.0.1";
  // servers dial each other at the bind address, or at loopback when it is a wildcard
  const dial = dialHost(host);
  const notes: string[] = [];
  const mode = opts.onBusyPort ?? "fallback";
  const regions = parseRegions(opts.topology, opts.regions);
  const [hub = "east"] = regions;
  if (opts.topology === "leaf" && !opts.leafCreds)
    throw new ServerLayerError("LEAF_CREDS", "the leaf topology needs CHAT and SYS leaf creds");
  const layout = layoutServers(topologyShape(opts.topology, regions));
  const nameOf = (s: LayoutServer) =>
    opts.topology === "single" ? "n1" : `${s.region}-${s.index + 1}`;
  // ports are allocated once the layout is known; the preferred ones go to the first server
  const ports = new Map<LayoutServer, ServerSpec["ports"]>();
  for (const [i, s] of layout.entries()) {
    const first = i === 0;
    const pick = (preferred: number | undefined, label: string) =>
      pickPort(first ? preferred : undefined, label, host, mode, notes);
    ports.set(s, {
      client: await pick(opts.preferred?.client, "client"),
      websocket: await pick(opts.preferred?.websocket, "websocket"),
      http: await pick(opts.preferred?.http, "monitoring"),
      cluster: s.listeners.cluster ? await freePort(host) : undefined,
      gateway: s.listeners.gateway ? await freePort(host) : undefined,
      leafnode: s.listeners.leafnode ? await freePort(host) : undefined,
    });
  }
  const portsOf = (s: LayoutServer) => ports.get(s) as ServerSpec["ports"];
  const servers = layout.map((s): ServerSpec => {
    const name = nameOf(s);
    const spec: ServerSpec = {
      name,
      region: s.region,
      host,
      ports: portsOf(s),
      storeDir: join(opts.dir, name, "jetstream"),
      resolverDir: join(opts.dir, name, "resolver"),
      jetstream: s.jetstream,
      tls: opts.tls,
    };
    if (s.routes) spec.routes = s.routes.map((p) => `nats-route://${dial}:${portsOf(p).cluster}`);
    if (s.gateways)
      spec.gateways = s.gateways.map((g) => ({
        name: g.region,
        urls: g.servers.map((p) => `nats://${dial}:${portsOf(p).gateway}`),
      }));
    if (s.leafTo && opts.leafCreds) {
      const urls = s.leafTo.map((p) => `nats-leaf://${dial}:${portsOf(p).leafnode}`);
      const { chat, admin, sys } = opts.leafCreds;
      spec.leafRemotes = [
        // CHAT's deny_exports matter only when the ADMIN remote carries the imported services
        admin ? { urls, ...chat } : { urls, account: chat.account, credentials: chat.credentials },
        ...(admin ? [{ urls, ...admin }] : []),
        // without the SYS remote the edge never hears account updates, so revocations miss it
        { urls, ...sys },
      ];
    }
    return spec;
  });
  return {
    topology: opts.topology,
    regions,
    servers,
    storage: storagePlacement(opts.topology, hub),
    notes,
  };
}
