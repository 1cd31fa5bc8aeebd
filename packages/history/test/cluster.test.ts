// The history stores on a three-server cluster (R3): created within the CHAT account's
// JetStream limits, and re-created after a restart of every server from the same data dir.
// Before, the CHAT disk limit (1 GiB) was below R3 × 2 × 256 MiB and `up --topology cluster`
// failed on its own data dir with "insufficient storage resources available".
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  encodeHistoryPostsRequest,
  encodePost,
  HISTORY_POSTS_SUBJECT,
  parseHistoryReply,
  parseStoreReply,
  postSubject,
  signerFromSeed,
} from "@natschat/protocol";
import {
  connectChatUser,
  mintChatUser,
  startTestHistory,
  startTestStack,
  type TestStack,
} from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ topology: "cluster" });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const wire = (m: { data: Uint8Array; headers?: { get(k: string): string } }) => ({
  data: m.data,
  header: (k: string) => m.headers?.get(k) || undefined,
});

describe("history stores in a cluster", () => {
  it("R3 streams fit the account limits, and survive a restart of every server", async () => {
    let history = await startTestHistory(stack, { replicas: 3 });
    const alice = await mintChatUser(stack.dir, "alice");
    let nc: NatsConnection = await connectChatUser(stack, alice);
    const token = await encodePost(await signerFromSeed(alice.seed), {
      name: "alice",
      channel: "General",
      msg: "before the restart",
    });
    const ack = parseStoreReply(
      wire(await nc.request(postSubject("General", alice.publicKey), token, { timeout: 10_000 })),
    );
    expect(ack).toMatchObject({ ok: true });
    await nc.close();
    await history.stop();

    await stack.restart();
    history = await startTestHistory(stack, { replicas: 3 });
    try {
      const leaf = await connectRole({
        servers: stack.urls,
        credsPath: stack.creds("leaf"),
        inboxOwner: "leaf",
      });
      const info = await (await jetstreamManager(leaf)).streams.info("CHAT_POSTS");
      expect(info.config.num_replicas).toBe(3);
      await leaf.close();
      nc = await connectChatUser(stack, alice);
      const page = parseHistoryReply(
        wire(
          await nc.request(
            HISTORY_POSTS_SUBJECT,
            encodeHistoryPostsRequest({ channel: "General" }),
            {
              timeout: 10_000,
            },
          ),
        ),
      );
      expect(page.ok && page.value.messages.map((m) => m.token)).toEqual([token]);
      await nc.close();
    } finally {
      await history.stop();
    }
  }, 240_000);
});
