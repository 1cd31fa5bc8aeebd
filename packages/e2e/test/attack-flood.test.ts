// Attack (issue 10): several attacker keys flood a victim's DM conversation and a channel, to
// evict what others stored there. Before issue 10, 1,000 one-byte messages on a DM subject or a
// channel evicted everything on it (max_msgs_per_subject counted everyone's messages together).
// Now a stored subject is one (conversation, sender) pair, so an attacker's messages evict only
// its own: every genuine message is still in the stream afterwards, checked at the store.
import { encodeDm, encodePost, signerFromSeed } from "@natschat/protocol";
import { type MintedUser, mintChatUser } from "@natschat/testing";
import { HISTORY_STREAMS } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AttackStack,
  connectUser,
  flood,
  startAttackStack,
  stillStored,
  storeGenuine,
  subjects,
  V3,
} from "../src/mod.ts";

let s: AttackStack;
let alice: MintedUser;
let bob: MintedUser;
let attackers: MintedUser[];

beforeAll(async () => {
  s = await startAttackStack();
  alice = await mintChatUser(s.stack.dir, "alice");
  bob = await mintChatUser(s.stack.dir, "bob");
  attackers = await Promise.all([1, 2, 3].map((i) => mintChatUser(s.stack.dir, `mallory${i}`)));
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

/** More than a stored subject holds: on v2 this alone emptied a victim's DMs. */
const PER_ATTACKER = (HISTORY_STREAMS?.dms.perSubject ?? 1000) + 50;

describe("attack: flooding a conversation with several keys evicts nothing of anyone else's", () => {
  it("a victim's DMs survive three attackers flooding its DM subject", async () => {
    const aliceNc = await connectUser(s.stack, alice);
    const signer = await signerFromSeed(alice.seed);
    const genuine: [number, string][] = [];
    for (const msg of ["hi bob", "lunch?", "see you"]) {
      const token = await encodeDm(signer, { name: "alice", to: bob.publicKey, msg });
      genuine.push([
        await storeGenuine(aliceNc, subjects.dm(bob.publicKey, alice.publicKey), token),
        token,
      ]);
    }
    await aliceNc.close();
    await Promise.all(
      attackers.map(async (a) => {
        const nc = await connectUser(s.stack, a);
        const m = await signerFromSeed(a.seed);
        // the strongest flood: small, validly signed DMs (junk is refused before storing)
        const counts = await flood(
          nc,
          subjects.dm(bob.publicKey, a.publicKey),
          (i) => (V3 ? encodeDm(m, { name: a.name, to: bob.publicKey, msg: `x${i}` }) : "x"),
          PER_ATTACKER,
        );
        expect(counts.stored + counts.duplicate).toBeGreaterThan(0);
        await nc.close();
      }),
    );
    for (const [seq, token] of genuine) {
      expect(await stillStored(s.leaf, "CHAT_DMS", seq, token), `DM seq ${seq} evicted`).toBe(true);
    }
  }, 180_000);

  it("a channel's posts survive three attackers flooding the channel", async () => {
    const aliceNc = await connectUser(s.stack, alice);
    const signer = await signerFromSeed(alice.seed);
    const genuine: [number, string][] = [];
    for (const msg of ["I agree", "but not with that", "I do NOT agree"]) {
      const token = await encodePost(signer, { name: "alice", channel: "General", msg });
      genuine.push([
        await storeGenuine(aliceNc, subjects.post("General", alice.publicKey), token),
        token,
      ]);
    }
    await aliceNc.close();
    await Promise.all(
      attackers.map(async (a) => {
        const nc = await connectUser(s.stack, a);
        const m = await signerFromSeed(a.seed);
        await flood(
          nc,
          subjects.post("General", a.publicKey),
          (i) => (V3 ? encodePost(m, { name: a.name, channel: "General", msg: `x${i}` }) : "x"),
          PER_ATTACKER,
        );
        await nc.close();
      }),
    );
    for (const [seq, token] of genuine) {
      expect(await stillStored(s.leaf, "CHAT_POSTS", seq, token), `post seq ${seq} evicted`).toBe(
        true,
      );
    }
  }, 180_000);
});
