// Attacks on the chat features of issue 13 (message events, states, replies and threads, search,
// typing), by a hostile chat user as docs/security.md describes it: mallory holds her own creds,
// signs whatever she likes with her own key and publishes or requests whatever her permissions
// allow. Each case asserts what the SERVER decided (a refusal code, a permission violation, the
// stored state read back with the operator-held `leaf` role) or what the victim's real client
// session shows, never what the attacker's own code chose to do.

import { randomBytes } from "node:crypto";
import { Kvm } from "@nats-io/kv";
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import type { ChatSession, ChatSnapshot } from "@natschat/client";
import { waitForSnapshot } from "@natschat/client";
import type { HistoryService } from "@natschat/history";
import {
  base64urlEncode,
  type Conv,
  encodeDelete,
  encodeEdit,
  encodeJwt,
  encodePost,
  encodePublicKey,
  encodeReaction,
  encodeSearchRequest,
  encodeThreadRequest,
  eventSubject,
  HISTORY_SEARCH_SUBJECT,
  HISTORY_THREAD_SUBJECT,
  mentionOf,
  parseEventReply,
  parseSearchReply,
  parseThreadReply,
  postSubject,
  randomJti,
  type Signer,
  signerFromSeed,
  typersSubject,
  typingSubject,
  userFeedSubject,
} from "@natschat/protocol";
import {
  type MintedUser,
  mintChatUser,
  probePublish,
  startTestDirectory,
  startTestHistory,
  startTestStack,
  type TestDirectory,
  type TestStack,
} from "@natschat/testing";
import { connectRole, STATE_BUCKET } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectUser, eventually, SessionPool } from "../src/mod.ts";

let stack: TestStack;
let history: HistoryService;
let directory: TestDirectory;
let pool: SessionPool;
let leaf: NatsConnection;
let mallory: MintedUser;
let victim: MintedUser;
let bob: MintedUser;
let m: NatsConnection;
let signer: Signer;
let v: ChatSession;
let b: ChatSession;

beforeAll(async () => {
  stack = await startTestStack();
  history = await startTestHistory(stack);
  directory = await startTestDirectory(stack);
  leaf = await connectRole({
    servers: stack.urls,
    credsPath: stack.creds("leaf"),
    inboxOwner: "leaf",
  });
  [mallory, victim, bob] = await Promise.all([
    mintChatUser(stack.dir, "mallory"),
    mintChatUser(stack.dir, "victim"),
    mintChatUser(stack.dir, "bob"),
  ]);
  for (const u of [mallory, victim, bob]) directory.register(u);
  pool = new SessionPool(stack.trust.summary);
  v = await pool.open(victim, stack.urls, "victim");
  b = await pool.open(bob, stack.urls, "bob");
  await Promise.all([v.historyLoaded(), b.historyLoaded()]);
  m = await connectUser(stack, mallory);
  signer = await signerFromSeed(mallory.seed);
}, 60_000);

afterAll(async () => {
  await pool?.stopAll();
  await m?.close();
  await leaf?.close();
  await directory?.stop();
  await history?.stop();
  await stack?.stop();
});

const wait = (s: ChatSession, ok: (snap: ChatSnapshot) => boolean, what: string) =>
  waitForSnapshot(s, ok, { timeoutMs: 15_000, what });

/** An event request as mallory: the writer's verdict (its error code, or "ok"). */
async function sendEvent(subject: string, token: string | Uint8Array): Promise<string> {
  const r = await m.request(subject, token, { timeout: 5000 });
  const ack = parseEventReply({ data: r.data, header: (k) => r.headers?.get(k) || undefined });
  return ack.ok ? "ok" : ack.code;
}

/** The stored state of the message at `seq` of a store (leaf: the ground truth), or undefined. */
async function storedState(store: "posts" | "dms", seq: number): Promise<unknown> {
  const kv = await new Kvm(leaf).open(STATE_BUCKET);
  const e = await kv.get(`${store === "posts" ? "p" : "d"}.${seq}`);
  return e?.operation === "PUT" ? e.json() : undefined;
}

/**
 * An edit of `target` signed by mallory whose claims hold an array nested `depth` deep (written
 * by hand: JSON.stringify itself overflows the stack on it).
 */
async function deepEdit(target: string, depth: number): Promise<string> {
  const header = (await encodeJwt(signer, { nats: {} })).split(".")[0];
  const claims = JSON.stringify({
    jti: randomJti(),
    iat: Math.floor(Date.now() / 1000),
    iss: signer.publicKey,
    name: "mallory",
    sub: "General",
    nats: { type: "chat-edit", target, msg: "x", version: 2 },
  });
  const deep = `${claims.slice(0, -1)},"deep":${"[".repeat(depth)}${"]".repeat(depth)}}`;
  const input = `${header}.${base64urlEncode(new TextEncoder().encode(deep))}`;
  const sig = await signer.sign(new TextEncoder().encode(input));
  return `${input}.${base64urlEncode(sig)}`;
}

