// Attacks on who said what (issue 10), each checked at the server and the store:
// - curation: re-publishing a chosen subset of someone's genuine signed posts, so a channel
//   shows "I agree" without the "I do NOT agree" before it;
// - a revoked user with a fresh key replaying its old identity (posts and presence signed with
//   the revoked key, plus its old, unexpired user JWT);
// - a post signed with the public bootstrap seed.
// Before issue 10 each was stored or delivered as the victim's (receivers checked signature and
// expiry only). Now the server lets a key publish only on subjects that end in that key, and the
// history writer stores only messages signed by that same key.
import { readFile } from "node:fs/promises";
import type { NatsConnection } from "@nats-io/nats-core";
import { fromSeed } from "@nats-io/nkeys";
import {
  EnvelopeVerifier,
  encodePost,
  encodePresence,
  parseCreds,
  signerFromSeed,
} from "@natschat/protocol";
import { type MintedUser, mintChatUser, probePublish } from "@natschat/testing";
import { connectRole, layout, pushAll, revokeInAccountJwt } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AttackStack,
  attackSend,
  connectUser,
  copiesOf,
  startAttackStack,
  storeGenuine,
  subjects,
  V3,
} from "../src/mod.ts";

let s: AttackStack;
let alice: MintedUser;
let mallory: MintedUser;
const closers: NatsConnection[] = [];

beforeAll(async () => {
  s = await startAttackStack();
  alice = await mintChatUser(s.stack.dir, "alice");
  mallory = await mintChatUser(s.stack.dir, "mallory");
}, 60_000);

afterAll(async () => {
  for (const nc of closers) await nc.close().catch(() => undefined);
  await s?.stop();
});

async function conn(u: MintedUser) {
  const nc = await connectUser(s.stack, u);
  closers.push(nc);
  return nc;
}

/** Every message the server delivers on the presence subjects, with the subject it came on. */
async function watchPresence(nc: NatsConnection) {
  const seen: { subject: string; data: Uint8Array }[] = [];
  // v3: one subject per sender under chat.KUBECON.online.*; v2: the one presence subject
  nc.subscribe(V3 ? "chat.KUBECON.online.*" : "chat.KUBECON.online", {
    callback: (_e, m) => {
      seen.push({ subject: m.subject, data: m.data });
    },
  });
  await nc.flush();
  return seen;
}

describe("attack: curation by re-publishing genuine signed posts", () => {
  it("another key's re-publish of a genuine post is refused; the store holds it once", async () => {
    const signer = await signerFromSeed(alice.seed);
    const agree = await encodePost(signer, { name: "alice", channel: "vote", msg: "I agree" });
    const not = await encodePost(signer, { name: "alice", channel: "vote", msg: "I do NOT agree" });
    const a = await conn(alice);
    await storeGenuine(a, subjects.post("vote", alice.publicKey), not);
    await storeGenuine(a, subjects.post("vote", alice.publicKey), agree);
    const m = await conn(mallory);
    // on alice's subject: the server refuses the publish itself
    expect(await attackSend(m, subjects.post("vote", alice.publicKey), agree)).not.toBe("stored");
    // on mallory's own subject: the writer refuses a token that mallory did not sign
    for (let i = 0; i < 5; i++)
      expect(await attackSend(m, subjects.post("vote", mallory.publicKey), agree)).not.toBe(
        "stored",
      );
    expect(await copiesOf(s.leaf, "CHAT_POSTS", agree)).toBe(1);
    expect(await copiesOf(s.leaf, "CHAT_POSTS", not)).toBe(1);
  });
});

describe("attack: a revoked user with a fresh key replays its old identity", () => {
  it("cannot connect with the revoked key, nor store or announce under it with a new one", async () => {
    const old = await mintChatUser(s.stack.dir, "eve");
    const oldSigner = await signerFromSeed(old.seed);
    const oldNc = await conn(old);
    // closed() would wait out the reconnect attempts: the server's drop is the disconnect
    const dropped = (async () => {
      for await (const st of oldNc.status()) if (st.type === "disconnect") return true;
      return false;
    })();
    // revoke eve's key: the operator re-signs CHAT with the revocation and pushes it
    const p = layout(s.stack.dir);
    const op = fromSeed(
      new TextEncoder().encode((await readFile(p.key("operator-signing"), "utf8")).trim()),
    );
    const chatJwt = await revokeInAccountJwt(s.stack.trust.accountJwts.CHAT, old.publicKey, op);
    const push = await connectRole({
      servers: s.stack.urls,
      credsPath: p.creds("push"),
      inboxOwner: "push",
    });
    closers.push(push);
    await pushAll(push, [chatJwt]);
    expect(await dropped).toBe(true); // the server dropped the revoked connection
    await oldNc.close();
    await expect(connectUser(s.stack, old)).rejects.toThrow();

    // eve registers a fresh key and speaks as the revoked one through it
    const fresh = await mintChatUser(s.stack.dir, "eve2");
    const nc = await conn(fresh);
    // heartbeats reach no chat user (issue 12): the leaf binding, the whole CHAT account, sees
    // what the server delivers on them (as the directory would)
    const watcher = s.leaf;
    const seen = await watchPresence(watcher);
    const post = await encodePost(oldSigner, { name: "eve", channel: "General", msg: "I am back" });
    expect(await attackSend(nc, subjects.post("General", old.publicKey), post)).not.toBe("stored");
    expect(await attackSend(nc, subjects.post("General", fresh.publicKey), post)).not.toBe(
      "stored",
    );
    expect(await copiesOf(s.leaf, "CHAT_POSTS", post)).toBe(0);
    // presence signed with the revoked key, carrying its old unexpired user JWT
    const here = await encodePresence(oldSigner, { name: "eve", first: true, userJwt: old.jwt });
    expect(await probePublish(nc, subjects.presence(old.publicKey))).toBe("denied");
    nc.publish(subjects.presence(fresh.publicKey), here);
    await nc.flush();
    await watcher.flush();
    // whatever the server delivered is attributed (by its subject) to the key that sent it, so
    // a receiver can never take it for the revoked key's
    const verifier = new EnvelopeVerifier();
    for (const m of seen) {
      const r = await verifier.verify(m.data, { subject: m.subject });
      expect(r.ok && r.envelope.iss === old.publicKey, `accepted on ${m.subject}`).toBe(false);
    }
  });
});

describe("attack: a post signed with the public bootstrap seed", () => {
  it("is neither publishable as bootstrap nor storable through a chat user's subject", async () => {
    const creds = await parseCreds(await readFile(s.stack.creds("bootstrap"), "utf8"));
    const boot = await signerFromSeed(creds.seed);
    const post = await encodePost(boot, { name: "bootstrap", channel: "General", msg: "hi" });
    const bootNc = await connectRole({
      servers: s.stack.urls,
      credsPath: s.stack.creds("bootstrap"),
      inboxOwner: "bootstrap",
    });
    closers.push(bootNc);
    expect(await probePublish(bootNc, subjects.post("General", creds.publicKey))).toBe("denied");
    const m = await conn(mallory);
    expect(await attackSend(m, subjects.post("General", creds.publicKey), post)).not.toBe("stored");
    expect(await attackSend(m, subjects.post("General", mallory.publicKey), post)).not.toBe(
      "stored",
    );
    expect(await copiesOf(s.leaf, "CHAT_POSTS", post)).toBe(0);
  });
});
