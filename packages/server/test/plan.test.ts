// Topology plans without servers: names, regions, routes, gateways, leafnode remotes, JetStream
// placement, and clear errors for bad region names.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  dialHost,
  isLoopbackHost,
  parseRegions,
  planTopology,
  reachableHosts,
  storagePlacement,
} from "@natschat/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "natschat-plan-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const leafCreds = {
  chat: { account: "ACHAT", credentials: "/x/leaf.creds" },
  sys: { account: "ASYS", credentials: "/x/sys.creds" },
};

describe("topology plans", () => {
  it("--host: every listener binds it; servers dial a wildcard bind at loopback", async () => {
    const plan = await planTopology({ topology: "cluster", dir, host: "0.0.0.0" });
    for (const s of plan.servers) {
      expect(s.host).toBe("0.0.0.0");
      expect(s.routes).toEqual(
        plan.servers.map((p) => `nats-route://127.0.0.1:${p.ports.cluster}`),
      );
    }
    const lan = await planTopology({ topology: "single", dir, host: "127.0.0.2" });
    expect(lan.servers[0]?.host).toBe("127.0.0.2");
    expect(dialHost("0.0.0.0")).toBe("127.0.0.1");
    expect(dialHost("::")).toBe("::1");
    expect(dialHost("192.168.1.20")).toBe("192.168.1.20");
    expect(reachableHosts("192.168.1.20")).toEqual(["192.168.1.20"]);
    expect(reachableHosts("0.0.0.0").every((h) => !isLoopbackHost(h))).toBe(true);
    expect(isLoopbackHost("127.0.0.2")).toBe(true);
    expect(isLoopbackHost("10.0.0.5")).toBe(false);
  });

  it("single: one server n1 in region local, R1, no cluster", async () => {
    const plan = await planTopology({ topology: "single", dir });
    expect(plan.servers.map((s) => s.name)).toEqual(["n1"]);
    expect(plan.servers[0]?.ports.cluster).toBeUndefined();
    expect(plan.storage).toEqual({ domain: "hub", replicas: 1 });
  });

  it("supercluster: routes name every server of the region, gateways every region", async () => {
    const plan = await planTopology({ topology: "supercluster", dir, regions: ["ams", "nyc"] });
    const ams = plan.servers.filter((s) => s.region === "ams");
    const nyc = plan.servers.filter((s) => s.region === "nyc");
    expect(ams).toHaveLength(3);
    expect(nyc).toHaveLength(3);
    for (const s of ams) {
      expect(s.routes).toEqual(ams.map((p) => `nats-route://127.0.0.1:${p.ports.cluster}`));
      expect(s.gateways).toEqual([
        { name: "ams", urls: ams.map((p) => `nats://127.0.0.1:${p.ports.gateway}`) },
        { name: "nyc", urls: nyc.map((p) => `nats://127.0.0.1:${p.ports.gateway}`) },
      ]);
    }
    expect(plan.storage).toEqual({ domain: "hub", replicas: 3, cluster: "ams" });
    const ports = plan.servers.flatMap((s) => Object.values(s.ports)).filter((p) => p);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it("leaf: the edge has CHAT and SYS remotes to every hub server and no JetStream", async () => {
    const plan = await planTopology({
      topology: "leaf",
      dir,
      leafCreds,
      regions: ["hubby", "shop"],
    });
    const edge = plan.servers.at(-1);
    expect(edge?.name).toBe("shop-1");
    expect(edge?.jetstream).toBe("none");
    const urls = plan.servers.slice(0, 3).map((s) => `nats-leaf://127.0.0.1:${s.ports.leafnode}`);
    expect(edge?.leafRemotes).toEqual([
      { urls, account: "ACHAT", credentials: "/x/leaf.creds" },
      { urls, account: "ASYS", credentials: "/x/sys.creds" },
    ]);
    expect(plan.servers.slice(0, 3).every((s) => s.jetstream === "server")).toBe(true);
  });

  it("leaf without creds is refused with a clear error", async () => {
    await expect(planTopology({ topology: "leaf", dir })).rejects.toMatchObject({
      code: "LEAF_CREDS",
    });
  });

  it("region names: defaults, too many, invalid and duplicate names", () => {
    expect(parseRegions("cluster")).toEqual(["east"]);
    expect(parseRegions("supercluster", ["eu"])).toEqual(["eu", "west"]);
    expect(parseRegions("leaf")).toEqual(["east", "edge"]);
    expect(() => parseRegions("single", ["a", "b"])).toThrow(/1 region, got 2/);
    expect(() => parseRegions("supercluster", ["eu", "eu"])).toThrow(/must differ/);
    expect(() => parseRegions("cluster", ["us.east"])).toThrow(/not a valid name/);
  });

  it("placement: R1 alone, R3 in clusters, pinned to the hub in a supercluster", () => {
    expect(storagePlacement("single", "x")).toEqual({ domain: "hub", replicas: 1 });
    expect(storagePlacement("leaf", "x")).toEqual({ domain: "hub", replicas: 3 });
    expect(storagePlacement("supercluster", "x")).toEqual({
      domain: "hub",
      replicas: 3,
      cluster: "x",
    });
  });
});
