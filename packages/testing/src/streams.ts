// Test support: the CHAT history stores, created the way the history service creates them, over
// a connection with the `leaf` role (unrestricted in CHAT), which the caller owns and closes.
import type { NatsConnection } from "@nats-io/nats-core";
import { ensureHistoryStores } from "@natschat/history";
import { connectRole } from "@natschat/trust";
import type { TestStack } from "./stack.ts";

/** Ensures CHAT_POSTS, CHAT_DMS and the quota bucket (R1) and returns the leaf connection. */
export async function withChatStreams(stack: TestStack): Promise<NatsConnection> {
  const leaf = await connectRole({
    servers: stack.urls,
    credsPath: stack.creds("leaf"),
    inboxOwner: "leaf",
    tlsCaFile: stack.caFile,
  });
  await ensureHistoryStores(leaf, { replicas: 1 });
  return leaf;
}