describe("attack: message events, replies and threads (issue 13)", () => {
  it("a reply in a channel never quotes a message of another conversation (a DM)", async () => {
    // the victim DMs mallory; mallory then "replies" to that DM in a public channel
    await v.send(`@${mallory.publicKey}`, "my private words");
    const dm = await wait(
      v,
      (s) => !!s.dms.find((d) => d.peer === mallory.publicKey)?.messages.length,
      "the victim's DM to be shown",
    );
    const dmId = dm.dms.find((d) => d.peer === mallory.publicKey)?.messages[0]?.id as string;
    const token = await encodePost(signer, {
      name: "mallory",
      channel: "General",
      msg: "as you told me:",
      re: dmId,
    });
    // the writer refuses to store it (the target is not in #General) …
    const r = await m.request(postSubject("General", mallory.publicKey), token, { timeout: 5000 });
    expect(r.headers?.get("Natschat-Error")).toBe("NOT_FOUND");
    // … but every client got it live: the victim's #General must not quote its DM
    const shown = await wait(
      v,
      (s) =>
        !!s.channels
          .find((c) => c.id === "#General")
          ?.messages.some((x) => x.text === "as you told me:"),
      "mallory's reply in #General at the victim",
    );
    const reply = shown.channels
      .find((c) => c.id === "#General")
      ?.messages.find((x) => x.text === "as you told me:");
    expect(reply?.replyTo).toEqual({ id: dmId, missing: true });
  });

  it("nobody edits, deletes or reacts outside its rights (the writer's verdicts, the stored state)", async () => {
    // the victim's post in #General, and a DM between the victim and bob
    await v.send("#General", "the victim's words");
    await v.send(`@${bob.publicKey}`, "between us");
    const snap = await wait(
      v,
      (s) =>
        !!s.channels
          .find((c) => c.id === "#General")
          ?.messages.some((x) => x.text === "the victim's words" && x.seq !== undefined) &&
        !!s.dms
          .find((d) => d.peer === bob.publicKey)
          ?.messages.some((x) => x.text === "between us" && x.seq !== undefined),
      "the victim's post and DM, stored",
    );
    const post = snap.channels
      .find((c) => c.id === "#General")
      ?.messages.find((x) => x.text === "the victim's words");
    const dm = snap.dms
      .find((d) => d.peer === bob.publicKey)
      ?.messages.find((x) => x.text === "between us");
    const general: Conv = { kind: "post", channel: "General" };
    const ev = eventSubject(general, mallory.publicKey);
    const edit = await encodeEdit(signer, {
      name: "mallory",
      conv: general,
      target: post?.id as string,
      msg: "forged",
    });
    const del = await encodeDelete(signer, {
      name: "mallory",
      conv: general,
      target: post?.id as string,
    });
    // a reaction "in the DM with the victim" on the victim↔bob DM
    const dmConv: Conv = { kind: "dm", peer: victim.publicKey };
    const react = (target: string, conv: Conv) =>
      encodeReaction(signer, { name: "mallory", conv, target, emoji: "👍", op: "add" });
    // the same post named in another channel
    const random: Conv = { kind: "post", channel: "Random" };
    const verdicts = {
      edit: await sendEvent(ev, edit),
      delete: await sendEvent(ev, del),
      reactOthersDm: await sendEvent(
        eventSubject(dmConv, mallory.publicKey),
        await react(dm?.id as string, dmConv),
      ),
      reactOtherChannel: await sendEvent(
        eventSubject(random, mallory.publicKey),
        await react(post?.id as string, random),
      ),
      // an edit replayed on the victim's own event subject is not hers to publish
      asVictim: await probePublish(m, eventSubject(general, victim.publicKey)),
      // garbage as large as the server lets a user publish (16 KiB), and a token nested 5,000
      // deep (the writer answers, never throws; the deep one is parsed and refused for what it
      // is: an edit of another's message)
      garbage: await sendEvent(ev, "x".repeat(16_384)),
      deep: await sendEvent(ev, await deepEdit(post?.id as string, 5000)),
    };
    expect(verdicts).toEqual({
      edit: "FORBIDDEN",
      delete: "FORBIDDEN",
      reactOthersDm: "NOT_FOUND",
      reactOtherChannel: "NOT_FOUND",
      asVictim: "denied",
      garbage: "BAD_MESSAGE",
      deep: "FORBIDDEN",
    });
    // the stored states: nothing of mallory's, whatever she sent
    expect(await storedState("posts", post?.seq as number)).toBeUndefined();
    expect(await storedState("dms", dm?.seq as number)).toBeUndefined();
  });

  it("a DM thread, DM search hits and typing are never another user's to read or forge", async () => {
    await v.send(`@${bob.publicKey}`, "secret plan zebra");
    const snap = await wait(
      v,
      (s) =>
        !!s.dms
          .find((d) => d.peer === bob.publicKey)
          ?.messages.some((x) => x.text === "secret plan zebra" && x.seq !== undefined),
      "the victim's DM, stored",
    );
    const root = snap.dms
      .find((d) => d.peer === bob.publicKey)
      ?.messages.find((x) => x.text === "secret plan zebra")?.id as string;
    await b.send(`@${victim.publicKey}`, "zebra reply", { replyTo: root });
    await wait(
      b,
      (s) =>
        !!s.dms
          .find((d) => d.peer === victim.publicKey)
          ?.messages.some((x) => x.text === "zebra reply" && x.seq !== undefined),
      "bob's reply, stored",
    );
    const ask = async <T>(
      subject: string,
      body: string,
      parse: (w: { data: Uint8Array; header: (k: string) => string | undefined }) => T,
    ) => {
      const r: Msg = await m.request(subject, body, { timeout: 5000 });
      return parse({ data: r.data, header: (k) => r.headers?.get(k) || undefined });
    };
    const thread = await ask(
      HISTORY_THREAD_SUBJECT,
      encodeThreadRequest({ root }),
      parseThreadReply,
    );
    expect(thread).toEqual({ ok: true, value: { messages: [], more: false } });
    // search: everything, the pair named as a conversation, and a tampered cursor
    for (const req of [
      { q: "zebra" },
      { q: "zebra", conv: `@${bob.publicKey}` },
      { q: "zebra", cursor: "9007199254740991.9007199254740991" },
    ]) {
      const page = await ask(HISTORY_SEARCH_SUBJECT, encodeSearchRequest(req), parseSearchReply);
      expect(page.ok && page.value.hits.map((h) => h.conv), JSON.stringify(req)).toEqual([]);
    }
    // typing: never under another's key, never on the relayed subjects
    expect({
      asVictim: await probePublish(
        m,
        typingSubject({ kind: "post", channel: "General" }, victim.publicKey),
      ),
      typers: await probePublish(m, typersSubject("General", victim.publicKey)),
      feed: await probePublish(m, userFeedSubject(bob.publicKey, { typing: victim.publicKey })),
    }).toEqual({ asVictim: "denied", typers: "denied", feed: "denied" });
  });

  // Every distinct key a live message mentions is looked up in the directory by every client,
  // which remembers the answer for the session. Live posts are not quota'd, and any 56
  // characters with a valid checksum are a key: mallory needs no registrations to make each
  // client ask about, and keep, 33 made-up keys per post.
  it("a mention storm of made-up keys costs each client a bounded number of lookups", async () => {
    const asked = () => directory.requests.reduce((n, keys) => n + keys.length, 0);
    const before = asked();
    const posts = 100;
    const perPost = 33; // 33 × 59 characters fit a message's 2,000
    for (let i = 0; i < posts; i++) {
      const keys = Array.from({ length: perPost }, () => encodePublicKey("U", randomBytes(32)));
      const msg = keys.map(mentionOf).join(" ");
      m.publish(
        postSubject("General", mallory.publicKey),
        await encodePost(signer, { name: "mallory", channel: "General", msg }),
      );
    }
    // then one post naming one more made-up key: a client's lookups go out in order, one at a
    // time, so once both clients asked for it, they asked for all they were going to
    const last = encodePublicKey("U", randomBytes(32));
    m.publish(
      postSubject("General", mallory.publicKey),
      await encodePost(signer, { name: "mallory", channel: "General", msg: mentionOf(last) }),
    );
    await m.flush();
    await eventually(
      () => directory.requests.flat().filter((k) => k === last).length >= 2 || undefined,
      "both clients to look up the last made-up key",
      { timeoutMs: 30_000 },
    );
    expect(asked() - before, "keys looked up by 2 clients for 100 posts").toBeLessThanOrEqual(
      2 * 1000,
    );
  });
  // Each accepted event costs every subscriber of its channel an update. Measured by the
  // attacker helper before the limit: one key, 32 requests at a time, had ~400 reactions a second
  // accepted (and 1.5 KB of state per message it decorated).
  it("one key's reaction flood is cut by a per-sender limit; others' events still pass", async () => {
    await v.send("#General", "react to me");
    const snap = await wait(
      v,
      (s) =>
        !!s.channels
          .find((c) => c.id === "#General")
          ?.messages.some((x) => x.text === "react to me" && x.seq !== undefined),
      "the victim's post, stored",
    );
    const target = snap.channels
      .find((c) => c.id === "#General")
      ?.messages.find((x) => x.text === "react to me")?.id as string;
    const general: Conv = { kind: "post", channel: "General" };
    const verdicts: string[] = [];
    // 100 reactions, 10 at a time: under the writer's in-flight cap of 32, so only a rate stops them
    for (let i = 0; i < 10; i++) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, async (_, j) =>
          encodeReaction(signer, {
            name: "mallory",
            conv: general,
            target,
            emoji: "🎉",
            op: (i * 10 + j) % 2 === 0 ? "add" : "remove",
          }),
        ),
      );
      verdicts.push(
        ...(await Promise.all(
          batch.map((t) => sendEvent(eventSubject(general, mallory.publicKey), t)),
        )),
      );
    }
    const accepted = verdicts.filter((x) => x === "ok").length;
    expect(accepted, "reactions accepted of 100").toBeLessThan(60);
    expect(verdicts.filter((x) => x === "UNAVAILABLE").length).toBe(100 - accepted);
    // the limit is mallory's: the victim reacts at once
    await v.react(target, "👍", true);
  });
});
