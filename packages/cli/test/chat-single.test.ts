// The chat on the single topology: two users on the one server chat. Registration, presence, posts and DMs
// both ways, history from both sides, and a revocation that closes the user wherever it is.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatStack, chatAcross, expectPlacement, startChatStack } from "./multi-region.ts";

let cs: ChatStack;
beforeAll(async () => {
  cs = await startChatStack({ topology: "single" });
}, 180_000);
afterAll(async () => {
  await cs?.stop();
});

const server = (i: number) =>
  cs.stack.topology.servers.at(i) as (typeof cs.stack.topology.servers)[0];

describe("chat on the single topology", () => {
  it("two users on the one server chat", async () => {
    const ms = await chatAcross(cs, server(0), server(0), server(0), "single");
    expect(ms).toBeGreaterThan(0);
    await expectPlacement(cs);
    // a figure for the reader, not an assertion (bench/revocation.ts measures properly)
    console.log(
      `revocation on single (request at ${server(0).spec.name}, user at ${server(0).spec.name}): ${ms.toFixed(1)} ms`,
    );
  });
});
