// Upgrading in place: streams made by the access service before issue 10 (v2 subjects
// chat.KUBECON.posts.* / dms.*, discard old, 1 GiB-era limits) are updated by the history
// service to the v3 config; their v2 messages stay in the stream but are never served as such
// (copying the ones the registry can vouch for is migrate-v2's: see cli/test/upgrade-v2).
import { DiscardPolicy, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { createLogger } from "@natschat/access";
import { ensureHistoryStores } from "@natschat/history";
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
let leaf: NatsConnection;

beforeAll(async () => {
  stack = await startTestStack();
  leaf = await connectRole({
    servers: stack.urls,
    credsPath: stack.creds("leaf"),
    inboxOwner: "leaf",
  });
}, 60_000);

afterAll(async () => {
  await leaf?.close();
  await stack?.stop();
});

const wire = (m: { data: Uint8Array; headers?: { get(k: string): string } }) => ({
  data: m.data,
  header: (k: string) => m.headers?.get(k) || undefined,
});

describe("upgrading v2 history streams in place", () => {
  it("updates the config, keeps the old messages unserved, and stores and serves v3 ones", async () => {
    const jsm = await jetstreamManager(leaf);
    // the v2 config, as packages/access/src/streams.ts made it
    for (const [name, subject] of [
      ["CHAT_POSTS", "chat.KUBECON.posts.*"],
      ["CHAT_DMS", "chat.KUBECON.dms.*"],
    ] as const) {
      await jsm.streams.add({
        name,
        subjects: [subject],
        max_msgs_per_subject: 1000,
        max_age: 30 * 24 * 3600 * 1e9,
        max_bytes: 256 * 1024 * 1024,
        max_msg_size: 16 * 1024,
        num_replicas: 1,
        deny_delete: true,
        deny_purge: true,
        allow_direct: false,
      });
    }
    await leaf.publish("chat.KUBECON.posts.General", "a v2 post");
    await leaf.flush();
    await ensureHistoryStores(leaf, { replicas: 1 });
    const info = await jsm.streams.info("CHAT_POSTS");
    expect(info.config.subjects).toEqual(["chat.store.posts.*.*"]);
    expect(info.config.discard).toBe(DiscardPolicy.New);
    expect(info.config.allow_direct).toBe(true);
    expect(info.state.messages).toBe(1); // the v2 message is still there

    // a replica started before `natschat upgrade` moved them says so in its log
    const lines: string[] = [];
    const history = await startTestHistory(stack, {
      ensureStores: false,
      log: createLogger({ level: "warn", sink: (line) => lines.push(line) }),
    });
    expect(lines.join("\n")).toContain("protocol v2 messages not moved yet");
    try {
      const alice = await mintChatUser(stack.dir, "alice");
      const nc = await connectChatUser(stack, alice);
      const token = await encodePost(await signerFromSeed(alice.seed), {
        name: "alice",
        channel: "General",
        msg: "a v3 post",
      });
      expect(
        parseStoreReply(
          wire(await nc.request(postSubject("General", alice.publicKey), token, { timeout: 5000 })),
        ),
      ).toMatchObject({ ok: true, value: { seq: 2 } });
      const page = parseHistoryReply(
        wire(
          await nc.request(
            HISTORY_POSTS_SUBJECT,
            encodeHistoryPostsRequest({ channel: "General" }),
            {
              timeout: 5000,
            },
          ),
        ),
      );
      expect(page.ok && page.value.messages.map((m) => m.token)).toEqual([token]);
      await nc.close();
    } finally {
      await history.stop();
    }
  });
});
