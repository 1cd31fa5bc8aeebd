// ChatSession against a real nats-server: presence, posts, DMs, identity, history, DM privacy
// and revocation. One stack for the whole file; every session and connection is closed.
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import {
  ChatSession,
  type ChatSessionOptions,
  type ChatSnapshot,
  readLastN,
  waitForSnapshot,
} from "@natschat/client";
import {
  EnvelopeVerifier,
  encodePost,
  encodePresence,
  ONLINE_SUBJECT,
  type PresenceEnvelope,
  postsSubject,
  signerFromSeed,
} from "@natschat/protocol";
import {
  type MintedUser,
  mintChatUser,
  probePublish,
  probeSubscribe,
  startTestStack,
  type TestStack,
  withChatStreams,
} from "@natschat/testing";
import {
  chatUserPermissions,
  connectRole,
  DMS_STREAM,
  loadSeed,
  lookupAccountJwt,
  nativeKeyPair,
  POSTS_STREAM,
  pushAccountJwt,
  revokeInAccountJwt,
} from "@natschat/trust";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let leaf: NatsConnection;
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
  leaf = await withChatStreams(stack);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.stop()));
  await Promise.all(conns.splice(0).map((nc) => nc.close()));
});

afterAll(async () => {
  await leaf?.close();
  await stack?.stop();
});

describe("two clients", () => {
  it("see each other's presence within 1 s of joining, then exchange posts and DMs", async () => {
    const alice = await mintChatUser(stack.dir, "alice");
    const bob = await mintChatUser(stack.dir, "bob");
    const a = await join(alice);
    const b = await join(bob);
    // bob learns alice from her answer to his first announcement; alice learns bob from it.
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
    // leaving says goodbye: a presence that expires at once
    await b.stop();
    await waitForSnapshot(a, (s) => user(s, bob.publicKey)?.online === false, {
      timeoutMs: 1000,
      what: "alice to see bob leave",
    });
  });

  it("answers a newcomer's first announcement with a plain one that carries its identity", async () => {
    const host = await mintChatUser(stack.dir, "host");
    const newcomer = await mintChatUser(stack.dir, "newcomer");
    await join(host);
    const nc = await raw(newcomer);
    const verifier = new EnvelopeVerifier();
    const answers: PresenceEnvelope[] = [];
    let gotAnswer!: () => void;
    const answered = new Promise<void>((r) => {
      gotAnswer = r;
    });
    nc.subscribe(ONLINE_SUBJECT, {
      callback: (_err, m) =>
        void verifier.verify(m.data).then((r) => {
          if (r.ok && r.envelope.type === "chat-online" && r.envelope.iss === host.publicKey) {
            answers.push(r.envelope);
            gotAnswer();
          }
        }),
    });
    await nc.flush();
    const signer = await signerFromSeed(newcomer.seed);
    // the talk's first announcement: tags ["chat-online"]
    nc.publish(
      ONLINE_SUBJECT,
      await encodePresence(signer, { name: "newcomer", first: true, userJwt: newcomer.jwt }),
    );
    await Promise.race([
      answered,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error("host did not answer the first announcement within 1 s")),
          1000,
        ),
      ),
    ]);
    expect(answers[0]?.userJwt).toBe(host.jwt);
    // answers are plain announcements, so two clients never answer each other in a loop
    expect(answers[0]?.first).toBe(false);
  });

  it("answers a first announcement once and expires users that fall silent", async () => {
    const carol = await mintChatUser(stack.dir, "carol");
    const dave = await mintChatUser(stack.dir, "dave");
    const c = await join(carol, { sweepIntervalMs: 50 });
    // dave announces with a 1 s lifetime and never again: carol must mark him offline.
    const d = await join(dave, { presenceTtlSeconds: 1, presenceIntervalMs: 3_600_000 });
    await waitForSnapshot(c, (s) => user(s, dave.publicKey)?.online === true, {
      timeoutMs: 1000,
      what: "carol to see dave",
    });
    await waitForSnapshot(d, (s) => user(s, carol.publicKey)?.online === true, {
      timeoutMs: 1000,
      what: "dave to learn carol from her answer",
    });
    await waitForSnapshot(c, (s) => user(s, dave.publicKey)?.online === false, {
      timeoutMs: 3000,
      what: "carol to expire dave after his presence lapsed",
    });
  });
});

