// ChatSession against a real nats-server (protocol v3: sender-keyed subjects, history and names
// from services): presence, posts, DMs, identity, history, DM privacy and revocation. One stack
// for the whole file, with the history service and a stand-in directory; every session and
// connection is closed.
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import {
  ChatSession,
  type ChatSessionOptions,
  type ChatSnapshot,
  waitForSnapshot,
} from "@natschat/client";
import type { HistoryService } from "@natschat/history";
import {
  dmSubject,
  EnvelopeVerifier,
  encodeHistoryDmsRequest,
  encodeHistoryPostsRequest,
  encodePost,
  encodePresence,
  HISTORY_DMS_SUBJECT,
  HISTORY_POSTS_SUBJECT,
  HISTORY_READSTATE_SUBJECT,
  ONLINE_WILDCARD,
  type PresenceEnvelope,
  parseHistoryReply,
  postSubject,
  presenceSubject,
  RESENT_HEADER,
  signerFromSeed,
} from "@natschat/protocol";
import {
  eventually,
  type MintedUser,
  mintChatUser,
  probePublish,
  probeSubscribe,
  startTestDirectory,
  startTestHistory,
  startTestStack,
  type TestDirectory,
  type TestStack,
} from "@natschat/testing";
import {
  connectRole,
  loadSeed,
  lookupAccountJwt,
  nativeKeyPair,
  pushAccountJwt,
  revokeInAccountJwt,
} from "@natschat/trust";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let history: HistoryService;
let directory: TestDirectory;
const open: ChatSession[] = [];
const conns: NatsConnection[] = [];

function options(extra: Partial<ChatSessionOptions> = {}): ChatSessionOptions {
  const chat = stack.trust.summary.accounts.CHAT;
  return {
    servers: stack.urls,
    connect,
    chatAccount: chat.publicKey,
    chatSigningKeys: chat.signingKeys,
    ...extra,
  };
}

/** Mints a chat user and registers it with the directory (as the access service would). */
async function registered(name: string, expiresInSeconds?: number): Promise<MintedUser> {
  const u = await mintChatUser(stack.dir, name, expiresInSeconds);
  directory.register(u);
  return u;
}

async function join(user: MintedUser, extra: Partial<ChatSessionOptions> = {}) {
  const s = new ChatSession({ jwt: user.jwt, seed: user.seed }, options(extra));
  open.push(s);
  await s.start();
  return s;
}

/** A raw connection as a chat user (for attacks and probes). */
async function raw(user: MintedUser): Promise<NatsConnection> {
  const { credsAuthenticator } = await import("@nats-io/nats-core");
  const nc = await connect({
    servers: stack.urls,
    authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)),
    inboxPrefix: `_INBOX_${user.publicKey}`,
  });
  conns.push(nc);
  return nc;
}

/** Polls `check` until it is true; fails loudly after `timeoutMs`. */
async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const channel = (s: ChatSnapshot, name: string) => s.channels.find((c) => c.id === `#${name}`);
const dm = (s: ChatSnapshot, key: string) => s.dms.find((c) => c.id === `@${key}`);
const user = (s: ChatSnapshot, key: string) => s.users.find((u) => u.key === key);

beforeAll(async () => {
  stack = await startTestStack();
  history = await startTestHistory(stack);
  directory = await startTestDirectory(stack);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.stop()));
  await Promise.all(conns.splice(0).map((nc) => nc.close()));
});

afterAll(async () => {
  await directory?.stop();
  await history?.stop();
  await stack?.stop();
});

/** The messages the history service holds for `channel`, read as `user`. */
async function storedPosts(nc: NatsConnection, channel: string): Promise<number> {
  const m = await nc.request(
    HISTORY_POSTS_SUBJECT,
    encodeHistoryPostsRequest({ channel, limit: 200 }),
    {
      timeout: 5000,
    },
  );
  const r = parseHistoryReply({ data: m.data, header: (h) => m.headers?.get(h) || undefined });
  return r.ok ? r.value.messages.length : -1;
}

