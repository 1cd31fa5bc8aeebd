// Issue 12, the client side, against a real nats-server and the access service's OnlineSet
// (through the stand-in directory), with a 300 ms heartbeat period: a user that vanishes without
// a goodbye is offline for everyone within two periods; 2 real sessions and 500 simulated users
// (real connections, real signed heartbeats) give both sessions an online count of 502 (one
// loads them as a newcomer's snapshot, one follows them as changes), and a simulated goodbye
// brings both to 501.
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { ChatSession, type ChatSessionOptions, waitForSnapshot } from "@natschat/client";
import {
  type MintedUser,
  mintChatUser,
  simulateUser,
  startTestDirectory,
  startTestStack,
  type TestDirectory,
  type TestStack,
} from "@natschat/testing";
import { afterAll, beforeAll, describe, it } from "vitest";

const PERIOD_MS = 300;

let stack: TestStack;
let directory: TestDirectory;
const open: ChatSession[] = [];
const conns: NatsConnection[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  directory = await startTestDirectory(stack, { presencePeriodMs: PERIOD_MS });
});

afterAll(async () => {
  for (const s of open) await s.stop().catch(() => undefined);
  for (const c of conns) await c.close().catch(() => undefined);
  await directory?.stop();
  await stack?.stop();
});

function options(): ChatSessionOptions {
  const chat = stack.trust.summary.accounts.CHAT;
  return {
    servers: stack.urls,
    connect,
    chatAccount: chat.publicKey,
    chatSigningKeys: chat.signingKeys,
    presenceIntervalMs: PERIOD_MS,
    presenceTtlSeconds: 1,
  };
}

async function registered(name: string): Promise<MintedUser> {
  const u = await mintChatUser(stack.dir, name);
  directory.register(u);
  return u;
}

async function join(u: MintedUser): Promise<ChatSession> {
  const s = new ChatSession({ jwt: u.jwt, seed: u.seed }, options());
  open.push(s);
  await s.start();
  return s;
}

/** A simulated user: its own connection and key, sending what a client sends. */
async function simulated(u: MintedUser) {
  const sim = await simulateUser(stack.urls, u);
  conns.push(sim.nc);
  return { nc: sim.nc, beat: (ttlSeconds?: number) => sim.beat(ttlSeconds === 0) };
}

const onlineCount = (s: ChatSession) => s.snapshot().users.filter((u) => u.online).length;

describe("presence from the directory's feed", () => {
  it("shows a user that vanished without a goodbye offline within two periods", async () => {
    const carol = await join(await registered("carol"));
    const dave = await registered("dave");
    const d = await simulated(dave);
    await d.beat();
    await waitForSnapshot(
      carol,
      (s) => s.users.find((u) => u.key === dave.publicKey)?.online === true,
      { what: "carol to see dave", timeoutMs: 5000 },
    );
    // dave says nothing more: the directory lets him go after two periods, carol follows
    await waitForSnapshot(
      carol,
      (s) => s.users.find((u) => u.key === dave.publicKey)?.online === false,
      { what: "carol to see dave expire", timeoutMs: 10 * PERIOD_MS },
    );
    await carol.stop();
  });

  it("2 real sessions and 500 simulated users: both count 502; a goodbye makes it 501", async () => {
    const first = await join(await registered("first"));
    const users = await Promise.all(Array.from({ length: 500 }, (_, i) => registered(`sim-${i}`)));
    // connected 50 at a time, so the server's authentication timeout is never near
    const sims: Awaited<ReturnType<typeof simulated>>[] = [];
    for (let i = 0; i < users.length; i += 50) {
      sims.push(...(await Promise.all(users.slice(i, i + 50).map(simulated))));
    }
    const beatAll = () => Promise.all(sims.map((s) => s.beat()));
    await beatAll();
    const keep = setInterval(() => void beatAll().catch(() => undefined), PERIOD_MS);
    try {
      await waitForSnapshot(first, () => onlineCount(first) === 501, {
        what: "the first session to count itself and 500 simulated users",
        timeoutMs: 30_000,
      });
      // a newcomer loads the same from the directory's pages
      const second = await join(await registered("second"));
      for (const s of [first, second]) {
        await waitForSnapshot(s, () => onlineCount(s) === 502, {
          what: "502 online",
          timeoutMs: 30_000,
        });
      }
      // one simulated user says goodbye, and stops
      const leaving = sims.pop();
      await leaving?.beat(0);
      await leaving?.nc.flush();
      for (const s of [first, second]) {
        await waitForSnapshot(s, () => onlineCount(s) === 501, {
          what: "the goodbye to reach both",
          timeoutMs: 10_000,
        });
      }
    } finally {
      clearInterval(keep);
    }
  }, 180_000);
});
