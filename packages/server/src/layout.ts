// The server layout of a deployment, before any address exists: which servers there are (by
// region and index), which listeners each has, whom each routes to, which regions it joins by
// gateway, and which servers an edge's leafnode remotes dial. One pure function, shared by the
// two address resolvers: planTopology (loopback, ports allocated after planning) and the
// Kubernetes pod specs (packages/deploy: pod and Service names, the chart's ports).

/** What a deployment is made of: clusters by region (the hub first), gateways, an edge. */
export interface LayoutShape {
  regions: { name: string; size: number }[];
  /** every region joins every other by gateway (a supercluster). */
  gateways: boolean;
  /** one edge server, no JetStream, with leafnode remotes to every server of the hub region. */
  edge?: string;
}

/** A server's place in the layout; names are the resolver's (`region-1` here, pod `region-0` there). */
export interface LayoutServer {
  region: string;
  /** 0-based position in its region. */
  index: number;
  jetstream: "server" | "none";
  listeners: { cluster: boolean; gateway: boolean; leafnode: boolean };
  /** The servers this one routes to: every server of its region, itself included. */
  routes?: LayoutServer[];
  /** Per region (its own included), the servers that region's gateway connects to. */
  gateways?: { region: string; servers: LayoutServer[] }[];
  /** The hub servers an edge's leafnode remotes dial. */
  leafTo?: LayoutServer[];
}

/**
 * Lays out every server of a shape. Every server of a clustered region lists every server of the
 * region, itself included (nats-server skips the route to itself): JetStream sizes a new meta
 * group from the configured routes plus the other regions' gateway URLs, and with itself left
 * out a region of 3 in a supercluster of 6 counts 5, reaches quorum alone, and each region
 * elects its own meta leader.
 */
export function layoutServers(shape: LayoutShape): LayoutServer[] {
  const [hub] = shape.regions;
  const byRegion = new Map<string, LayoutServer[]>();
  const servers: LayoutServer[] = [];
  for (const { name, size } of shape.regions) {
    const members: LayoutServer[] = [];
    for (let index = 0; index < size; index++) {
      members.push({
        region: name,
        index,
        jetstream: "server",
        listeners: {
          cluster: size > 1,
          gateway: shape.gateways,
          leafnode: shape.edge !== undefined && name === hub?.name,
        },
      });
    }
    byRegion.set(name, members);
    servers.push(...members);
  }
  for (const s of servers) {
    const members = byRegion.get(s.region) ?? [];
    if (s.listeners.cluster) s.routes = members;
    if (shape.gateways)
      s.gateways = [...byRegion].map(([region, servers]) => ({ region, servers }));
  }
  if (shape.edge !== undefined && hub) {
    servers.push({
      region: shape.edge,
      index: 0,
      jetstream: "none",
      listeners: { cluster: false, gateway: false, leafnode: false },
      // every hub server: the edge fails over when one of them goes away
      leafTo: byRegion.get(hub.name) ?? [],
    });
  }
  return servers;
}
