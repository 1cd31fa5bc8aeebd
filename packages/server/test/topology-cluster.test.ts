// The cluster topology on loopback: three servers joined by routes, one JetStream meta group,
// history R3, pushes answered by all three, and a revocation pushed at one server closing a user
// connected to another.
import { mintChatUser, startTestStack, type TestStack } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectAllConnected,
  expectDiscoveryEverywhere,
  expectHistoryEverywhere,
  expectPushReachesAll,
  readHistoryAsUser,
  revokeAndExpectClose,
  userAt,
} from "./topology-checks.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ topology: "cluster" });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

const server = (i: number) => stack.topology.servers[i] as (typeof stack.topology.servers)[0];

describe("cluster topology", () => {
  it("plans three servers of one region, each routing to all three", () => {
    const { plan } = stack.topology;
    expect(plan.servers.map((s) => `${s.name}@${s.region}`)).toEqual([
      "east-1@east",
      "east-2@east",
      "east-3@east",
    ]);
    expect(plan.storage).toEqual({ domain: "hub", replicas: 3 });
    expect(stack.urls.every((u) => u.startsWith("nats://"))).toBe(true);
  });

  it("every server is healthy with its routes", async () => {
    await expectAllConnected(stack);
  });

  it("server discovery from every server finds all three", async () => {
    await expectDiscoveryEverywhere(stack);
  });

  it("an account JWT push at one server is answered by all three", async () => {
    await expectPushReachesAll(stack, server(1));
  });

  it("history R3 is readable from every server", async () => {
    await expectHistoryEverywhere(stack);
  });

  it("a chat user reads history through the history service", async () => {
    const user = await mintChatUser(stack.dir, "reader");
    const nc = await userAt(stack, server(2), user);
    try {
      const read = await readHistoryAsUser(stack, nc, "General");
      await read.stop();
      expect(read.tokens).toEqual(["first post"]);
    } finally {
      await nc.close();
    }
  });

  it("a revocation pushed at one server closes the user's connection at another", async () => {
    const user = await mintChatUser(stack.dir, "revoked");
    const nc = await userAt(stack, server(2), user);
    expect(await revokeAndExpectClose(stack, user, nc, server(0))).toMatch(/revoked/i);
    await nc.closed();
  });
});
