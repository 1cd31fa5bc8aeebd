// The same ChatSession over a websocket (`wsconnect`), as the browser runs it. Node 20 has no
// global WebSocket, so the `ws` package stands in. The chat connections here use wsconnect only;
// the history service and the stand-in directory run on Node connections made before any
// wsconnect (connect and wsconnect should not be mixed in one process: each sets nats-core's
// transport; these service connections never reconnect in this test).
import { wsconnect } from "@nats-io/nats-core";
import { ChatSession, type ChatSessionOptions, waitForSnapshot } from "@natschat/client";
import type { HistoryService } from "@natschat/history";
import {
  mintChatUser,
  startTestDirectory,
  startTestHistory,
  startTestStack,
  type TestDirectory,
  type TestStack,
} from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let history: HistoryService;
let directory: TestDirectory;

beforeAll(async () => {
  // a variable specifier: `ws` ships no types here, and only its constructor is needed
  const specifier = "ws";
  const ws = (await import(specifier)) as { WebSocket: typeof globalThis.WebSocket };
  globalThis.WebSocket ??= ws.WebSocket;
  stack = await startTestStack();
  history = await startTestHistory(stack);
  directory = await startTestDirectory(stack);
});

afterAll(async () => {
  await directory?.stop();
  await history?.stop();
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
    directory.register(ann);
    directory.register(ben);
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
      // the history writer acks asynchronously: wait until it has stored the post
      const deadline = Date.now() + 5000;
      while (history.writer.stats.stored < 1) {
        if (Date.now() > deadline) throw new Error("the history writer never stored the post");
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
