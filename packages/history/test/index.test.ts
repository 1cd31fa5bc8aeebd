// Unit tests of the conversation index and of who a reader believes is asking.
import { createUser } from "@nats-io/nkeys";
import {
  ConversationIndex,
  HistoryReaders,
  IndexBuilder,
  requesterOf,
  silentLoggerForTests,
  threadKey,
} from "@natschat/history";
import { describe, expect, it } from "vitest";

const chat = "ACHAT";
const u = createUser().getPublicKey();

describe("ConversationIndex", () => {
  it("pages backward: the last n before a sequence, and whether older ones exist", () => {
    const ix = new ConversationIndex();
    for (const seq of [1, 4, 7, 9, 12]) ix.add("p a", seq);
    ix.add("p b", 5);
    expect(ix.page("p a", undefined, 2)).toEqual({ seqs: [9, 12], more: true });
    expect(ix.page("p a", 9, 2)).toEqual({ seqs: [4, 7], more: true });
    expect(ix.page("p a", 4, 10)).toEqual({ seqs: [1], more: false });
    expect(ix.page("p a", 1, 10)).toEqual({ seqs: [], more: false });
    expect(ix.page("nobody", undefined, 10)).toEqual({ seqs: [], more: false });
    ix.add("p a", 8); // out of order: inserted in place, once
    ix.add("p a", 8);
    expect(ix.page("p a", 10, 3).seqs).toEqual([7, 8, 9]);
    ix.remove("p a", 8);
    ix.remove("p a", 100);
    expect(ix.page("p a", 10, 3).seqs).toEqual([4, 7, 9]);
    expect(ix.size).toBe(6);
  });
});

describe("IndexBuilder: the index holds what the stream holds", () => {
  const v = createUser().getPublicKey();
  const w = createUser().getPublicKey();

  it("mirrors the per-subject limit: a sender's oldest goes, nobody else's", () => {
    const ix = new ConversationIndex();
    const b = new IndexBuilder(ix, 2);
    b.add(`chat.store.posts.NATS.${u}`, 1);
    b.add(`chat.store.posts.NATS.${v}`, 2); // someone else's
    b.add(`chat.store.posts.NATS.${u}`, 3);
    b.add(`chat.store.posts.NATS.${u}`, 4); // evicts u's 1, as the stream does
    expect(ix.page("p NATS", undefined, 10).seqs).toEqual([2, 3, 4]);
    // DMs: under the recipient, the sender and the pair
    b.add(`chat.store.dms.${v}.${u}`, 5);
    b.add(`chat.store.dms.${u}.${w}`, 6);
    expect(ix.page(`u ${u}`, undefined, 10).seqs).toEqual([5, 6]);
    expect(ix.page(`u ${v}`, undefined, 10).seqs).toEqual([5]);
    expect(ix.page(u < v ? `d ${u} ${v}` : `d ${v} ${u}`, undefined, 10).seqs).toEqual([5]);
    // v2 subjects (no server-proven sender) are never indexed
    b.add("chat.KUBECON.posts.NATS", 7);
    b.add("chat.store.posts.NATS", 8);
    // posts 2, 3, 4 once each; each DM under recipient, sender and pair
    expect(ix.size).toBe(3 + 3 + 3);
  });

  it("knows each message by id and lists threads; forgets both when the stream drops the message", () => {
    const ix = new ConversationIndex();
    const b = new IndexBuilder(ix, 2);
    const root = `${v}.root`;
    b.add(`chat.store.posts.NATS.${v}`, 1, { id: root });
    b.add(`chat.store.posts.NATS.${u}`, 2, { id: `${u}.a`, thread: root });
    b.add(`chat.store.posts.NATS.${w}`, 3, { id: `${w}.b`, thread: root });
    expect(ix.seqOf(root)).toBe(1);
    expect(ix.metaOf(2)).toEqual({ id: `${u}.a`, thread: root });
    expect(ix.page(threadKey(root), undefined, 10).seqs).toEqual([2, 3]);
    // u's reply is evicted by u's later posts (per-subject limit 2): its id and thread entry go
    b.add(`chat.store.posts.NATS.${u}`, 4, { id: `${u}.c` });
    b.add(`chat.store.posts.NATS.${u}`, 5, { id: `${u}.d` });
    expect(ix.seqOf(`${u}.a`)).toBeUndefined();
    expect(ix.page(threadKey(root), undefined, 10).seqs).toEqual([3]);
    // aged out: the root and w's reply
    b.pruneBefore(4);
    expect(ix.seqOf(root)).toBeUndefined();
    expect(ix.metaOf(3)).toBeUndefined();
    expect(ix.page(threadKey(root), undefined, 10).seqs).toEqual([]);
    expect(ix.seqOf(`${u}.d`)).toBe(5);
  });

  it("prunes below the stream's first sequence (aged out)", () => {
    const ix = new ConversationIndex();
    const b = new IndexBuilder(ix, 1000);
    for (let seq = 1; seq <= 10; seq++) b.add(`chat.store.posts.NATS.${u}`, seq);
    b.add(`chat.store.posts.Old.${u}`, 11);
    b.pruneBefore(8);
    expect(ix.page("p NATS", undefined, 100).seqs).toEqual([8, 9, 10]);
    expect(ix.page("p Old", undefined, 100).seqs).toEqual([11]);
    b.pruneBefore(12);
    expect(ix.size).toBe(0);
  });
});

