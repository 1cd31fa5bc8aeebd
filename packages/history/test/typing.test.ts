// The typing relay (issue 13) against a real nats-server: a user's typing signal reaches the
// channel's typers subject or the DM peer's private feed as {"ttl":6}; a flood is cut to one
// per interval per (sender, conversation) and a few conversations per sender at once, the rest
// dropped and counted in $SRV.STATS; nothing is stored; the relay forgets a quiet sender; and
// no user can publish a relayed signal or sign one as someone else.
import { jetstreamManager } from "@nats-io/jetstream";
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import type { HistoryService } from "@natschat/history";
import {
  TYPERS_WILDCARD,
  typersSubject,
  typingSubject,
  userFeedSubject,
  userFeedWildcard,
} from "@natschat/protocol";
import {
  connectChatUser,
  type MintedUser,
  mintChatUser,
  probePublish,
  startTestHistory,
  startTestStack,
  type TestStack,
} from "@natschat/testing";
import { DMS_STREAM, POSTS_STREAM } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let history: HistoryService;
let alice: MintedUser;
let bob: MintedUser;
let carol: MintedUser;
let aliceNc: NatsConnection;
let bobNc: NatsConnection;
let carolNc: NatsConnection;

/** The next message on `sub`, or a loud failure after `ms`. */
const iterators = new WeakMap<Subscription, AsyncIterator<Msg>>();
async function next(sub: Subscription, ms = 5000): Promise<Msg> {
  const it = iterators.get(sub) ?? sub[Symbol.asyncIterator]();
  iterators.set(sub, it);
  const timer = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`nothing on ${sub.getSubject()} in ${ms} ms`)), ms),
  );
  const r = await Promise.race([it.next(), timer]);
  if (r.done) throw new Error(`${sub.getSubject()} closed`);
  return r.value;
}

/** Waits until `check` holds, polling the service's own figures; fails loudly after `ms`. */
async function until(what: string, check: () => Promise<boolean> | boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function typingStats() {
  const posts = (await history.stats()).endpoints?.find((e) => e.name === "posts");
  return (posts?.data as { typing?: Record<string, number> } | undefined)?.typing ?? {};
}

async function storedCounts(): Promise<number[]> {
  const jsm = await jetstreamManager(history.chat);
  return Promise.all(
    [POSTS_STREAM, DMS_STREAM].map(async (s) => (await jsm.streams.info(s)).state.messages),
  );
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
}, 60_000);

afterAll(async () => {
  for (const nc of [aliceNc, bobNc, carolNc]) await nc?.close();
  await history?.stop();
  await stack?.stop();
});

describe("typing relay", () => {
  it("relays a channel's and a DM's typing signal to those who may hear it", async () => {
    const typers = bobNc.subscribe(TYPERS_WILDCARD);
    const bobFeed = bobNc.subscribe(userFeedWildcard(bob.publicKey));
    const carolTypers = carolNc.subscribe(TYPERS_WILDCARD);
    await Promise.all([bobNc.flush(), carolNc.flush()]);

    aliceNc.publish(typingSubject({ kind: "post", channel: "General" }, alice.publicKey), "");
    const inChannel = await next(typers);
    expect(inChannel.subject).toBe(typersSubject("General", alice.publicKey));
    expect(inChannel.json()).toEqual({ ttl: 6 });
    expect((await next(carolTypers)).subject).toBe(typersSubject("General", alice.publicKey));

    // whatever the sender puts in the body, the relay sends its own
    aliceNc.publish(
      typingSubject({ kind: "dm", peer: bob.publicKey }, alice.publicKey),
      "x".repeat(9000),
    );
    const inDm = await next(bobFeed);
    expect(inDm.subject).toBe(userFeedSubject(bob.publicKey, { typing: alice.publicKey }));
    expect(inDm.json()).toEqual({ ttl: 6 });
    for (const s of [typers, bobFeed, carolTypers]) s.unsubscribe();
  });

  it("cuts a flood to one per interval, counts the rest, stores nothing, and forgets quiet senders", async () => {
    const before = await typingStats();
    const stored = await storedCounts();
    const relayed: Msg[] = [];
    const sub = bobNc.subscribe(typersSubject("flood", carol.publicKey), {
      callback: (_err, m) => {
        relayed.push(m);
      },
    });
    await bobNc.flush();
    const subject = typingSubject({ kind: "post", channel: "flood" }, carol.publicKey);
    for (let i = 0; i < 1000; i++) carolNc.publish(subject, "");
    await carolNc.flush();
    await until("the relay to see all 1,000", async () => {
      const s = await typingStats();
      return (
        (s.relayed ?? 0) + (s.dropped ?? 0) - (before.relayed ?? 0) - (before.dropped ?? 0) >= 1000
      );
    });
    const after = await typingStats();
    const forwarded = (after.relayed ?? 0) - (before.relayed ?? 0);
    // the flood lasted less than a few intervals: a handful at most got through
    expect(forwarded).toBeGreaterThanOrEqual(1);
    expect(forwarded).toBeLessThanOrEqual(5);
    expect((after.dropped ?? 0) - (before.dropped ?? 0)).toBe(1000 - forwarded);
    await bobNc.flush();
    expect(relayed.length).toBe(forwarded);
    expect(await storedCounts()).toEqual(stored);

    // the relay remembers a sender only for an interval: then it forgets it, and relays again
    await until(
      "the relay to forget quiet senders",
      async () => (await typingStats()).tracked === 0,
    );
    carolNc.publish(subject, "");
    await until("the next signal to be relayed", () => relayed.length === forwarded + 1);
    sub.unsubscribe();
  });

  it("lets one sender through in a few conversations at once, not in every channel it names", async () => {
    const before = await typingStats();
    const seen = (s: Record<string, number>) => (s.relayed ?? 0) + (s.dropped ?? 0);
    for (let i = 0; i < 200; i++)
      bobNc.publish(typingSubject({ kind: "post", channel: `spam${i}` }, bob.publicKey), "");
    await bobNc.flush();
    await until(
      "the relay to see all 200",
      async () => seen(await typingStats()) - seen(before) >= 200,
    );
    const forwarded = ((await typingStats()).relayed ?? 0) - (before.relayed ?? 0);
    // 4 per sender between two sweeps: the burst spans one or two, rarely a few more
    expect(forwarded).toBeGreaterThanOrEqual(1);
    expect(forwarded).toBeLessThanOrEqual(12);
  });

  it("refuses any user a relayed signal, or a typing signal under another's key", async () => {
    const forged = [
      typersSubject("General", alice.publicKey),
      userFeedSubject(bob.publicKey, { typing: alice.publicKey }),
      typingSubject({ kind: "post", channel: "General" }, alice.publicKey),
      typingSubject({ kind: "dm", peer: bob.publicKey }, alice.publicKey),
    ];
    for (const subject of forged)
      expect(await probePublish(carolNc, subject), subject).toBe("denied");
    expect(
      await probePublish(
        carolNc,
        typingSubject({ kind: "post", channel: "General" }, carol.publicKey),
      ),
    ).toBe("allowed");
  });
});
