// Pushing account JWTs reaches every server of a cluster, and each server's reply is reported.
import { startTestStack, type TestStack } from "@natschat/testing";
import { connectRole, discoverServers, pushAll } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ topology: "cluster" });
});
afterAll(async () => {
  await stack?.stop();
});

describe("push", () => {
  it("collects a reply from every server of a 3-server cluster", async () => {
    const nc = await connectRole({
      servers: stack.urls[0] as string,
      credsPath: stack.creds("push"),
      inboxOwner: "push",
    });
    try {
      const names = await discoverServers(nc);
      expect(names.sort()).toEqual(stack.topology.servers.map((s) => s.spec.name).sort());
      const { replies } = await pushAll(nc, Object.values(stack.trust.accountJwts));
      for (const perAccount of replies) {
        expect(perAccount.map((r) => r.server).sort()).toEqual(names.sort());
        expect(perAccount.every((r) => r.ok)).toBe(true);
      }
    } finally {
      await nc.close();
    }
  });
});