describe("two clients", () => {
  it("see each other's presence within 1 s of joining, then exchange posts and DMs", async () => {
    const alice = await registered("alice");
    const bob = await registered("bob");
    const a = await join(alice);
    const b = await join(bob);
    // both follow the directory's presence feed: bob loads alice in his snapshot, alice gets
    // bob's join as a change
    await Promise.all([
      waitForSnapshot(
        b,
        (s) => user(s, alice.publicKey)?.name === "alice" && !!user(s, alice.publicKey)?.online,
        {
          timeoutMs: 1000,
          what: "bob to see alice online under her issued name",
        },
      ),
      waitForSnapshot(
        a,
        (s) => user(s, bob.publicKey)?.name === "bob" && !!user(s, bob.publicKey)?.online,
        {
          timeoutMs: 1000,
          what: "alice to see bob online under his issued name",
        },
      ),
    ]);

    await a.send("#NATS", "hello from alice");
    const sb = await waitForSnapshot(
      b,
      (s) => !!channel(s, "NATS")?.messages.some((m) => m.text === "hello from alice"),
      { what: "bob to receive alice's post" },
    );
    const post = channel(sb, "NATS")?.messages.find((m) => m.text === "hello from alice");
    expect(post).toMatchObject({
      from: alice.publicKey,
      name: "alice",
      display: "alice",
      mine: false,
    });
    // bob has #KUBECON on screen, so the #NATS post is unread until he selects it
    expect(channel(sb, "NATS")?.unread).toBe(1);
    b.select("#NATS");
    expect(channel(b.snapshot(), "NATS")?.unread).toBe(0);
    expect(b.snapshot().selected).toBe("#NATS");

    await b.send(`@${alice.publicKey}`, "psst alice");
    const sa = await waitForSnapshot(
      a,
      (s) => !!dm(s, bob.publicKey)?.messages.some((m) => m.text === "psst alice"),
      { what: "alice to receive bob's DM" },
    );
    expect(dm(sa, bob.publicKey)).toMatchObject({ title: "bob", online: true, unread: 1 });
    // bob's own view has the sent DM once, although his copy also comes back on his subject
    await b.send(`@${alice.publicKey}`, "second");
    await waitForSnapshot(a, (s) => dm(s, bob.publicKey)?.messages.length === 2, {
      what: "alice to receive the second DM",
    });
    const mine = dm(b.snapshot(), alice.publicKey)?.messages ?? [];
    expect(mine.map((m) => m.text)).toEqual(["psst alice", "second"]);
    expect(mine.every((m) => m.mine && m.name === "bob")).toBe(true);
    expect(a.snapshot().dropped).toBe(0);
    expect(b.snapshot().dropped).toBe(0);
    // leaving says goodbye: a heartbeat that expires at once, so the directory drops bob now
    await b.stop();
    await waitForSnapshot(a, (s) => user(s, bob.publicKey)?.online === false, {
      timeoutMs: 1000,
      what: "alice to see bob leave",
    });
  });

  it("receives no one's heartbeats, and its own carries no user JWT (issue 12)", async () => {
    const host = await registered("host");
    const h = await join(host);
    const nc = await raw(host);
    // the server refuses a chat user's subscription to everyone's heartbeats
    expect(await probeSubscribe(nc, ONLINE_WILDCARD)).toBe("denied");
    // the directory (here a stand-in with the access service's OnlineSet) sees the heartbeat;
    // it carries no user JWT: the directory knows the key's name, the server proves the key
    const seen: PresenceEnvelope[] = [];
    const admin = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("admin"),
      inboxOwner: "admin",
    });
    conns.push(admin);
    const verifier = new EnvelopeVerifier();
    admin.subscribe(presenceSubject(host.publicKey), {
      callback: (_e, m) =>
        void verifier.verify(m.data, { subject: m.subject }).then((r) => {
          if (r.ok && r.envelope.type === "chat-online") seen.push(r.envelope);
        }),
    });
    await admin.flush();
    await h.stop(); // its goodbye is a heartbeat too
    await eventually(() => seen.length >= 1, "the goodbye to reach the admin");
    expect(seen[0]?.userJwt).toBeUndefined();
  });
});

