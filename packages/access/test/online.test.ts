// Issue 12: the online set against real servers, with two replicas and a short heartbeat period.
// A chat user follows the presence feed (chat.KUBECON.presence.>, CHAT's import of the online
// bucket's republish) and sees exactly one change per join, goodbye, expiry or revocation, never
// the heartbeats; the two replicas' views agree; a restarted replica starts from the bucket. A
// hostile key that floods heartbeats or flaps goodbye/heartbeat costs each replica and each
// client a bounded amount, whatever rate it publishes at.
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import type { AccessService } from "@natschat/access";
import { register } from "@natschat/client";
import {
  DIRECTORY_ONLINE_SUBJECT,
  encodeOnlineQuery,
  encodePresence,
  PRESENCE_FEED,
  PRESENCE_TICK_SUBJECT,
  parseOnlineReply,
  parsePresenceChange,
  parsePresenceTick,
  presenceSubject,
  REVOKE_SUBJECT,
  type Signer,
  signerFromSeed,
} from "@natschat/protocol";
import { eventually, startTestStack, type TestStack } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatOptions, connectAs, connectUser, startService } from "./helpers.ts";

const PERIOD_MS = 400;

let stack: TestStack;
let admin: NatsConnection;
let bootstrap: NatsConnection;
let watcher: NatsConnection;
const replicas: AccessService[] = [];
const feed: Msg[] = [];
const closers: (() => Promise<unknown>)[] = [];

interface Member {
  key: string;
  name: string;
  nc: NatsConnection;
  signer: Signer;
}

async function member(name: string): Promise<Member> {
  const r = await register(bootstrap, name, chatOptions(stack));
  const nc = await connectUser(stack, r);
  closers.push(() => nc.close());
  return { key: r.publicKey, name: r.name, nc, signer: await signerFromSeed(r.seed) };
}

async function heartbeat(m: Member, opts: { goodbye?: boolean } = {}): Promise<void> {
  const token = await encodePresence(m.signer, {
    name: m.name,
    ...(opts.goodbye ? { ttlSeconds: 0 } : {}),
  });
  m.nc.publish(presenceSubject(m.key), token);
  await m.nc.flush();
}

/** The feed's changes of `key` so far: the name it is online under, or null when it left. */
function changesOf(key: string): (string | null)[] {
  return feed
    .filter((m) => m.subject !== PRESENCE_TICK_SUBJECT)
    .map((m) => parsePresenceChange(m.subject, (h) => m.headers?.get(h) || undefined, m.data))
    .filter((c) => c.key === key)
    .map((c) => c.name ?? null);
}

const views = () => replicas.map((r) => r.online.keys().join(","));

beforeAll(async () => {
  stack = await startTestStack();
  admin = await connectAs(stack, "admin");
  bootstrap = await connectAs(stack, "bootstrap");
  closers.push(
    () => admin.close(),
    () => bootstrap.close(),
  );
  for (const replicaId of ["a", "b"]) {
    replicas.push(await startService(stack, { replicaId, presencePeriodMs: PERIOD_MS }));
  }
  const w = await register(bootstrap, "watcher", chatOptions(stack));
  watcher = await connectUser(stack, w);
  closers.push(() => watcher.close());
  watcher.subscribe(PRESENCE_FEED, {
    callback: (_e, m) => {
      feed.push(m);
    },
  });
  await watcher.flush();
});

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  for (const r of replicas) await r.stop().catch(() => undefined);
  await stack?.stop();
});

