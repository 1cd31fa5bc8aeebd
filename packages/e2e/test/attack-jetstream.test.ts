// Attacks through the JetStream API (issue 10). Before issue 10 a chat user could create durable
// consumers without limit (300 in 0.7 s, all kept), push consumers with any deliver subject
// (5 creates delivered 14 MiB to every presence subscriber), and list every DM recipient with
// STREAM.INFO subjects_filter. Now chat users hold no $JS.API subject at all: history and the
// directory are services. Checked at the server: the publish is a permission violation and the
// stream has no consumer of theirs.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { type MintedUser, probePublish } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AttackStack,
  aliceDmsBob,
  connectUser,
  startAttackStack,
  subjects,
} from "../src/mod.ts";

let s: AttackStack;
let alice: MintedUser;
let bob: MintedUser;
let mallory: MintedUser;
let m: NatsConnection;

beforeAll(async () => {
  s = await startAttackStack();
  // something to find: alice DMs bob
  ({ alice, bob, mallory } = await aliceDmsBob(s, "secret meeting"));
  m = await connectUser(s.stack, mallory);
}, 60_000);

afterAll(async () => {
  await m?.close();
  await s?.stop();
});

async function consumerCount(stream: string): Promise<number> {
  const jsm = await jetstreamManager(s.leaf);
  return (await jsm.streams.info(stream)).state.consumer_count;
}

/** A raw JetStream API request as a modified client would send it; the reply text, or "denied". */
async function api(subject: string, body: unknown): Promise<string> {
  if ((await probePublish(m, subject)) === "denied") return "denied";
  try {
    return (await m.request(subject, JSON.stringify(body), { timeout: 3000 })).string();
  } catch (err) {
    return `error: ${(err as Error).name}`;
  }
}

describe("attack: consumers created by a chat user", () => {
  it("durable consumers: every create is denied and none is kept", async () => {
    const before = await consumerCount("CHAT_POSTS");
    for (let i = 0; i < 50; i++) {
      const name = `hog${i}`;
      const filter = subjects.post("General", alice.publicKey).replace(/\.U[A-Z2-7]+$/, ".*");
      const r = await api(`$JS.API.CONSUMER.CREATE.CHAT_POSTS.${name}.${filter}`, {
        stream_name: "CHAT_POSTS",
        config: { durable_name: name, filter_subject: filter, ack_policy: "none" },
      });
      expect(r, `create ${name}`).toBe("denied");
    }
    expect(await api("$JS.API.CONSUMER.DURABLE.CREATE.CHAT_POSTS.hog", {})).toBe("denied");
    expect(await consumerCount("CHAT_POSTS")).toBe(before);
  });

  it("push consumers with a chosen deliver subject: denied, nothing delivered", async () => {
    const before = await consumerCount("CHAT_POSTS");
    const filter = subjects.post("General", alice.publicKey).replace(/\.U[A-Z2-7]+$/, ".*");
    const r = await api(`$JS.API.CONSUMER.CREATE.CHAT_POSTS.push1.${filter}`, {
      stream_name: "CHAT_POSTS",
      config: {
        name: "push1",
        filter_subject: filter,
        deliver_subject: subjects.presence(mallory.publicKey),
        ack_policy: "none",
      },
    });
    expect(r).toBe("denied");
    expect(await consumerCount("CHAT_POSTS")).toBe(before);
  });
});

describe("attack: listing DM recipients with STREAM.INFO", () => {
  it("is denied: nothing about another's DMs (recipients, counts) comes back", async () => {
    const r = await api("$JS.API.STREAM.INFO.CHAT_DMS", { subjects_filter: ">" });
    expect(r).not.toContain(bob.publicKey);
    expect(r).toBe("denied");
    // nor by any other JetStream verb a modified client might try
    for (const subject of [
      "$JS.API.INFO",
      "$JS.API.STREAM.LIST",
      "$JS.API.STREAM.NAMES",
      "$JS.API.STREAM.MSG.GET.CHAT_DMS",
      "$JS.API.DIRECT.GET.CHAT_DMS",
      "$JS.API.CONSUMER.LIST.CHAT_DMS",
    ])
      expect(await probePublish(m, subject), subject).toBe("denied");
    // The domain-prefixed form is not reported as a violation by nats-server 2.10 (it is mapped
    // internally), but no answer ever comes: nothing leaks through it either.
    const viaDomain = await api("$JS.hub.API.STREAM.INFO.CHAT_DMS", { subjects_filter: ">" });
    expect(viaDomain).not.toContain(bob.publicKey);
    expect(["denied", "error: TimeoutError"]).toContain(viaDomain);
  });
});
