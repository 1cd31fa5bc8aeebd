// Benchmark of search (issue 13) on one real nats-server (run: npm run bench:search).
// BENCH_MESSAGES posts (default 4,000) are stored through the writer in 3 channels by 2 senders;
// one in 100 says "rare". Then, as a chat user asks, each against the baseline of the same run:
//  0. baseline: a plain history page of 50 (chat.svc.history.posts);
//  1. a search whose hits are everywhere ("post"): a page of 50, found in the newest 250;
//  2. a rare word (1 in 100): one request looks at its 2,000 stored messages, ~20 hits;
//  3. a word that is nowhere: 2,000 looked at, no hit (the most one request costs);
//  4. every page of the rare word to the end (the whole store, cursor by cursor).
// Prints p50/p90 per path and its ratio to the baseline's p50; a script, not a test.
import {
  encodeHistoryPostsRequest,
  encodePost,
  encodeSearchRequest,
  HISTORY_POSTS_SUBJECT,
  HISTORY_SEARCH_SUBJECT,
  parseHistoryReply,
  parseSearchReply,
  parseStoreReply,
  postSubject,
  type SearchRequest,
  signerFromSeed,
} from "@natschat/protocol";
import { connectChatUser, mintChatUser, startTestHistory, startTestStack } from "@natschat/testing";
import { installNodeEd25519 } from "@natschat/trust";

installNodeEd25519();
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 4000);
const CHANNELS = ["KUBECON", "NATS", "General"];

function p(ms: number[], q: number): number {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
}

async function time(runs: number, f: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    out.push(performance.now() - t);
  }
  return out;
}

const stack = await startTestStack();
const history = await startTestHistory(stack);
try {
  const users = await Promise.all(["alice", "bob"].map((n) => mintChatUser(stack.dir, n)));
  const conns = await Promise.all(users.map((u) => connectChatUser(stack, u)));
  const signers = await Promise.all(users.map((u) => signerFromSeed(u.seed)));
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < MESSAGES; i = next++) {
      const who = i % 2;
      const user = users[who] as (typeof users)[number];
      const channel = CHANNELS[i % 3] as string;
      const word = i % 100 === 0 ? "rare" : "common";
      const token = await encodePost(signers[who] as Awaited<ReturnType<typeof signerFromSeed>>, {
        name: user.name,
        channel,
        msg: `post ${i} is ${word} ${"x".repeat(150)}`,
      });
      const r = await conns[who]?.request(postSubject(channel, user.publicKey), token, {
        timeout: 10_000,
      });
      const ack =
        r && parseStoreReply({ data: r.data, header: (k) => r.headers?.get(k) || undefined });
      if (!ack?.ok)
        throw new Error(`not stored: ${ack ? `${ack.code} ${ack.message}` : "no reply"}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const nc = conns[0] as NonNullable<(typeof conns)[number]>;

  const page = async () => {
    const r = await nc.request(
      HISTORY_POSTS_SUBJECT,
      encodeHistoryPostsRequest({ channel: "NATS", limit: 50 }),
      { timeout: 10_000 },
    );
    const got = parseHistoryReply({ data: r.data, header: (k) => r.headers?.get(k) || undefined });
    if (!got.ok || got.value.messages.length !== 50) throw new Error("short history page");
  };
  const search = async (req: SearchRequest) => {
    const r = await nc.request(HISTORY_SEARCH_SUBJECT, encodeSearchRequest(req), {
      timeout: 10_000,
    });
    const got = parseSearchReply({ data: r.data, header: (k) => r.headers?.get(k) || undefined });
    if (!got.ok) throw new Error(`${got.code}: ${got.message}`);
    return got.value;
  };
  await page(); // warm both paths once
  await search({ q: "post", limit: 50 });

  const base = await time(RUNS, page);
  const baseP50 = p(base, 0.5);
  const line = (label: string, ms: number[]) =>
    console.log(
      `${label}: p50 ${p(ms, 0.5).toFixed(2)} ms, p90 ${p(ms, 0.9).toFixed(2)} ms (${ms.length} runs) = ${(p(ms, 0.5) / baseP50).toFixed(1)}× the plain page`,
    );
  console.log(`${MESSAGES} posts stored`);
  line("0. plain history page of 50 (baseline)", base);
  let hits = 0;
  line(
    "1. search page of 50, hits everywhere",
    await time(RUNS, async () => {
      hits = (await search({ q: "POST", limit: 50 })).hits.length;
    }),
  );
  console.log(`   (${hits} hits)`);
  line(
    "2. search page, 1 in 100 matches (2,000 looked at)",
    await time(RUNS, async () => {
      hits = (await search({ q: "rare", limit: 50 })).hits.length;
    }),
  );
  console.log(`   (${hits} hits)`);
  line(
    "3. search page, no match (2,000 looked at)",
    await time(RUNS, async () => void (await search({ q: "nowhere", limit: 50 }))),
  );
  let pages = 0;
  hits = 0;
  line(
    `4. every page of the rare word (${MESSAGES} looked at)`,
    await time(Math.max(3, RUNS / 10), async () => {
      pages = 0;
      hits = 0;
      let cursor: string | undefined;
      do {
        const got = await search({ q: "rare", limit: 50, ...(cursor ? { cursor } : {}) });
        pages++;
        hits += got.hits.length;
        cursor = got.cursor;
      } while (cursor);
    }),
  );
  console.log(`   (${pages} pages, ${hits} hits)`);
  for (const c of conns) await c.close();
} finally {
  await history.stop();
  await stack.stop();
}
