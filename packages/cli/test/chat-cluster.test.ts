// The chat on the cluster topology: a user on east-1 and a user on east-3 chat. Registration, presence, posts and DMs
// both ways, history from both sides, and a revocation that closes the user wherever it is.
// `natschat status` reports the three servers, the meta group and the access service.
import { runCli } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatStack, chatAcross, expectPlacement, startChatStack } from "./multi-region.ts";

let cs: ChatStack;
beforeAll(async () => {
  cs = await startChatStack({ topology: "cluster" });
}, 180_000);
afterAll(async () => {
  await cs?.stop();
});

const server = (i: number) =>
  cs.stack.topology.servers.at(i) as (typeof cs.stack.topology.servers)[0];

describe("chat on the cluster topology", () => {
  it("a user on east-1 and a user on east-3 chat", async () => {
    const ms = await chatAcross(cs, server(0), server(2), server(1), "cluster");
    expect(ms).toBeGreaterThan(0);
    await expectPlacement(cs);
    // a figure for the reader, not an assertion (bench/revocation.ts measures properly)
    console.log(
      `revocation on cluster (request at ${server(1).spec.name}, user at ${server(2).spec.name}): ${ms.toFixed(1)} ms`,
    );
  });

  it("natschat status reports the servers, a formed JetStream meta group and the service", async () => {
    const args = ["--dir", cs.stack.dir, "--server", server(1).url];
    const text = await runCli(["status", ...args]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/servers \(3\):/);
    expect(text.stdout).toMatch(
      /jetstream meta group: leader east-\d, size 3, 3 servers answer; formed/,
    );
    expect(text.stdout).not.toMatch(/left out/);
    const json = await runCli(["status", "--json", ...args]);
    const report = JSON.parse(json.stdout) as {
      jetstream: { views: { server: string; clusterSize?: number }[]; leftOut: string[] };
    };
    expect(report.jetstream.views.map((v) => [v.server, v.clusterSize])).toEqual([
      ["east-1", 3],
      ["east-2", 3],
      ["east-3", 3],
    ]);
    expect(report.jetstream.leftOut).toEqual([]);
  });
});
