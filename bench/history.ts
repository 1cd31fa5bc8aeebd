// Benchmark of the history service's read path on one real nats-server (run: npm run
// bench:history). 100 posts in each of 3 channels are stored through the writer, then:
//  1. a page of 100 through chat.svc.history.posts, as a chat user asks for it (end to end);
//     1b. the same page when every one of its 100 messages has a state (a reaction: issue 13),
//     1c. when 10 of them have one; runs alternated with a page without states, and the ratios
//     (the extra cost of states);
//  2. the two ways the service could fetch those 100 bodies, measured against each other:
//     direct get by sequence, pipelined (what the readers do), and an ordered consumer filtered
//     to the channel, started at the page's first sequence;
//  3. the history load of 3 channels (3 pages of 100, in parallel), as a client does on start;
//  4. the store path: a signed post sent as a request until the writer's ack (verify, quota
//     CAS, JetStream publish), one at a time, against a raw request/reply of the same payload.
// Prints p50/p90 per path; a script, not a test.
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  decodeJwtUnverified,
  encodeHistoryPostsRequest,
  encodePost,
  encodeReaction,
  eventSubject,
  HISTORY_POSTS_SUBJECT,
  messageId,
  parseEventReply,
  parseHistoryReply,
  parseStoreReply,
  postSubject,
  signerFromSeed,
} from "@natschat/protocol";
import { connectChatUser, mintChatUser, startTestHistory, startTestStack } from "@natschat/testing";
import { connectRole, installNodeEd25519 } from "@natschat/trust";

