// Plans the servers of a topology (single, cluster, supercluster, leaf) on one host:
// names, regions, ports, routes, gateways and leafnode remotes. Configs render from these specs.

import { join } from "node:path";
import { ServerLayerError } from "./errors.ts";
import { dialHost } from "./hosts.ts";
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

/** Plans every server of the topology with concrete ports. */
export async function planTopology(opts: PlanOptions): Promise<Plan> {
  const host = opts.host ?? "127.0.0.1";
  // servers dial each other at the bind address, or at loopback when it is a wildcard
  const dial = dialHost(host);
  const notes: string[] = [];
  const mode = opts.onBusyPort ?? "fallback";
  const regions = parseRegions(opts.topology, opts.regions);
  const [hub = "east", second = "west"] = regions;
  const layoutFor: Record<Topology, { region: string; count: number }[]> = {
    single: [{ region: hub, count: 1 }],
    cluster: [{ region: hub, count: 3 }],
    supercluster: [
      { region: hub, count: 3 },
      { region: second, count: 3 },
    ],
    leaf: [{ region: hub, count: 3 }],
  };
  if (opts.topology === "leaf" && !opts.leafCreds)
    throw new ServerLayerError("LEAF_CREDS", "the leaf topology needs CHAT and SYS leaf creds");
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
        jetstream: "server",
        tls: opts.tls,
      });
    }
  }
  const byRegion = new Map<string, ServerSpec[]>();
  for (const s of servers) byRegion.set(s.region, [...(byRegion.get(s.region) ?? []), s]);
  for (const s of servers) {
    // Every server lists every server of its region, itself included (nats-server skips the
    // route to itself). JetStream sizes a new meta group from the configured routes plus the
    // other regions' gateway URLs: with itself left out, a region of 3 in a supercluster of 6
    // counts 5, reaches quorum alone, and each region elects its own meta leader.
    const members = byRegion.get(s.region) ?? [];
    if (clustered) s.routes = members.map((p) => `nats-route://${dial}:${p.ports.cluster}`);
    if (opts.topology === "supercluster") {
      s.gateways = [...byRegion].map(([name, members]) => ({
        name,
        urls: members.map((p) => `nats://${dial}:${p.ports.gateway}`),
      }));
    }
  }
  if (opts.topology === "leaf" && opts.leafCreds) {
    const edge = second;
    // every hub server is a remote URL: the edge fails over when one hub server goes away
    const urls = servers.map((p) => `nats-leaf://${dial}:${p.ports.leafnode}`);
    const name = `${edge}-1`;
    servers.push({
      name,
      region: edge,
      host,
      ports: {
        client: await freePort(host),
        websocket: await freePort(host),
        http: await freePort(host),
      },
      storeDir: join(opts.dir, name, "jetstream"),
      resolverDir: join(opts.dir, name, "resolver"),
      leafRemotes: [
        opts.leafCreds.admin
          ? { urls, ...opts.leafCreds.chat }
          : {
              urls,
              account: opts.leafCreds.chat.account,
              credentials: opts.leafCreds.chat.credentials,
            },
        ...(opts.leafCreds.admin ? [{ urls, ...opts.leafCreds.admin }] : []),
        // without the SYS remote the edge never hears account updates, so revocations miss it
        { urls, ...opts.leafCreds.sys },
      ],
      // no JetStream at the edge: its clients use the hub's streams with the domain prefix
      jetstream: "none",
      tls: opts.tls,
    });
  }
  return {
    topology: opts.topology,
    regions,
    servers,
    storage: storagePlacement(opts.topology, hub),
    notes,
  };
}