describe("identity", () => {
  it("never shows a post under the name it claims, only under the issued one", async () => {
    const victim = await registered("victim");
    const mallory = await registered("mallory");
    const watcher = await registered("watcher");
    const w = await join(watcher);
    await join(victim);
    await join(mallory);
    await waitForSnapshot(w, (s) => user(s, mallory.publicKey)?.name === "mallory", {
      what: "watcher to learn mallory",
    });
    // mallory signs a valid post with her own key that claims to be from "victim"
    const nc = await raw(mallory);
    const signer = await signerFromSeed(mallory.seed);
    nc.publish(
      postSubject("General", mallory.publicKey),
      await encodePost(signer, { name: "victim", channel: "General", msg: "I am the victim" }),
    );
    const s = await waitForSnapshot(
      w,
      (x) => !!channel(x, "General")?.messages.some((m) => m.text === "I am the victim"),
      { what: "the forged post to arrive" },
    );
    const forged = channel(s, "General")?.messages.find((m) => m.text === "I am the victim");
    expect(forged).toMatchObject({ from: mallory.publicKey, name: "mallory", display: "mallory" });
    expect(forged?.claimedOther).toBe(true);
    const final = w.snapshot();
    expect(user(final, mallory.publicKey)?.name).toBe("mallory");
    expect(user(final, victim.publicKey)?.name).toBe("victim");
  });

  it("labels a key the directory does not know by its short form, not its claimed name", async () => {
    // minted, but never registered with the directory
    const ghost = await mintChatUser(stack.dir, "ghost");
    const seer = await registered("seer");
    const s = await join(seer);
    // ghost never announces presence: it only posts, claiming to be "admin"
    const nc = await raw(ghost);
    const signer = await signerFromSeed(ghost.seed);
    nc.publish(
      postSubject("NATS", ghost.publicKey),
      await encodePost(signer, { name: "admin", channel: "NATS", msg: "trust me" }),
    );
    const snap = await waitForSnapshot(
      s,
      (x) => !!channel(x, "NATS")?.messages.some((m) => m.text === "trust me"),
      { what: "the ghost post" },
    );
    const m = channel(snap, "NATS")?.messages.find((x) => x.text === "trust me");
    expect(m?.name).toBeUndefined();
    expect(m?.display).toMatch(/^~U.{4}….{4}$/);
    expect(m?.display).not.toContain("admin");
  });
});

describe("DM privacy", () => {
  it("a third user can subscribe to no one else's DMs, has no JetStream API, and its DM history is its own", async () => {
    const alice = await registered("alice2");
    const bob = await registered("bob2");
    const eve = await registered("eve");
    const a = await join(alice);
    await a.send(`@${bob.publicKey}`, "for bob only");
    const nc = await raw(eve);
    expect(await probeSubscribe(nc, `chat.KUBECON.dms.${alice.publicKey}.*`)).toBe("denied");
    expect(await probeSubscribe(nc, `chat.KUBECON.dms.*.${alice.publicKey}`)).toBe("denied");
    expect(await probeSubscribe(nc, "chat.KUBECON.dms.*.*")).toBe("denied");
    expect(await probeSubscribe(nc, "chat.KUBECON.dms.>")).toBe("denied");
    expect(await probeSubscribe(nc, "chat.store.>")).toBe("denied");
    // no JetStream API at all: not even for its own DMs
    expect(await probePublish(nc, "$JS.API.INFO")).toBe("denied");
    expect(await probePublish(nc, "$JS.API.STREAM.INFO.CHAT_DMS")).toBe("denied");
    expect(
      await probePublish(
        nc,
        `$JS.API.CONSUMER.CREATE.CHAT_DMS.x.chat.store.dms.${eve.publicKey}.*`,
      ),
    ).toBe("denied");
    // publishing as alice is refused by the server
    expect(await probePublish(nc, dmSubject(bob.publicKey, alice.publicKey))).toBe("denied");
    // the DM history service answers eve with eve's DMs: none (it ignores a peer she names)
    for (const req of [{}, { peer: alice.publicKey }, { peer: bob.publicKey }]) {
      const m = await nc.request(HISTORY_DMS_SUBJECT, encodeHistoryDmsRequest(req), {
        timeout: 5000,
      });
      const r = parseHistoryReply({ data: m.data, header: (h) => m.headers?.get(h) || undefined });
      expect(r.ok && r.value.messages.length, JSON.stringify(req)).toBe(0);
    }
  });

  it("a user's DM history holds both directions and only its own DMs", async () => {
    const ann = await registered("ann");
    const ben = await registered("ben");
    const cat = await registered("cat");
    const a = await join(ann);
    const b = await join(ben);
    const c = await join(cat);
    await waitForSnapshot(a, (s) => user(s, ben.publicKey)?.online === true, {
      what: "ann sees ben",
    });
    await a.send(ben.publicKey, "ann to ben");
    await waitForSnapshot(b, (s) => dm(s, ann.publicKey)?.messages.length === 1, {
      what: "ben gets it",
    });
    // history is in the order the writer stored, and live delivery does not wait for it: a reply
    // sent the moment the DM arrived could be stored first (seen in a loaded full run)
    await eventually(() => a.unsaved === 0, "the writer to ack ann's DM");
    await b.send(ann.publicKey, "ben to ann");
    await c.send(ben.publicKey, "cat to ben");
    await waitForSnapshot(a, (s) => dm(s, ben.publicKey)?.messages.length === 2, {
      what: "ann gets the reply",
    });
    await waitForSnapshot(b, (s) => dm(s, cat.publicKey)?.messages.length === 1, {
      what: "ben gets cat's DM",
    });
    // a fresh session of ann reads only ann's side, both directions, from the history service,
    // once the writer has stored them (live delivery and storing run side by side: a loaded run
    // read history before ben's reply was stored)
    await eventually(
      () => b.unsaved === 0 && c.unsaved === 0,
      "the writer to ack ben's and cat's DMs",
    );
    await a.stop();
    const again = await join(ann);
    await again.historyLoaded();
    const snap = again.snapshot();
    expect(dm(snap, ben.publicKey)?.messages.map((m) => m.text)).toEqual([
      "ann to ben",
      "ben to ann",
    ]);
    expect(snap.dms.map((d) => d.peer)).toEqual([ben.publicKey]);
    expect(snap.dms.flatMap((d) => d.messages).some((m) => m.text === "cat to ben")).toBe(false);
  });
});

