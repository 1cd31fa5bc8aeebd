// The per-sender daily quota is shared by every replica of the history writer (KV bucket,
// compare-and-set): two replicas in one queue group together store at most q bytes of one
// sender per day, and one sender's messages in parallel are all charged (no lost CAS races).
import type { NatsConnection } from "@nats-io/nats-core";
import { createUser } from "@nats-io/nkeys";
import { type HistoryService, QuotaLedger } from "@natschat/history";
import { encodePost, parseStoreReply, postSubject, signerFromSeed } from "@natschat/protocol";
import {
  connectChatUser,
  mintChatUser,
  startTestHistory,
  startTestStack,
  type TestStack,
} from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const QUOTA = 40 * 1024;
let stack: TestStack;
const replicas: HistoryService[] = [];
const conns: NatsConnection[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  replicas.push(await startTestHistory(stack, { dailyQuotaBytes: QUOTA, replicaId: "a" }));
  replicas.push(
    await startTestHistory(stack, { dailyQuotaBytes: QUOTA, replicaId: "b", ensureStores: false }),
  );
}, 60_000);

afterAll(async () => {
  for (const nc of conns) await nc.close();
  for (const r of replicas) await r.stop();
  await stack?.stop();
});

async function sendAll(n: number, size: number) {
  const user = await mintChatUser(stack.dir, `u${Date.now() % 100000}`);
  const nc = await connectChatUser(stack, user);
  conns.push(nc);
  const signer = await signerFromSeed(user.seed);
  const tokens = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      encodePost(signer, { name: user.name, channel: "q", msg: `${i} ${"x".repeat(size)}` }),
    ),
  );
  // 16 in flight at a time: below the writer's per-sender cap, so every refusal is the quota's
  const replies: { bytes: number; ack: ReturnType<typeof parseStoreReply> }[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < tokens.length; i = next++) {
      const t = tokens[i] as string;
      const r = await nc.request(postSubject("q", user.publicKey), t, { timeout: 10_000 });
      replies.push({
        bytes: t.length,
        ack: parseStoreReply({ data: r.data, header: (k) => r.headers?.get(k) || undefined }),
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return replies;
}

describe("per-sender quota across replicas", () => {
  it("a sender's parallel messages within the quota are all stored", async () => {
    const replies = await sendAll(20, 100);
    expect(replies.filter((r) => !r.ack.ok).map((r) => r.ack)).toEqual([]);
  });

  it("two replicas together store at most the quota of one sender", async () => {
    const replies = await sendAll(80, 1000);
    const stored = replies.filter((r) => r.ack.ok);
    const refused = replies.filter((r) => !r.ack.ok);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(r.ack).toMatchObject({ ok: false, code: "QUOTA", status: 429 });
    const bytes = stored.reduce((n, r) => n + r.bytes, 0);
    expect(bytes).toBeLessThanOrEqual(QUOTA);
    // and it was close to the quota: no charge was lost or doubled by a CAS race
    expect(bytes).toBeGreaterThan(QUOTA - 2 * (replies[0]?.bytes ?? 0));
  });

  it("two ledgers (two replicas' views) charging one sender at once never exceed the quota", async () => {
    const nc = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("history"),
      inboxOwner: "history",
    });
    conns.push(nc);
    const [a, b] = await Promise.all([
      QuotaLedger.open(nc, { dailyBytes: 10_000 }),
      QuotaLedger.open(nc, { dailyBytes: 10_000 }),
    ]);
    const sender = createUser().getPublicKey();
    const charges = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).charge(sender, 500)),
    );
    // exactly 20 charges of 500 fit in 10,000: none lost, none doubled, both views agree
    expect(charges.filter((c) => c.ok)).toHaveLength(20);
    expect(charges.filter((c) => !c.ok)).toHaveLength(20);
  });
});