describe("unread counts and DM peers (read state)", () => {
  const v = createUser().getPublicKey();
  const w = createUser().getPublicKey();

  it("counts after a position per conversation and per sender, and lists DM peers the index holds", () => {
    const ix = new ConversationIndex();
    const b = new IndexBuilder(ix, 1000);
    b.add(`chat.store.posts.NATS.${v}`, 1);
    b.add(`chat.store.posts.NATS.${u}`, 2);
    b.add(`chat.store.posts.NATS.${v}`, 3);
    expect(ix.countAfter("p NATS", 0)).toBe(3);
    expect(ix.countAfter("p NATS", 1)).toBe(2);
    expect(ix.countAfter("p NATS", 3)).toBe(0);
    expect(ix.countAfter("p nowhere", 0)).toBe(0);
    expect(b.countAfterOf(`chat.store.posts.NATS.${u}`, 1)).toBe(1);
    expect(b.countAfterOf(`chat.store.posts.NATS.${u}`, 2)).toBe(0);
    expect(ix.last("p NATS")).toBe(3);
    b.add(`chat.store.dms.${u}.${v}`, 10);
    b.add(`chat.store.dms.${w}.${u}`, 11);
    b.add(`chat.store.dms.${u}.${u}`, 12); // a note to oneself: no peer
    expect(b.dmPeersOf(u).sort()).toEqual([v, w].sort());
    expect(b.dmPeersOf(v)).toEqual([u]);
    b.pruneBefore(11); // the DM with v aged out
    expect(b.dmPeersOf(u)).toEqual([w]);
    expect(b.dmPeersOf(v)).toEqual([]);
  });
});

describe("requesterOf: the server's Nats-Request-Info, or nothing", () => {
  it("takes acc and user only when acc is CHAT and user a user key", () => {
    expect(
      requesterOf(JSON.stringify({ acc: chat, user: u, rtt: 1, kind: "Client" }), chat),
    ).toEqual({
      account: chat,
      user: u,
      viaLeafnode: false,
    });
    // through an edge server, nats-server names the edge's leaf binding, not the person asking
    expect(requesterOf(JSON.stringify({ acc: chat, user: u, kind: "Leafnode" }), chat)).toEqual({
      account: chat,
      user: u,
      viaLeafnode: true,
    });
    for (const bad of [
      undefined,
      "",
      "{",
      "null",
      "[]",
      JSON.stringify({ acc: "AOTHER", user: u }),
      JSON.stringify({ acc: chat, user: "bob" }),
      JSON.stringify({ acc: chat, user: { $ne: 1 } }),
      JSON.stringify({ acc: chat }),
      "x".repeat(20_000),
    ])
      expect(requesterOf(bad, chat), String(bad).slice(0, 30)).toBeUndefined();
  });

  it("a request without the header (not through CHAT's import) is refused NO_IDENTITY", async () => {
    const readers = new HistoryReaders({
      chatAccount: chat,
      direct: { getMessage: async () => null } as never,
      posts: { stream: "CHAT_POSTS", index: new ConversationIndex() },
      dms: { stream: "CHAT_DMS", index: new ConversationIndex() },
      maxReplyBytes: 1 << 20,
      log: silentLoggerForTests,
    });
    const req = new TextEncoder().encode('{"channel":"NATS"}');
    expect(await readers.read("posts", req, undefined)).toMatchObject({
      ok: false,
      code: "NO_IDENTITY",
    });
    expect(await readers.read("dms", new Uint8Array(), "garbage")).toMatchObject({
      ok: false,
      code: "NO_IDENTITY",
    });
    const info = JSON.stringify({ acc: chat, user: u });
    // a DM page asked through an edge: refused, never the leaf binding's "own" DMs
    expect(
      await readers.read(
        "dms",
        new Uint8Array(),
        JSON.stringify({ acc: chat, user: u, kind: "Leafnode" }),
      ),
    ).toMatchObject({ ok: false, code: "NO_IDENTITY" });
    expect(await readers.read("dms", new Uint8Array([0xff]), info)).toMatchObject({
      ok: false,
      code: "BAD_REQUEST",
    });
    // a sequence the stream no longer has is dropped from the index, and the page says so
    const ix = new ConversationIndex();
    ix.add(`u ${u}`, 3);
    const r2 = new HistoryReaders({ ...readers.opts, dms: { stream: "CHAT_DMS", index: ix } });
    expect(await r2.read("dms", new Uint8Array(), info)).toEqual({
      ok: true,
      body: '{"messages":[],"more":false}',
    });
    expect(ix.size).toBe(0);
  });

  it("bounds the reads one requester has in flight, and frees them after", async () => {
    const ix = new ConversationIndex();
    ix.add("p slow", 1);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const readers = new HistoryReaders({
      chatAccount: chat,
      direct: { getMessage: async () => gate.then(() => null) } as never,
      posts: { stream: "CHAT_POSTS", index: ix },
      dms: { stream: "CHAT_DMS", index: new ConversationIndex() },
      maxReplyBytes: 1 << 20,
      maxInFlightPerUser: 2,
      log: silentLoggerForTests,
    });
    const info = JSON.stringify({ acc: chat, user: u });
    const req = new TextEncoder().encode('{"channel":"slow"}');
    const pending = [readers.read("posts", req, info), readers.read("posts", req, info)];
    expect(await readers.read("posts", req, info)).toMatchObject({
      ok: false,
      code: "UNAVAILABLE",
    });
    // another requester is not held up by this one
    const other = JSON.stringify({ acc: chat, user: createUser().getPublicKey() });
    const third = readers.read("posts", req, other);
    release();
    for (const r of [...(await Promise.all(pending)), await third]) expect(r.ok).toBe(true);
    expect((await readers.read("posts", req, info)).ok).toBe(true);
  });
});
