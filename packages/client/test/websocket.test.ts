// The same ChatSession over a websocket (`wsconnect`), as the browser runs it. Node 20 has no
// global WebSocket, so the `ws` package stands in. This file uses wsconnect only: connect and
// wsconnect must not be mixed in one process (vitest runs each file in its own fork).
import { readFile } from "node:fs/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { credsAuthenticator, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { ensureChatStreams } from "@natschat/access";
import { ChatSession, type ChatSessionOptions, waitForSnapshot } from "@natschat/client";
import { mintChatUser, startTestStack, type TestStack } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let leaf: NatsConnection;

beforeAll(async () => {
  // a variable specifier: `ws` ships no types here, and only its constructor is needed
  const specifier = "ws";
  const ws = (await import(specifier)) as { WebSocket: typeof globalThis.WebSocket };
  globalThis.WebSocket ??= ws.WebSocket;
  stack = await startTestStack();
  // the history streams, created over websocket too (leaf creds are unrestricted in CHAT)
  leaf = await wsconnect({
    servers: stack.topology.servers[0]?.websocketUrl as string,
    authenticator: credsAuthenticator(await readFile(stack.creds("leaf"))),
  });
  await ensureChatStreams(leaf, { perSubject: 100, maxAgeDays: 1, replicas: 1 });
});

afterAll(async () => {
  await leaf?.close();
  await stack?.stop();
});

describe("ChatSession over websocket", () => {
  it("connects with wsconnect, sees presence and exchanges a post", async () => {
    const chat = stack.trust.summary.accounts.CHAT;
    const url = stack.topology.servers[0]?.websocketUrl as string;
    const opts: ChatSessionOptions = {
      servers: url,
      connect: wsconnect,
      chatAccount: chat.publicKey,
      chatSigningKeys: chat.signingKeys,
      channels: ["web"],
    };
    const ann = await mintChatUser(stack.dir, "ann");
    const ben = await mintChatUser(stack.dir, "ben");
    const a = new ChatSession({ jwt: ann.jwt, seed: ann.seed }, opts);
    const b = new ChatSession({ jwt: ben.jwt, seed: ben.seed }, opts);
    try {
      await a.start();
      await b.start();
      await waitForSnapshot(b, (s) => s.users.some((u) => u.name === "ann" && u.online), {
        timeoutMs: 1000,
        what: "ben to see ann over websocket",
      });
      await a.send("#web", "over the websocket");
      const s = await waitForSnapshot(
        b,
        (x) => x.channels[0]?.messages.some((m) => m.text === "over the websocket") ?? false,
        { what: "the post over websocket" },
      );
      expect(s.channels[0]?.messages.at(-1)).toMatchObject({ name: "ann", from: ann.publicKey });
      // history reads work over websocket too
      await b.historyLoaded();
      expect(b.snapshot().channels[0]?.history).toBe("loaded");
      // JetStream stores asynchronously: wait until the post is in the stream
      const jsm = await jetstreamManager(leaf);
      const deadline = Date.now() + 5000;
      while ((await jsm.streams.info("CHAT_POSTS")).state.messages < 1) {
        if (Date.now() > deadline) throw new Error("the post never reached CHAT_POSTS");
        await new Promise((r) => setTimeout(r, 20));
      }
      const c = new ChatSession({ jwt: ben.jwt, seed: ben.seed }, opts);
      await c.start();
      await c.historyLoaded();
      expect(c.snapshot().channels[0]?.messages.map((m) => m.text)).toEqual(["over the websocket"]);
      await c.stop();
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
