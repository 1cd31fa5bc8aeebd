// The one server layout both resolvers build on (planTopology on loopback, the Kubernetes pod
// specs): routes hold every server of the region including the server itself, gateways list
// every region, only the hub listens for leafnodes, and the edge dials every hub server.
import { type LayoutServer, layoutServers, topologyShape } from "@natschat/server";
import { describe, expect, it } from "vitest";

const id = (s: LayoutServer) => `${s.region}#${s.index}`;

describe("server layout", () => {
  it("a supercluster with an edge (the Kubernetes shape)", () => {
    const servers = layoutServers({
      regions: [
        { name: "east", size: 3 },
        { name: "west", size: 3 },
      ],
      gateways: true,
      edge: "edge",
    });
    expect(servers.map(id)).toEqual([
      "east#0",
      "east#1",
      "east#2",
      "west#0",
      "west#1",
      "west#2",
      "edge#0",
    ]);
    for (const s of servers.slice(0, 6)) {
      // itself included: a region of 3 in a supercluster of 6 must count 6, not 5
      expect(s.routes?.map(id)).toContain(id(s));
      expect(s.routes?.map(id)).toEqual([0, 1, 2].map((i) => `${s.region}#${i}`));
      expect(s.gateways?.map((g) => [g.region, g.servers.length])).toEqual([
        ["east", 3],
        ["west", 3],
      ]);
      expect(s.listeners).toEqual({ cluster: true, gateway: true, leafnode: s.region === "east" });
      expect(s.jetstream).toBe("server");
    }
    const edge = servers[6] as LayoutServer;
    expect(edge.jetstream).toBe("none");
    expect(edge.routes).toBeUndefined();
    expect(edge.leafTo?.map(id)).toEqual(["east#0", "east#1", "east#2"]);
  });

  it("the local topologies", () => {
    const single = layoutServers(topologyShape("single", ["local"]));
    expect(single.map(id)).toEqual(["local#0"]);
    expect(single[0]?.routes).toBeUndefined();
    expect(single[0]?.listeners).toEqual({ cluster: false, gateway: false, leafnode: false });
    const cluster = layoutServers(topologyShape("cluster", ["east"]));
    expect(cluster.map((s) => s.routes?.length)).toEqual([3, 3, 3]);
    expect(cluster.every((s) => !s.gateways && !s.listeners.leafnode)).toBe(true);
    const leaf = layoutServers(topologyShape("leaf", ["hub", "shop"]));
    expect(leaf.map(id)).toEqual(["hub#0", "hub#1", "hub#2", "shop#0"]);
    expect(leaf.slice(0, 3).every((s) => s.listeners.leafnode)).toBe(true);
    expect(leaf[3]?.leafTo?.map(id)).toEqual(["hub#0", "hub#1", "hub#2"]);
  });
});