describe("history", () => {
  it("a client that joins after 150 posts sees exactly the last 100 in order, then live without duplicates", async () => {
    const poster = await registered("poster");
    const late = await registered("late");
    const p = await join(poster, { channels: ["history"] });
    for (let i = 1; i <= 150; i++) await p.send("#history", `post ${i}`);
    const nc = await raw(late);
    await waitUntil(
      async () => (await storedPosts(nc, "history")) === 150,
      "history to hold the 150 posts",
    );
    // the poster is gone (no presence to learn its name from): the directory names it
    await p.stop();

    const l = await join(late, { channels: ["history"] });
    await l.historyLoaded();
    const texts = () => channel(l.snapshot(), "history")?.messages.map((m) => m.text) ?? [];
    expect(texts()).toEqual(Array.from({ length: 100 }, (_, i) => `post ${i + 51}`));
    // the poster's name resolves in one directory round trip, though it is long gone
    await waitForSnapshot(
      l,
      (x) => !!channel(x, "history")?.messages.every((m) => m.name === "poster"),
      { timeoutMs: 1000, what: "the history posts to show the poster's issued name" },
    );
    expect(channel(l.snapshot(), "history")?.unread).toBe(0);
    const p2 = await join(poster, { channels: ["history"] });
    await p2.send("#history", "live 1");
    await p2.send("#history", "live 2");
    await waitForSnapshot(l, (s) => channel(s, "history")?.messages.at(-1)?.text === "live 2", {
      what: "the live posts after history",
    });
    expect(texts()).toEqual([
      ...Array.from({ length: 100 }, (_, i) => `post ${i + 51}`),
      "live 1",
      "live 2",
    ]);
    expect(l.snapshot().dropped).toBe(0);
  });

  it("posts published while history loads appear once", async () => {
    const writer = await registered("writer");
    const reader = await registered("reader");
    const w = await join(writer, { channels: ["race"] });
    for (let i = 1; i <= 20; i++) await w.send("#race", `old ${i}`);
    const r = new ChatSession(
      { jwt: reader.jwt, seed: reader.seed },
      options({ channels: ["race"], historySize: 10 }),
    );
    open.push(r);
    const started = r.start();
    const writes = (async () => {
      for (let i = 1; i <= 20; i++) await w.send("#race", `new ${i}`);
    })();
    await Promise.all([started, writes]);
    await r.historyLoaded();
    const snap = await waitForSnapshot(
      r,
      (s) => channel(s, "race")?.messages.at(-1)?.text === "new 20",
      { what: "the last concurrent post" },
    );
    const texts = channel(snap, "race")?.messages.map((m) => m.text) ?? [];
    expect(new Set(texts).size).toBe(texts.length);
    const news = texts.filter((t) => t.startsWith("new "));
    expect(news).toEqual(
      Array.from({ length: news.length }, (_, i) => `new ${20 - news.length + i + 1}`),
    );
  });
});