describe("identity", () => {
  it("never shows a post under the name it claims, only under the issued one", async () => {
    const victim = await mintChatUser(stack.dir, "victim");
    const mallory = await mintChatUser(stack.dir, "mallory");
    const watcher = await mintChatUser(stack.dir, "watcher");
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
      postsSubject("General"),
      await encodePost(signer, { name: "victim", channel: "General", msg: "I am the victim" }),
    );
    // and a presence that carries victim's issued user JWT: it is not for her key
    nc.publish(
      ONLINE_SUBJECT,
      await encodePresence(signer, { name: "victim", userJwt: victim.jwt }),
    );
    const s = await waitForSnapshot(
      w,
      (x) => !!channel(x, "General")?.messages.some((m) => m.text === "I am the victim"),
      { what: "the forged post to arrive" },
    );
    await waitForSnapshot(w, (x) => (x.drops["bad-identity"] ?? 0) >= 1, {
      what: "the stolen-identity presence to be dropped",
    });
    const forged = channel(s, "General")?.messages.find((m) => m.text === "I am the victim");
    expect(forged).toMatchObject({ from: mallory.publicKey, name: "mallory", display: "mallory" });
    expect(forged?.claimedOther).toBe(true);
    const final = w.snapshot();
    expect(user(final, mallory.publicKey)?.name).toBe("mallory");
    expect(user(final, victim.publicKey)?.name).toBe("victim");
  });

  it("labels a key with no known identity by its short form, not its claimed name", async () => {
    const ghost = await mintChatUser(stack.dir, "ghost");
    const seer = await mintChatUser(stack.dir, "seer");
    const s = await join(seer);
    // ghost never announces presence: it only posts, claiming to be "admin"
    const nc = await raw(ghost);
    const signer = await signerFromSeed(ghost.seed);
    nc.publish(
      postsSubject("NATS"),
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
  it("a third user can neither subscribe to nor read through JetStream another's DMs", async () => {
    const alice = await mintChatUser(stack.dir, "alice2");
    const eve = await mintChatUser(stack.dir, "eve");
    const nc = await raw(eve);
    const other = `chat.KUBECON.dms.${alice.publicKey}`;
    expect(await probeSubscribe(nc, other)).toBe("denied");
    expect(await probeSubscribe(nc, "chat.KUBECON.dms.*")).toBe("denied");
    expect(await probeSubscribe(nc, "chat.KUBECON.dms.>")).toBe("denied");
    // JetStream: a consumer filtered to alice's subject, to all DMs, or through the old API
    expect(await probePublish(nc, `$JS.API.CONSUMER.CREATE.${DMS_STREAM}.x.${other}`)).toBe(
      "denied",
    );
    expect(
      await probePublish(nc, `$JS.API.CONSUMER.CREATE.${DMS_STREAM}.x.chat.KUBECON.dms.*`),
    ).toBe("denied");
    expect(await probePublish(nc, `$JS.API.CONSUMER.CREATE.${DMS_STREAM}`)).toBe("denied");
    expect(await probePublish(nc, `$JS.API.CONSUMER.DURABLE.CREATE.${DMS_STREAM}.x`)).toBe(
      "denied",
    );
    expect(await probePublish(nc, `$JS.API.CONSUMER.LIST.${DMS_STREAM}`)).toBe("denied");
    expect(await probePublish(nc, `$JS.API.STREAM.MSG.GET.${DMS_STREAM}`)).toBe("denied");
    expect(await probePublish(nc, `$JS.API.DIRECT.GET.${DMS_STREAM}`)).toBe("denied");
    // eve's own DMs through the same client code path work
    const ok = await probePublish(
      nc,
      `$JS.API.CONSUMER.CREATE.${DMS_STREAM}.x.chat.KUBECON.dms.${eve.publicKey}`,
    );
    expect(ok).toBe("allowed");
    // and the jetstream client itself cannot read alice's DMs
    await expect(
      readLastN(jetstream(nc), DMS_STREAM, other, 10, { fetchTimeoutMs: 500 }),
    ).rejects.toThrow();
  });

  it("a user's DM history holds both directions and only its own DMs", async () => {
    const ann = await mintChatUser(stack.dir, "ann");
    const ben = await mintChatUser(stack.dir, "ben");
    const cat = await mintChatUser(stack.dir, "cat");
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
    await b.send(ann.publicKey, "ben to ann");
    await c.send(ben.publicKey, "cat to ben");
    await waitForSnapshot(a, (s) => dm(s, ben.publicKey)?.messages.length === 2, {
      what: "ann gets the reply",
    });
    await waitForSnapshot(b, (s) => dm(s, cat.publicKey)?.messages.length === 1, {
      what: "ben gets cat's DM",
    });
    // the stream holds them all; a fresh session of ann reads only ann's side
    const jsm = await jetstreamManager(leaf);
    await expect(jsm.streams.info(DMS_STREAM)).resolves.toBeTruthy();
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
    const poster = await mintChatUser(stack.dir, "poster");
    const late = await mintChatUser(stack.dir, "late");
    const p = await join(poster, { channels: ["history"] });
    for (let i = 1; i <= 150; i++) await p.send("#history", `post ${i}`);
    const jsm = await jetstreamManager(leaf);
    const stored = async () =>
      (await jsm.streams.info(POSTS_STREAM, { subjects_filter: postsSubject("history") })).state
        .subjects?.[postsSubject("history")] ?? 0;
    await waitUntil(async () => (await stored()) === 150, "the stream to hold the 150 posts");

    const l = await join(late, { channels: ["history"] });
    await l.historyLoaded();
    const texts = () => channel(l.snapshot(), "history")?.messages.map((m) => m.text) ?? [];
    expect(texts()).toEqual(Array.from({ length: 100 }, (_, i) => `post ${i + 51}`));
    // the poster's name resolves when its answer to our first announcement arrives
    await waitForSnapshot(
      l,
      (x) => !!channel(x, "history")?.messages.every((m) => m.name === "poster"),
      { timeoutMs: 1000, what: "the history posts to show the poster's issued name" },
    );
    expect(channel(l.snapshot(), "history")?.unread).toBe(0);
    await p.send("#history", "live 1");
    await p.send("#history", "live 2");
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
    const writer = await mintChatUser(stack.dir, "writer");
    const reader = await mintChatUser(stack.dir, "reader");
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

/** NATS subject matching: `*` is one token, `>` the rest. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const t = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return t.length > i;
    if (i >= t.length || (p[i] !== "*" && p[i] !== t[i])) return false;
  }
  return p.length === t.length;
}

describe("JetStream API use", () => {
  it("uses only the API subjects chatUserPermissions allows, with filters in the subject", async () => {
    const ivy = await mintChatUser(stack.dir, "ivy");
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
    // one stored post, so the history read pulls messages (MSG.NEXT) and not only counts them
    const nc = await raw(ivy);
    const signer = await signerFromSeed(ivy.seed);
    nc.publish(
      postsSubject("General"),
      await encodePost(signer, { name: "ivy", channel: "General", msg: "stored" }),
    );
    const jsm = await jetstreamManager(leaf);
    await waitUntil(
      async () =>
        ((await jsm.streams.info(POSTS_STREAM, { subjects_filter: postsSubject("General") })).state
          .subjects?.[postsSubject("General")] ?? 0) > 0,
      "a stored post in #General",
    );
    const s = await join(ivy, { connect: recording, channels: ["KUBECON", "General"] });
    await s.historyLoaded();
    const js = [...new Set(used.filter((x) => x.startsWith("$JS.")))];
    const allow = chatUserPermissions(ivy.publicKey).pub?.allow ?? [];
    for (const subject of js)
      expect(
        allow.some((p) => matches(p, subject)),
        subject,
      ).toBe(true);
    const verbs = new Set(js.map((x) => x.split(".").slice(2, 4).join(".")));
    expect([...verbs].sort()).toEqual([
      "CONSUMER.CREATE",
      "CONSUMER.DELETE",
      "CONSUMER.MSG",
      "STREAM.INFO",
    ]);
    // every consumer create names its filter in the subject: one channel, or our own DMs
    for (const create of js.filter((x) => x.includes("CONSUMER.CREATE"))) {
      expect(create).toMatch(
        new RegExp(
          `^\\$JS\\.API\\.CONSUMER\\.CREATE\\.(${POSTS_STREAM}\\.[^.]+\\.chat\\.KUBECON\\.posts\\.(KUBECON|General)|${DMS_STREAM}\\.[^.]+\\.chat\\.KUBECON\\.dms\\.${ivy.publicKey})$`,
        ),
      );
    }
    const snap = s.snapshot();
    expect(snap.notice).toBeUndefined();
    expect(snap.channels.every((c) => c.history === "loaded")).toBe(true);
  });
});

describe("reconnect", () => {
  it("goes reconnecting → connected and backfills without duplicates or drops", async () => {
    const rita = await mintChatUser(stack.dir, "rita");
    const sam = await mintChatUser(stack.dir, "sam");
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
    const victim = await mintChatUser(stack.dir, "revokee");
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
    const brief = await mintChatUser(stack.dir, "brief", 2);
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
