// Test support: the CHAT history streams, created the way the access service creates them, over
// a connection with the `leaf` role (unrestricted in CHAT), which the caller owns and closes.
import type { NatsConnection } from "@nats-io/nats-core";
import { ensureChatStreams } from "@natschat/access";
import { connectRole } from "@natschat/trust";
import type { TestStack } from "./stack.ts";

/** Ensures CHAT_POSTS and CHAT_DMS (R1, 1,000 per subject) and returns the leaf connection. */
export async function withChatStreams(stack: TestStack): Promise<NatsConnection> {
  const leaf = await connectRole({
    servers: stack.urls,
    credsPath: stack.creds("leaf"),
    inboxOwner: "leaf",
    tlsCaFile: stack.caFile,
  });
  await ensureChatStreams(leaf, { perSubject: 1000, maxAgeDays: 1, replicas: 1 });
  return leaf;
}