installNodeEd25519();
const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const CHANNELS = ["KUBECON", "NATS", "General"];

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => (s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0).toFixed(2);
  return `p50 ${at(0.5)} ms, p90 ${at(0.9)} ms (${s.length} runs)`;
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
  const alice = await mintChatUser(stack.dir, "alice");
  const nc = await connectChatUser(stack, alice);
  const signer = await signerFromSeed(alice.seed);
  // 16 in flight at a time: below the writer's per-sender cap (32)
  const jobs = CHANNELS.flatMap((channel) =>
    Array.from({ length: 100 }, (_, i) => ({ channel, i })),
  );
  const ids: Record<string, string[]> = {};
  let next = 0;
  const worker = async () => {
    for (let j = next++; j < jobs.length; j = next++) {
      const { channel, i } = jobs[j] as { channel: string; i: number };
      const token = await encodePost(signer, {
        name: "alice",
        channel,
        msg: `post ${i} ${"x".repeat(200)}`,
      });
      const r = await nc.request(postSubject(channel, alice.publicKey), token, { timeout: 10_000 });
      const ack = parseStoreReply({ data: r.data, header: (k) => r.headers?.get(k) || undefined });
      if (!ack.ok) throw new Error(`not stored: ${ack.code} ${ack.message}`);
      const jti = (decodeJwtUnverified(token).payload as { jti: string }).jti;
      const list = ids[channel] ?? [];
      list.push(messageId(alice.publicKey, jti));
      ids[channel] = list;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const page = async (channel: string) => {
    const r = await nc.request(
      HISTORY_POSTS_SUBJECT,
      encodeHistoryPostsRequest({ channel, limit: 100 }),
      { timeout: 10_000 },
    );
    const p = parseHistoryReply({ data: r.data, header: (k) => r.headers?.get(k) || undefined });
    if (!p.ok || p.value.messages.length !== 100)
      throw new Error(`short page: ${p.ok ? p.value.messages.length : p.message}`);
    return p.value;
  };
  const first = await page("NATS");
  const seqs = first.messages.map((m) => m.seq);
  console.log(
    `1. page of 100 via chat.svc.history.posts: ${stats(await time(RUNS, async () => void (await page("NATS"))))}`,
  );
  // every message of #General gets a reaction (a state each), every 10th of #KUBECON
  const react = async (channel: string, every: number) => {
    const conv = { kind: "post" as const, channel };
    for (const [i, target] of (ids[channel] ?? []).entries()) {
      if (i % every !== 0) continue;
      const token = await encodeReaction(signer, {
        name: "alice",
        conv,
        target,
        emoji: "👍",
        op: "add",
      });
      const r = await nc.request(eventSubject(conv, alice.publicKey), token, { timeout: 10_000 });
      const a = parseEventReply({ data: r.data, header: (k) => r.headers?.get(k) || undefined });
      if (!a.ok) throw new Error(`reaction refused: ${a.code} ${a.message}`);
    }
    const n = (await page(channel)).messages.filter((m) => m.state).length;
    if (n !== 100 / every) throw new Error(`expected ${100 / every} states in the page, got ${n}`);
  };
  await react("General", 1);
  await react("KUBECON", 10);
  const plain: number[] = [];
  const all: number[] = [];
  const tenth: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // alternated, so that machine noise hits all three
    plain.push(...(await time(1, async () => void (await page("NATS")))));
    all.push(...(await time(1, async () => void (await page("General")))));
    tenth.push(...(await time(1, async () => void (await page("KUBECON")))));
  }
  const p50 = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)] ?? 0;
  const ratio = (ms: number[]) => `ratio p50 ${(p50(ms) / p50(plain)).toFixed(2)}×`;
  console.log(`1a. page of 100 without states: ${stats(plain)}`);
  console.log(`1b. page of 100, every message with a state: ${stats(all)}; ${ratio(all)}`);
  console.log(`1c. page of 100, 10 messages with a state: ${stats(tenth)}; ${ratio(tenth)}`);

  const leaf = await connectRole({
    servers: stack.urls,
    credsPath: stack.creds("leaf"),
    inboxOwner: "leaf",
  });
  const jsm = await jetstreamManager(leaf);
  const js = jetstream(leaf);
  const direct = await time(RUNS, async () => {
    await Promise.all(seqs.map((seq) => jsm.direct.getMessage("CHAT_POSTS", { seq })));
  });
  console.log(`2a. 100 bodies by direct get, pipelined: ${stats(direct)}`);
  const ordered = await time(RUNS, async () => {
    const c = await js.consumers.get("CHAT_POSTS", {
      filter_subjects: [`chat.store.posts.NATS.*`],
      opt_start_seq: seqs[0],
    });
    const it = await c.fetch({ max_messages: 100, expires: 5000 });
    let n = 0;
    for await (const _m of it) if (++n === 100) break;
    await c.delete().catch(() => false);
  });
  console.log(`2b. 100 bodies by an ordered consumer from the page's first seq: ${stats(ordered)}`);
  const load = await time(Math.max(5, RUNS / 5), async () => {
    await Promise.all(CHANNELS.map((c) => page(c)));
  });
  console.log(`3. history load, 100 posts in each of 3 channels (parallel pages): ${stats(load)}`);
  // 4. the store path against raw request/reply on the same connection
  const echo = leaf.subscribe("bench.echo", {
    callback: (_e, m) => {
      m.respond(m.data);
    },
  });
  await leaf.flush();
  const tokens = await Promise.all(
    Array.from({ length: RUNS * 4 }, (_, i) =>
      encodePost(signer, { name: "alice", channel: "bench", msg: `ack ${i}` }),
    ),
  );
  const raw: number[] = [];
  const acked: number[] = [];
  for (const [i, token] of tokens.entries()) {
    // alternate so that machine noise hits both
    let t = performance.now();
    await nc.request(postSubject("bench", alice.publicKey), token, { timeout: 10_000 });
    acked.push(performance.now() - t);
    if (i % 2 === 0) {
      t = performance.now();
      await leaf.request("bench.echo", token, { timeout: 10_000 });
      raw.push(performance.now() - t);
    }
  }
  echo.unsubscribe();
  console.log(`4a. raw request/reply, same payload: ${stats(raw)}`);
  console.log(`4b. post → writer's ack (verify, quota CAS, JetStream publish): ${stats(acked)}`);
  await leaf.close();
  await nc.close();
} finally {
  await history.stop();
  await stack.stop();
}
