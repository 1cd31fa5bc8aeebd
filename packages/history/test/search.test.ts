// Search (issue 13) against a real nats-server: chat.svc.history.search finds a case-insensitive
// substring in every channel and in the requester's own DMs (never anyone else's: the identity
// is the server's), newest first, in pages with a cursor; one request looks at a bounded number
// of stored messages, so older hits come on later pages; bad requests get BAD_REQUEST.
import { headers, type Msg, type NatsConnection } from "@nats-io/nats-core";
import type { HistoryService } from "@natschat/history";
import {
  decodeJwtUnverified,
  dmSubject,
  encodeDelete,
  encodeDm,
  encodeEdit,
  encodePost,
  encodeSearchRequest,
  eventSubject,
  HISTORY_SEARCH_SUBJECT,
  messageId,
  parseEventReply,
  parseSearchReply,
  parseStoreReply,
  postSubject,
  SEARCH_SCAN_MAX,
  type SearchHit,
  type SearchRequest,
  type Signer,
  signerFromSeed,
} from "@natschat/protocol";
import {
  connectChatUser,
  type MintedUser,
  mintChatUser,
  startTestHistory,
  startTestStack,
  type TestStack,
} from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let history: HistoryService;
let alice: MintedUser;
let bob: MintedUser;
let carol: MintedUser;
let aliceNc: NatsConnection;
let bobNc: NatsConnection;
let carolNc: NatsConnection;
let signers: Record<string, Signer>;
const needles: number[] = [];

const wire = (m: Msg) => ({ data: m.data, header: (k: string) => m.headers?.get(k) || undefined });

async function search(nc: NatsConnection, req: SearchRequest | string, h?: Msg["headers"]) {
  const body = typeof req === "string" ? req : encodeSearchRequest(req);
  const r = await nc.request(HISTORY_SEARCH_SUBJECT, body, {
    timeout: 10_000,
    ...(h ? { headers: h } : {}),
  });
  return parseSearchReply(wire(r));
}

/** Every page of a search, in order. */
async function pages(
  nc: NatsConnection,
  req: SearchRequest,
  h?: Msg["headers"],
): Promise<SearchHit[][]> {
  const out: SearchHit[][] = [];
  let cursor: string | undefined;
  do {
    const started = performance.now();
    const r = await search(nc, { ...req, ...(cursor ? { cursor } : {}) }, h);
    if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
    console.log(
      `search ${JSON.stringify(req.q)}: page ${out.length + 1} (${r.value.hits.length} hits) in ${(performance.now() - started).toFixed(1)} ms`,
    );
    out.push(r.value.hits);
    cursor = r.value.cursor;
  } while (cursor && out.length < 20);
  return out;
}

async function stored(nc: NatsConnection, subject: string, token: string): Promise<number> {
  const r = parseStoreReply(wire(await nc.request(subject, token, { timeout: 10_000 })));
  if (!r.ok) throw new Error(r.message);
  return r.value.seq;
}

async function post(user: MintedUser, nc: NatsConnection, channel: string, msg: string) {
  const token = await encodePost(signers[user.name] as Signer, { name: user.name, channel, msg });
  return stored(nc, postSubject(channel, user.publicKey), token);
}

async function dm(user: MintedUser, nc: NatsConnection, to: MintedUser, msg: string) {
  const token = await encodeDm(signers[user.name] as Signer, {
    name: user.name,
    to: to.publicKey,
    msg,
  });
  return stored(nc, dmSubject(to.publicKey, user.publicKey), token);
}

/** Runs `n` tasks, `width` at a time (the writer serves 32 of one sender at once). */
async function inBatches(n: number, width: number, task: (i: number) => Promise<unknown>) {
  for (let i = 0; i < n; i += width)
    await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, j) => task(i + j)));
}

beforeAll(async () => {
  stack = await startTestStack();
  history = await startTestHistory(stack);
  [alice, bob, carol] = (await Promise.all(
    ["alice", "bob", "carol"].map((n) => mintChatUser(stack.dir, n)),
  )) as [MintedUser, MintedUser, MintedUser];
  [aliceNc, bobNc, carolNc] = (await Promise.all(
    [alice, bob, carol].map((u) => connectChatUser(stack, u)),
  )) as [NatsConnection, NatsConnection, NatsConnection];
  signers = {
    alice: await signerFromSeed(alice.seed),
    bob: await signerFromSeed(bob.seed),
    carol: await signerFromSeed(carol.seed),
  };
  // 120 matching posts in two channels (in order, so their sequences are known), DMs that say
  // "haystack" in two pairs, then more non-matching posts than one request looks at
  for (let i = 0; i < 120; i++)
    needles.push(await post(bob, bobNc, i % 2 ? "alpha" : "beta", `a Needle number ${i}`));
  await dm(alice, aliceNc, bob, "the haystack is in the barn");
  await dm(bob, bobNc, alice, "which HAYSTACK?");
  await dm(carol, carolNc, bob, "a haystack only bob and carol know");
  await inBatches(SEARCH_SCAN_MAX + 50, 30, (i) =>
    post(i % 2 ? alice : carol, i % 2 ? aliceNc : carolNc, `filler${i % 4}`, `nothing ${i}`),
  );
}, 180_000);

