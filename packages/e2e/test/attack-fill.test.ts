// Attack (issue 10): filling the stream bytes. Before issue 10, 17,000 messages of 16 KB filled
// CHAT_DMS's max_bytes in 3 s and the stream then evicted everyone's oldest DMs. Now (1) each
// sender may store at most q bytes a day (the history writer's quota, shared by its replicas),
// so K attacker keys store at most K × q; and (2) a full stream refuses new messages (discard
// new) instead of evicting old ones: nothing of anyone else's is ever removed by a limit.
import { jetstreamManager } from "@nats-io/jetstream";
import { encodeDm, signerFromSeed } from "@natschat/protocol";
import { type MintedUser, mintChatUser } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AttackStack,
  attackSend,
  connectUser,
  flood,
  refusals,
  startAttackStack,
  stillStored,
  storeGenuine,
  subjects,
  V3,
} from "../src/mod.ts";

const QUOTA = 200 * 1024;
let s: AttackStack;
let alice: MintedUser;
let bob: MintedUser;
let attackers: MintedUser[];

beforeAll(async () => {
  s = await startAttackStack({ dailyQuotaBytes: QUOTA });
  alice = await mintChatUser(s.stack.dir, "alice");
  bob = await mintChatUser(s.stack.dir, "bob");
  attackers = await Promise.all([1, 2, 3].map((i) => mintChatUser(s.stack.dir, `filler${i}`)));
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

/** A DM as large as the rules allow: 2,000 three-byte characters, about 8.5 kB signed. */
async function bigDm(user: MintedUser, to: string, i: number): Promise<string> {
  const signer = await signerFromSeed(user.seed);
  return encodeDm(signer, { name: user.name, to, msg: `${i} ${"€".repeat(1990)}` });
}

async function storeAliceDms(n: number): Promise<[number, string][]> {
  const nc = await connectUser(s.stack, alice);
  const out: [number, string][] = [];
  for (let i = 0; i < n; i++) {
    const token = await encodeDm(await signerFromSeed(alice.seed), {
      name: "alice",
      to: bob.publicKey,
      msg: `genuine ${i}`,
    });
    out.push([await storeGenuine(nc, subjects.dm(bob.publicKey, alice.publicKey), token), token]);
  }
  await nc.close();
  return out;
}

describe("attack: filling the stream bytes", () => {
  it("each attacker key stores at most the daily quota; the victim's DMs stay and it can still write", async () => {
    const genuine = await storeAliceDms(3);
    const results = await Promise.all(
      attackers.map(async (a) => {
        const nc = await connectUser(s.stack, a);
        // about 500 kB each, well over the 200 KiB quota
        const counts = await flood(
          nc,
          subjects.dm(bob.publicKey, a.publicKey),
          (i) => bigDm(a, bob.publicKey, i),
          60,
          8,
        );
        await nc.close();
        return counts;
      }),
    );
    if (V3) expect(refusals.QUOTA, JSON.stringify(refusals)).toBeGreaterThan(0);
    for (const counts of results) {
      // the quota cut each one off: ~8.5 kB × stored ≤ 200 KiB
      expect(counts.refused, JSON.stringify(counts)).toBeGreaterThan(0);
      expect(counts.stored * 8000).toBeLessThanOrEqual(QUOTA);
    }
    const jsm = await jetstreamManager(s.leaf);
    const attackerBytes = (await jsm.streams.info("CHAT_DMS")).state.bytes;
    expect(attackerBytes).toBeLessThanOrEqual(attackers.length * QUOTA + 64 * 1024);
    for (const [seq, token] of genuine)
      expect(await stillStored(s.leaf, "CHAT_DMS", seq, token), `seq ${seq}`).toBe(true);
    // the victim's own quota is untouched
    expect((await storeAliceDms(1)).length).toBe(1);
  }, 120_000);

  it("a full stream refuses new messages and evicts nothing", async () => {
    const jsm = await jetstreamManager(s.leaf);
    const genuine = await storeAliceDms(3);
    // the operator shrinks the stream to just above what it holds, as if attackers had filled it
    const info = await jsm.streams.info("CHAT_DMS");
    await jsm.streams.update("CHAT_DMS", {
      ...info.config,
      max_bytes: info.state.bytes + 64 * 1024,
    });
    const fresh = await Promise.all(
      [4, 5, 6, 7].map((i) => mintChatUser(s.stack.dir, `filler${i}`)),
    );
    for (const a of fresh) {
      const nc = await connectUser(s.stack, a);
      await flood(
        nc,
        subjects.dm(bob.publicKey, a.publicKey),
        (i) => bigDm(a, bob.publicKey, i),
        20,
        4,
      );
      await nc.close();
    }
    for (const [seq, token] of genuine)
      expect(await stillStored(s.leaf, "CHAT_DMS", seq, token), `seq ${seq} evicted`).toBe(true);
    const first = (await jsm.streams.info("CHAT_DMS")).state.first_seq;
    expect(first, "the stream dropped its oldest messages").toBe(1);
    // a new message is refused now (the sender's outbox keeps it), not stored by evicting another
    const nc = await connectUser(s.stack, alice);
    const token = await bigDm(alice, bob.publicKey, 99);
    const outcome = await attackSend(nc, subjects.dm(bob.publicKey, alice.publicKey), token);
    await nc.close();
    expect(outcome).toBe("refused");
    if (V3) expect(refusals.STORE_FULL, JSON.stringify(refusals)).toBeGreaterThan(0);
    expect((await jsm.streams.info("CHAT_DMS")).state.first_seq).toBe(1);
  }, 120_000);
});
