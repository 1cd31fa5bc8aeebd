// The supercluster on loopback, with TLS on every listener (routes and gateways are mutual TLS):
// two regions of 3 joined by gateways, one JetStream domain. The meta group must span all six
// servers and keep one leader: a spike with two 2-node clusters on 2.9.10 saw it flap forever.
import { metaGroupProblem, metaViews } from "@natschat/server";
import { mintChatUser, startTestStack, type TestStack } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectAllConnected,
  expectDiscoveryEverywhere,
  expectHistoryEverywhere,
  expectPushReachesAll,
  readHistoryAsUser,
  revokeAndExpectClose,
  roleAt,
  userAt,
} from "./topology-checks.ts";

const OBSERVE_MS = 30_000;

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ topology: "supercluster", regions: ["eu", "us"], tls: true });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

const inRegion = (region: string) => stack.topology.servers.filter((s) => s.spec.region === region);

describe("supercluster topology (TLS, regions eu and us)", () => {
  it("plans two clusters of 3 named by region, with gateways named the same", () => {
    const { plan } = stack.topology;
    expect(plan.regions).toEqual(["eu", "us"]);
    expect(plan.servers.map((s) => s.name)).toEqual([
      "eu-1",
      "eu-2",
      "eu-3",
      "us-1",
      "us-2",
      "us-3",
    ]);
    for (const s of plan.servers) {
      expect(s.gateways?.map((g) => g.name)).toEqual(["eu", "us"]);
      expect(s.routes).toHaveLength(3);
    }
    expect(plan.storage).toEqual({ domain: "hub", replicas: 3, cluster: "eu" });
  });

  it("every server is healthy, with routes and outbound gateways", async () => {
    await expectAllConnected(stack);
  });

  it(
    `the JetStream meta leader stays the same for ${OBSERVE_MS / 1000} s after start-up`,
    async () => {
      const sys = await roleAt(
        stack,
        inRegion("us")[0] as (typeof stack.topology.servers)[0],
        "sys",
      );
      const elections: string[] = [];
      const sub = sys.subscribe("$JS.EVENT.ADVISORY.DOMAIN.LEADER_ELECTED", {
        callback: (_err, m) => {
          elections.push(m.string());
        },
      });
      await sys.flush();
      try {
        const first = await metaViews(stack.topology.servers);
        // one leader everyone agrees on (start-up already waited for the leader to see all peers)
        expect(metaGroupProblem(first, new Set(first.map((v) => v.server)))).toBeUndefined();
        const leader = first[0]?.leader;
        expect(first.every((v) => v.clusterSize === 6)).toBe(true);
        const seen = new Set<string>();
        const deadline = Date.now() + OBSERVE_MS;
        while (Date.now() < deadline) {
          for (const v of await metaViews(stack.topology.servers)) seen.add(`${v.leader}`);
          // sampling interval of the observation, not a synchronization wait
          await new Promise((r) => setTimeout(r, 500));
        }
        expect([...seen]).toEqual([leader]);
        expect(elections).toEqual([]);
      } finally {
        sub.unsubscribe();
        await sys.close();
      }
    },
    OBSERVE_MS + 30_000,
  );

  it("server discovery from every server finds all six", async () => {
    await expectDiscoveryEverywhere(stack);
  });

  it("an account JWT push in the second region is answered by all six servers", async () => {
    await expectPushReachesAll(stack, inRegion("us")[2] as (typeof stack.topology.servers)[0]);
  });

  it("history is placed R3 in the hub region and readable from every server", async () => {
    await expectHistoryEverywhere(stack);
  });

  it("the registry bucket (ADMIN) placed in the hub is usable from the other region", async () => {
    const { Kvm } = await import("@nats-io/kv");
    const { storage } = stack.topology.plan;
    const us = inRegion("us")[1] as (typeof stack.topology.servers)[0];
    const nc = await roleAt(stack, us, "access");
    try {
      const kv = await new Kvm(nc).create("natschat-users", {
        replicas: storage.replicas,
        placement: storage.cluster ? { cluster: storage.cluster, tags: [] } : undefined,
      });
      expect((await kv.status()).streamInfo.cluster?.name).toBe("eu");
      await kv.create("alice", "UALICE");
      expect((await kv.get("alice"))?.string()).toBe("UALICE");
    } finally {
      await nc.close();
    }
  });

  it("a chat user in the second region reads history through the history service", async () => {
    const user = await mintChatUser(stack.dir, "west-reader");
    const nc = await userAt(stack, inRegion("us")[0] as (typeof stack.topology.servers)[0], user);
    try {
      const read = await readHistoryAsUser(stack, nc, "General");
      await read.stop();
      expect(read.tokens).toEqual(["first post"]);
    } finally {
      await nc.close();
    }
  });

  it("a revocation pushed in one region closes the user's connection in the other", async () => {
    const user = await mintChatUser(stack.dir, "revoked-across");
    const nc = await userAt(stack, inRegion("us")[2] as (typeof stack.topology.servers)[0], user);
    expect(
      await revokeAndExpectClose(
        stack,
        user,
        nc,
        inRegion("eu")[0] as (typeof stack.topology.servers)[0],
      ),
    ).toMatch(/revoked/i);
    await nc.closed();
  });
});