afterAll(async () => {
  for (const nc of [aliceNc, bobNc, carolNc]) await nc?.close();
  await history?.stop();
  await stack?.stop();
});

describe("search", () => {
  it("pages newest first with a cursor, looking at a bounded number of messages per request", async () => {
    const got = await pages(carolNc, { q: "nEEDLE", limit: 50 });
    // the newest 2,000 stored messages are fillers: the first page finds nothing, and says go on
    expect(got.map((p) => p.length)).toEqual([0, 50, 50, 20]);
    const seqs = got.flat().map((h) => h.seq);
    expect(seqs).toEqual([...needles].reverse());
    for (const h of got.flat()) {
      expect(h.conv).toMatch(/^#(alpha|beta)$/);
      expect(h.subject).toBe(postSubject(h.conv.slice(1), bob.publicKey));
    }
    // one channel only: its own hits, still newest first
    const alpha = (await pages(carolNc, { q: "needle", conv: "#alpha", limit: 50 })).flat();
    expect(alpha.map((h) => h.seq)).toEqual(needles.filter((_, i) => i % 2).reverse());
  }, 60_000);

  it("finds the requester's own DMs and never anyone else's", async () => {
    const mine = (await pages(aliceNc, { q: "haystack" })).flat();
    expect(mine.map((h) => h.conv)).toEqual([`@${bob.publicKey}`, `@${bob.publicKey}`]);
    const bobs = (await pages(bobNc, { q: "haystack" })).flat();
    expect(bobs.map((h) => h.conv)).toEqual([
      `@${carol.publicKey}`,
      `@${alice.publicKey}`,
      `@${alice.publicKey}`,
    ]);
    // alice names the pair bob–carol, or asks as bob in her own header: still only her own DMs
    expect((await pages(aliceNc, { q: "haystack", conv: `@${carol.publicKey}` })).flat()).toEqual(
      [],
    );
    const h = headers();
    h.set(
      "Nats-Request-Info",
      JSON.stringify({ acc: stack.trust.summary.accounts.CHAT.publicKey, user: bob.publicKey }),
    );
    // (every page: the first ones look only at the newest posts)
    expect((await pages(aliceNc, { q: "only bob and carol" }, h)).flat()).toEqual([]);
    expect((await pages(bobNc, { q: "only bob and carol" })).flat()).toHaveLength(1);
  }, 60_000);

  it("matches an edited message by its current text only, and never a deleted one", async () => {
    const signer = signers.bob as Signer;
    const conv = { kind: "post", channel: "edits" } as const;
    const original = await encodePost(signer, { name: "bob", channel: "edits", msg: "a walrus" });
    const doomed = await encodePost(signer, { name: "bob", channel: "edits", msg: "a walrus too" });
    const seqs: number[] = [];
    for (const t of [original, doomed])
      seqs.push(await stored(bobNc, postSubject("edits", bob.publicKey), t));
    const id = (t: string) =>
      messageId(bob.publicKey, decodeJwtUnverified(t).payload.jti as string);
    for (const event of [
      await encodeEdit(signer, { name: "bob", conv, target: id(original), msg: "a narwhal" }),
      await encodeDelete(signer, { name: "bob", conv, target: id(doomed) }),
    ]) {
      const r = await bobNc.request(eventSubject(conv, bob.publicKey), event, { timeout: 10_000 });
      expect(parseEventReply(wire(r)).ok).toBe(true);
    }
    expect((await pages(carolNc, { q: "walrus", conv: "#edits" })).flat()).toEqual([]);
    const narwhal = (await pages(carolNc, { q: "NARWHAL", conv: "#edits" })).flat();
    expect(narwhal.map((h) => h.seq)).toEqual([seqs[0]]);
    expect(narwhal[0]?.state?.edit).toBeDefined();
    expect(narwhal[0]?.token).toBe(original);
  });

  it("refuses bad requests with BAD_REQUEST and a message that says what to send", async () => {
    const cases: [string, RegExp][] = [
      ["{", /not JSON/],
      ['{"q":""}', /q must be the text/],
      [JSON.stringify({ q: "x".repeat(101) }), /maximum is 100/],
      ['{"q":"a","limit":51}', /limit must be/],
      ['{"q":"a","conv":"general"}', /conv must be/],
      ['{"q":"a","cursor":"not a cursor!"}', /cursor must be/],
      ['{"q":"a","cursor":"zz"}', /cursor must be/],
      ['{"q":"a","user":"bob"}', /unknown field/],
    ];
    for (const [body, message] of cases) {
      const r = await search(aliceNc, body);
      expect(r, body).toMatchObject({ ok: false, code: "BAD_REQUEST", status: 400 });
      expect(!r.ok && r.message, body).toMatch(message);
    }
    expect((await search(aliceNc, { q: "haystack" })).ok).toBe(true);
  });
});