describe("the online set and the presence feed", () => {
  it("a join and a goodbye are one change each on the feed, and both replicas agree", async () => {
    const ann = await member("ann");
    await heartbeat(ann);
    await eventually(() => changesOf(ann.key).length === 1, "ann's join on the feed");
    // more heartbeats are no change: nothing more on the feed (two ticks' time)
    await heartbeat(ann);
    await heartbeat(ann);
    const ticks = () => feed.filter((m) => m.subject === PRESENCE_TICK_SUBJECT).length;
    const t0 = ticks();
    await eventually(() => ticks() >= t0 + 4, "two periods of ticks", { timeoutMs: 20_000 });
    expect(changesOf(ann.key)).toEqual(["ann"]);
    await eventually(
      () => new Set(views()).size === 1 && replicas[0]?.online.has(ann.key),
      "agree",
    );
    await heartbeat(ann, { goodbye: true });
    await eventually(() => changesOf(ann.key).length === 2, "ann's leave on the feed");
    expect(changesOf(ann.key)).toEqual(["ann", null]);
    await eventually(() => views().every((v) => !v.includes(ann.key)), "both replicas drop ann");
  });

  it("a key silent for two periods leaves without a goodbye", async () => {
    const bo = await member("bo");
    const sent = Date.now();
    await heartbeat(bo);
    await eventually(() => changesOf(bo.key).length === 1, "bo's join");
    await eventually(() => changesOf(bo.key).length === 2, "bo expires", { timeoutMs: 20_000 });
    expect(changesOf(bo.key)).toEqual(["bo", null]);
    // not before two periods of silence
    expect(Date.now() - sent).toBeGreaterThanOrEqual(2 * PERIOD_MS);
  });

  it("a page of the directory lists who is online with issued names, at a revision", async () => {
    const cy = await member("cy");
    await heartbeat(cy);
    await eventually(() => changesOf(cy.key).length === 1, "cy's join");
    const page = parseOnlineReply(
      (await watcher.request(DIRECTORY_ONLINE_SUBJECT, encodeOnlineQuery({}))).string(),
    );
    expect(page.online).toContainEqual([cy.key, "cy"]);
    expect(page.rev).toBeGreaterThan(0);
    const tick = feed.filter((m) => m.subject === PRESENCE_TICK_SUBJECT).at(-1) as Msg;
    expect(parsePresenceTick(tick.string()).count).toBeGreaterThanOrEqual(0);
  });

  it("a heartbeat flood and goodbye/heartbeat flapping from one key cost a bounded amount", async () => {
    const mal = await member("mal");
    const verified = () =>
      replicas.map((r) => {
        const st = r.presence.stats();
        const drops = Object.entries(st.dropped)
          .filter(([why]) => why !== "throttled")
          .reduce((n, [, v]) => n + v, 0);
        return st.accepted + drops;
      });
    const before = verified();
    // 2,000 heartbeats as fast as one connection publishes them (pre-signed: replays of a few
    // tokens cost a replica a signature check each, as fresh ones do)
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => encodePresence(mal.signer, { name: mal.name })),
    );
    for (let i = 0; i < 2000; i++)
      mal.nc.publish(presenceSubject(mal.key), tokens[i % 20] as string);
    await mal.nc.flush();
    // goodbye/heartbeat flapping: 200 flaps, each freshly signed (a replayed one is dropped)
    for (let i = 0; i < 200; i++) {
      const [bye, hi] = await Promise.all([
        encodePresence(mal.signer, { name: mal.name, ttlSeconds: 0 }),
        encodePresence(mal.signer, { name: mal.name }),
      ]);
      mal.nc.publish(presenceSubject(mal.key), bye);
      mal.nc.publish(presenceSubject(mal.key), hi);
    }
    await mal.nc.flush();
    await eventually(
      () => replicas.every((r) => (r.presence.stats().dropped.throttled ?? 0) > 0),
      "both replicas throttle mal",
      { timeoutMs: 10_000 },
    );
    // each replica verified only a handful of the 2,400 (a burst, then one per quarter period)
    const spent = verified().map((n, i) => n - (before[i] ?? 0));
    for (const n of spent) expect(n).toBeLessThan(100);
    // and every client saw only a handful of changes for mal, not one per flap
    expect(changesOf(mal.key).length).toBeLessThan(20);
  });

  it("a revoked key leaves at once; a restarted replica starts with the set", async () => {
    const dee = await member("dee");
    const eve = await member("eve");
    const keep = setInterval(() => void heartbeat(eve).catch(() => undefined), PERIOD_MS / 2);
    closers.push(async () => clearInterval(keep));
    await heartbeat(dee);
    await eventually(
      () => changesOf(dee.key).length === 1 && changesOf(eve.key).length === 1,
      "joins",
    );
    await admin.request(REVOKE_SUBJECT, "dee", { timeout: 20_000 });
    await eventually(() => changesOf(dee.key).length === 2, "dee leaves on revocation");
    // replica b restarts: its new view has eve from the bucket at once
    const b = replicas.pop() as AccessService;
    await b.stop();
    const b2 = await startService(stack, { replicaId: "b", presencePeriodMs: PERIOD_MS });
    replicas.push(b2);
    expect(b2.online.has(eve.key)).toBe(true);
    await eventually(() => new Set(views()).size === 1, "the replicas agree again");
    clearInterval(keep);
  });
});
