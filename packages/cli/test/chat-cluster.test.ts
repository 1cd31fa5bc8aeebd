// The chat on the cluster topology: a user on east-1 and a user on east-3 chat. Registration, presence, posts and DMs
// both ways, history from both sides, and a revocation that closes the user wherever it is.
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
});