describe("services, not JetStream", () => {
  it("sends, reads history and resolves names without a single $JS subject", async () => {
    const ivy = await registered("ivy");
    const jon = await registered("jon");
    const used: string[] = [];
    const recording: ChatSessionOptions["connect"] = async (opts) => {
      const nc = await connect(opts);
      conns.push(nc);
      const publish = nc.publish.bind(nc);
      const request = nc.request.bind(nc);
      nc.publish = (subject, ...rest) => {
        used.push(subject);
        return publish(subject, ...rest);
      };
      nc.request = (subject, ...rest) => {
        used.push(subject);
        return request(subject, ...rest);
      };
      return nc;
    };
    const j = await join(jon, { channels: ["KUBECON", "General"] });
    await j.send("#General", "stored");
    const s = await join(ivy, { connect: recording, channels: ["KUBECON", "General"] });
    await s.historyLoaded();
    await waitForSnapshot(
      s,
      (x) => channel(x, "General")?.messages.find((m) => m.text === "stored")?.name === "jon",
      { what: "jon's stored post under his issued name" },
    );
    await s.send("#General", "ivy here");
    await s.send(`@${jon.publicKey}`, "hi jon");
    await waitForSnapshot(j, (x) => dm(x, ivy.publicKey)?.messages.length === 1, {
      what: "jon to get ivy's DM",
    });
    expect(used.filter((x) => x.startsWith("$JS"))).toEqual([]);
    // a DM goes on the subject that names its recipient and its sender, and nowhere else (no
    // own copy); the outbox may repeat it there until the writer acks it
    expect(new Set(used.filter((x) => x.startsWith("chat.KUBECON.dms.")))).toEqual(
      new Set([dmSubject(jon.publicKey, ivy.publicKey)]),
    );
    const needed = [
      presenceSubject(ivy.publicKey),
      postSubject("General", ivy.publicKey),
      dmSubject(jon.publicKey, ivy.publicKey),
      HISTORY_POSTS_SUBJECT,
      HISTORY_DMS_SUBJECT,
      HISTORY_READSTATE_SUBJECT,
      "chat.svc.directory.online",
    ];
    // a lookup only if a name was not in the online set's snapshot
    expect([...new Set(used)].sort()).toEqual(expect.arrayContaining(needed.sort()));
    expect(used.every((x) => needed.includes(x) || x === "chat.svc.directory.lookup")).toBe(true);
    const snap = s.snapshot();
    expect(snap.notice).toBeUndefined();
    expect(snap.channels.every((c) => c.history === "loaded")).toBe(true);
  });

  it("shows our DMs sent from another device live, once", async () => {
    const kim = await registered("kim");
    const lou = await registered("lou");
    const phone = await join(kim);
    const laptop = await join(kim);
    await join(lou);
    await phone.send(`@${lou.publicKey}`, "from my phone");
    const snap = await waitForSnapshot(laptop, (x) => dm(x, lou.publicKey)?.messages.length === 1, {
      what: "the laptop to show the DM the phone sent",
    });
    expect(dm(snap, lou.publicKey)?.messages[0]).toMatchObject({
      mine: true,
      text: "from my phone",
    });
    expect(snap.dropped).toBe(0);
  });

  it("shows online only registered, unrevoked users", async () => {
    const obs = await registered("observer");
    const phantom = await mintChatUser(stack.dir, "phantom"); // never registered
    const gone = await mintChatUser(stack.dir, "gone");
    directory.register(gone, { revoked: true });
    const o = await join(obs);
    for (const u of [phantom, gone]) {
      const nc = await raw(u);
      const signer = await signerFromSeed(u.seed);
      nc.publish(
        presenceSubject(u.publicKey),
        await encodePresence(signer, { name: u.name, userJwt: u.jwt }),
      );
      await nc.flush();
    }
    const real = await registered("real");
    await join(real);
    await waitForSnapshot(o, (x) => user(x, real.publicKey)?.online === true, {
      what: "real online",
    });
    // the directory took no notice of the non-users' heartbeats: they are not in its set
    expect(directory.online.has(phantom.publicKey)).toBe(false);
    expect(directory.online.has(gone.publicKey)).toBe(false);
    const snap = o.snapshot();
    expect(user(snap, phantom.publicKey)).toBeUndefined();
    expect(user(snap, gone.publicKey)).toBeUndefined();
  });

  it("re-reads history on a repeat only from a known user, at most once per interval", async () => {
    const rd = await registered("reader-r");
    const known = await registered("known-r");
    const stranger = await mintChatUser(stack.dir, "stranger-r"); // not in the directory
    const r = await join(rd, { channels: ["resent"] });
    // "resent" off screen: reading it would move the read position, which may read history too
    r.select(`@${known.publicKey}`);
    await r.historyLoaded();
    const before = directory.requests.length;
    // history reads of the channel, as the history service counts its requests
    const served = async () =>
      (await history.stats()).endpoints?.find((e) => e.subject === HISTORY_POSTS_SUBJECT)
        ?.num_requests ?? 0;
    const base = await served();
    const strangerNc = await raw(stranger);
    const strangerSigner = await signerFromSeed(stranger.seed);
    const { headers } = await import("@nats-io/nats-core");
    const h = headers();
    h.set(RESENT_HEADER, "1");
    for (let i = 0; i < 10; i++) {
      strangerNc.publish(
        postSubject("resent", stranger.publicKey),
        await encodePost(strangerSigner, { name: "x", channel: "resent", msg: `s${i}` }),
        { headers: h },
      );
    }
    await waitForSnapshot(r, (x) => (channel(x, "resent")?.messages.length ?? 0) === 10, {
      what: "the stranger's repeats",
    });
    await new Promise((res) => setTimeout(res, 1500));
    expect(await served()).toBe(base);
    const knownNc = await raw(known);
    const knownSigner = await signerFromSeed(known.seed);
    for (let i = 0; i < 10; i++) {
      knownNc.publish(
        postSubject("resent", known.publicKey),
        await encodePost(knownSigner, { name: "known-r", channel: "resent", msg: `k${i}` }),
        { headers: h },
      );
    }
    await waitUntil(
      async () => (await served()) > base,
      "one re-read after a known user's repeats",
    );
    await new Promise((res) => setTimeout(res, 1500));
    expect(await served()).toBe(base + 1);
    expect(directory.requests.length).toBeGreaterThan(before);
  });
});

