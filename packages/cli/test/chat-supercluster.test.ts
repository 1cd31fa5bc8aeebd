// The chat on the supercluster topology (regions eu and us): a user in region eu and a user in region us chat. Registration, presence, posts and DMs
// both ways, history from both sides, and a revocation that closes the user wherever it is.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatStack, chatAcross, expectPlacement, startChatStack } from "./multi-region.ts";

let cs: ChatStack;
beforeAll(async () => {
  cs = await startChatStack({ topology: "supercluster", regions: ["eu", "us"] });
}, 180_000);
afterAll(async () => {
  await cs?.stop();
});

const server = (i: number) =>
  cs.stack.topology.servers.at(i) as (typeof cs.stack.topology.servers)[0];

describe("chat on the supercluster topology", () => {
  it("a user in region eu and a user in region us chat", async () => {
    const ms = await chatAcross(cs, server(0), server(4), server(1), "supercluster");
    expect(ms).toBeGreaterThan(0);
    await expectPlacement(cs);
    // a figure for the reader, not an assertion (bench/revocation.ts measures properly)
    console.log(
      `revocation on supercluster (request at ${server(1).spec.name}, user at ${server(4).spec.name}): ${ms.toFixed(1)} ms`,
    );
  });
});
