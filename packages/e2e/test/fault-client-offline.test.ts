// Fault: a client is offline for a while. Its connection runs through a TCP proxy, so only this
// client loses the network while the server and the other users carry on. While it is away
// others post and DM it; when the network comes back the session reconnects by itself and
// backfills from the history service what it missed: every post and DM once, in order, none twice, none
// dropped, and counted as unread. What the client itself sent while offline waits in its outbox
// (store-and-forward) and is delivered and stored once, when it is back.
import { waitForSnapshot } from "@natschat/client";
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
import { SessionPool, TcpProxy, texts, waitForPost, waitOnline } from "../src/mod.ts";

let stack: TestStack;
// protocol v3: the history service stores and serves history; names come from the directory
let history: HistoryService;
let directory: TestDirectory;
let proxy: TcpProxy;
let pool: SessionPool;

beforeAll(async () => {
  stack = await startTestStack();
  history = await startTestHistory(stack);
  directory = await startTestDirectory(stack);
  const port = Number(new URL((stack.urls[0] as string).replace("nats:", "http:")).port);
  proxy = await TcpProxy.start({ port });
  pool = new SessionPool(stack.trust.summary);
});

afterAll(async () => {
  await pool?.stopAll();
  await directory?.stop();
  await history?.stop();
  await proxy?.close();
  await stack?.stop();
});

describe("fault: a client offline for a while", () => {
  it("gets the posts and DMs it missed on return, once each, in order", async () => {
    const [away, other] = await Promise.all([
      mintChatUser(stack.dir, "away"),
      mintChatUser(stack.dir, "other"),
    ]);
    directory.register(away);
    directory.register(other);
    const a = await pool.open(away, [`nats://127.0.0.1:${proxy.port}`], "away");
    const o = await pool.open(other, stack.urls, "other");
    await Promise.all([waitOnline(a, [other.publicKey]), waitOnline(o, [away.publicKey])]);
    await a.historyLoaded();
    await o.send("#NATS", "before 1");
    await o.send("#NATS", "before 2");
    await waitForPost(a, "NATS", "before 2", { from: "other" });

    const unreadBefore = a.snapshot().channels.find((c) => c.id === "#NATS")?.unread ?? 0;
    const states: string[] = [];
    a.onChange(() => {
      if (states.at(-1) !== a.state) states.push(a.state);
    });
    proxy.cut();
    await waitForSnapshot(a, (s) => s.state === "reconnecting", {
      what: "the away client to notice it is offline",
    });
    const missed = Array.from({ length: 12 }, (_, i) => `while away ${i + 1}`);
    for (const text of missed) await o.send("#NATS", text);
    await o.send(`@${away.publicKey}`, "a DM while away");
    // the posts are stored before the client comes back (a round trip orders them)
    await pool.connectionOf(o).flush();
    expect(a.state).toBe("reconnecting");
    // the away client says something meanwhile: the history stream cannot confirm it
    await a.send("#General", "sent while away");
    await waitForSnapshot(
      a,
      (s) => /1 sent message not saved to history yet/.test(s.notice ?? ""),
      {
        timeoutMs: 15_000,
        what: "the away client to report its unsaved post",
      },
    );

    proxy.heal();
    const back = await waitForSnapshot(
      a,
      (s) =>
        s.state === "connected" &&
        texts(s, "NATS").includes(missed.at(-1) as string) &&
        s.dms.some((d) => d.messages.some((m) => m.text === "a DM while away")),
      { timeoutMs: 20_000, what: "the away client to reconnect and backfill what it missed" },
    );
    await a.historyLoaded();
    const after = a.snapshot();
    expect(states).toEqual(["reconnecting", "connected"]);
    expect(texts(after, "NATS")).toEqual(["before 1", "before 2", ...missed]);
    const nats = after.channels.find((c) => c.id === "#NATS");
    expect(new Set(nats?.messages.map((m) => m.id)).size).toBe(nats?.messages.length);
    expect(nats?.messages.every((m) => m.name === "other" || m.mine)).toBe(true);
    expect((nats?.unread ?? 0) - unreadBefore, "the missed posts count as unread").toBe(
      missed.length,
    );
    const dm = after.dms.find((d) => d.peer === other.publicKey);
    expect(dm?.messages.map((m) => m.text)).toEqual(["a DM while away"]);
    expect(after.dropped).toBe(0);
    expect(back.state).toBe("connected");

    // what it said while away reaches the other user and the history, once
    await waitForPost(o, "General", "sent while away", { from: "away", timeoutMs: 20_000 });
    await waitForSnapshot(a, (s) => s.notice === undefined, {
      timeoutMs: 20_000,
      what: "the away client's post to be stored",
    });
    const later = await pool.open(other, stack.urls, "other-later");
    await later.historyLoaded();
    for (const s of [o, later]) {
      expect(texts(s.snapshot(), "General").filter((t) => t === "sent while away")).toHaveLength(1);
      expect(s.snapshot().dropped).toBe(0);
    }

    // and live delivery resumes, still once
    await o.send("#NATS", "after return");
    await waitForPost(a, "NATS", "after return", { from: "other" });
    expect(texts(a.snapshot(), "NATS").filter((t) => t === "after return")).toHaveLength(1);
  });
});