describe("reconnect", () => {
  it("goes reconnecting → connected and backfills without duplicates or drops", async () => {
    const rita = await registered("rita");
    const sam = await registered("sam");
    let conn: NatsConnection | undefined;
    const keep: ChatSessionOptions["connect"] = async (opts) => {
      conn = await connect(opts);
      return conn;
    };
    const r = await join(rita, { connect: keep, channels: ["rc"] });
    const s = await join(sam, { channels: ["rc"] });
    await r.historyLoaded();
    await s.send("#rc", "before");
    await waitForSnapshot(r, (x) => channel(x, "rc")?.messages.length === 1, {
      what: "the first post",
    });
    const states: string[] = [];
    r.onChange(() => {
      const st = r.state;
      if (states.at(-1) !== st) states.push(st);
    });
    await conn?.reconnect();
    await waitForSnapshot(r, () => states.includes("reconnecting") && r.state === "connected", {
      what: "a reconnect",
    });
    await r.historyLoaded();
    await s.send("#rc", "after");
    const snap = await waitForSnapshot(
      r,
      (x) => channel(x, "rc")?.messages.at(-1)?.text === "after",
      {
        what: "the post after the reconnect",
      },
    );
    expect(channel(snap, "rc")?.messages.map((m) => m.text)).toEqual(["before", "after"]);
    expect(snap.dropped).toBe(0);
  });
});

describe("revocation", () => {
  it("reports revoked and stops when the user is revoked", async () => {
    const victim = await registered("revokee");
    const s = await join(victim);
    const push = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("push"),
      inboxOwner: "push",
    });
    conns.push(push);
    const chat = stack.trust.summary.accounts.CHAT.publicKey;
    const current = await lookupAccountJwt(push, chat);
    const signer = nativeKeyPair(await loadSeed(stack.dir, "operator-signing", "O"));
    const updated = await revokeInAccountJwt(current, victim.publicKey, signer);
    const replies = await pushAccountJwt(push, updated, stack.urls.length);
    expect(replies.every((r) => r.ok)).toBe(true);
    const result = await Promise.race([
      s.closed(),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error("the session did not report the revocation within 5 s")),
          5000,
        ),
      ),
    ]);
    expect(result.state).toBe("revoked");
    expect(s.state).toBe("revoked");
    expect(s.reason).toMatch(/revoked/i);
    await expect(s.send("#KUBECON", "still here?")).rejects.toThrow(/revoked/);
  });

  it("reports expired and stops when the user JWT expires", async () => {
    const brief = await registered("brief", 2);
    const s = await join(brief);
    const result = await Promise.race([
      s.closed(),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error("the session did not report the expiry within 8 s")),
          8000,
        ),
      ),
    ]);
    expect(result.state).toBe("expired");
    expect(s.reason).toMatch(/expired/i);
  });
});
