// jetStreamStore against a real server, as a chat user: a message stored twice under its
// Nats-Msg-Id (a repeat whose first confirmation was lost) is kept once, a DM and our own copy
// of it are two messages, and a subject no stream takes is refused (so the outbox keeps it).
import { jetstreamManager } from "@nats-io/jetstream";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { jetStreamStore, storeMsgId } from "@natschat/client";
import {
  decodeJwtUnverified,
  dmSubject,
  encodeDm,
  encodePost,
  inboxPrefixFor,
  postsSubject,
  signerFromSeed,
} from "@natschat/protocol";
import {
  type MintedUser,
  mintChatUser,
  startTestStack,
  type TestStack,
  withChatStreams,
} from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let leaf: NatsConnection;

beforeAll(async () => {
  stack = await startTestStack();
  leaf = await withChatStreams(stack);
});

afterAll(async () => {
  await leaf?.close();
  await stack?.stop();
});

/** Connects as a chat user, with the permissions the access service issues. */
function connectUser(user: MintedUser): Promise<NatsConnection> {
  return connect({
    servers: stack.urls,
    authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)),
    inboxPrefix: inboxPrefixFor(user.publicKey),
  });
}

const jti = (token: string) => String(decodeJwtUnverified(token).payload.jti);

/** How many messages the stream holds on `subject`. */
async function stored(stream: string, subject: string): Promise<number> {
  const jsm = await jetstreamManager(leaf);
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

describe("jetStreamStore", () => {
  it("keeps one copy per message id, and two for a DM and our own copy of it", async () => {
    const user = await mintChatUser(stack.dir, "keeper");
    const peer = await mintChatUser(stack.dir, "peer");
    const nc = await connectUser(user);
    try {
      const store = jetStreamStore(() => nc);
      const signer = await signerFromSeed(user.seed);
      const post = await encodePost(signer, { name: "keeper", channel: "store", msg: "once" });
      const subject = postsSubject("store");
      const entry = { subject, token: post, msgId: storeMsgId(jti(post), subject) };
      await store(entry, false);
      await store(entry, true); // the repeat: confirmed (as a duplicate), not stored again
      expect(await stored("CHAT_POSTS", subject)).toBe(1);

      const dm = await encodeDm(signer, { name: "keeper", to: peer.publicKey, msg: "two copies" });
      for (const to of [peer.publicKey, user.publicKey]) {
        const s = dmSubject(to);
        await store({ subject: s, token: dm, msgId: storeMsgId(jti(dm), s) }, false);
        expect(await stored("CHAT_DMS", s)).toBe(1);
      }
    } finally {
      await nc.close();
    }
  });

  it("rejects when no stream takes the subject, and when the connection is closed", async () => {
    const user = await mintChatUser(stack.dir, "nostream");
    const nc = await connectUser(user);
    const store = jetStreamStore(() => nc);
    // presence is live only: no stream confirms it
    const entry = { subject: "chat.KUBECON.online", token: "x", msgId: "x@online" };
    await expect(store(entry, false)).rejects.toThrow();
    await nc.close();
    await expect(store(entry, false)).rejects.toThrow(/closed/);
  });
});
