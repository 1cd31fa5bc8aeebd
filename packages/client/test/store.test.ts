// requestStore against a real server and the history writer, as a chat user: a message sent
// twice under its Nats-Msg-Id (a repeat whose first ack was lost) is stored once, a DM is one
// message, a message the writer refuses for good (too old) is CHAT_STORE_REFUSED (the outbox
// gives it up instead of repeating it), and a closed connection rejects (the outbox keeps it).
import type { NatsConnection } from "@nats-io/nats-core";
import { isRefusal, requestStore } from "@natschat/client";
import type { HistoryService } from "@natschat/history";
import {
  decodeJwtUnverified,
  dmSubject,
  encodeDm,
  encodeHistoryDmsRequest,
  encodeHistoryPostsRequest,
  encodePost,
  HISTORY_DMS_SUBJECT,
  HISTORY_POSTS_SUBJECT,
  parseHistoryReply,
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
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let history: HistoryService;

beforeAll(async () => {
  stack = await startTestStack();
  history = await startTestHistory(stack);
});

afterAll(async () => {
  await history?.stop();
  await stack?.stop();
});

const jti = (token: string) => String(decodeJwtUnverified(token).payload.jti);

/** What the history service returns for a request, as the user of `nc`. */
async function read(nc: NatsConnection, subject: string, body: string): Promise<string[]> {
  const m = await nc.request(subject, body, { timeout: 5000 });
  const r = parseHistoryReply({ data: m.data, header: (h) => m.headers?.get(h) || undefined });
  if (!r.ok) throw new Error(r.message);
  return r.value.messages.map((x) => x.token ?? "");
}

describe("requestStore", () => {
  it("stores a message once per message id, and a DM once for both sides", async () => {
    const user = await mintChatUser(stack.dir, "keeper");
    const peer = await mintChatUser(stack.dir, "peer");
    const nc = await connectChatUser(stack, user);
    const peerNc = await connectChatUser(stack, peer);
    try {
      const store = requestStore(() => nc);
      const signer = await signerFromSeed(user.seed);
      const post = await encodePost(signer, { name: "keeper", channel: "store", msg: "once" });
      const entry = {
        subject: postSubject("store", user.publicKey),
        token: post,
        msgId: jti(post),
      };
      await store(entry, false);
      await store(entry, true); // the repeat: acked (as a duplicate), not stored again
      const posts = await read(
        nc,
        HISTORY_POSTS_SUBJECT,
        encodeHistoryPostsRequest({ channel: "store" }),
      );
      expect(posts).toEqual([post]);

      const dm = await encodeDm(signer, { name: "keeper", to: peer.publicKey, msg: "one copy" });
      await store(
        { subject: dmSubject(peer.publicKey, user.publicKey), token: dm, msgId: jti(dm) },
        false,
      );
      // both sides read it from their own DM history
      expect(await read(nc, HISTORY_DMS_SUBJECT, encodeHistoryDmsRequest())).toEqual([dm]);
      expect(await read(peerNc, HISTORY_DMS_SUBJECT, encodeHistoryDmsRequest())).toEqual([dm]);
    } finally {
      await nc.close();
      await peerNc.close();
    }
  });

  it("a message too old to store is refused for good; a closed connection only fails", async () => {
    const user = await mintChatUser(stack.dir, "stale");
    const nc = await connectChatUser(stack, user);
    const store = requestStore(() => nc);
    const signer = await signerFromSeed(user.seed);
    const old = await encodePost(signer, {
      name: "stale",
      channel: "store",
      msg: "from an hour ago",
      now: Date.now() - 3600_000,
    });
    const entry = { subject: postSubject("store", user.publicKey), token: old, msgId: jti(old) };
    const err = await store(entry, false).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRefusal(err)).toBe(true);
    expect(err).toMatchObject({ serviceCode: "STALE" });
    await nc.close();
    const closed = await store(entry, false).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(closed).toBeInstanceOf(Error);
    expect(isRefusal(closed)).toBe(false);
  });
});
