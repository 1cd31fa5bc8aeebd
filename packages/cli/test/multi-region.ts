// Test support for the multi-region chat tests: one stack of a topology, the access service and
// the history service on the hub's JetStream servers, and users registered and chatting on chosen servers (another
// region, or the edge) with the same session model the terminal and web UIs use.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import {
  type AccessService,
  resolveAccessConfig,
  silentLogger,
  startAccessService,
} from "@natschat/access";
import {
  ChatSession,
  type ChatSessionOptions,
  type ChatSnapshot,
  register,
  waitForSnapshot,
} from "@natschat/client";
import type { HistoryService } from "@natschat/history";
import { ACCESS_ERROR_HEADER, REVOKE_SUBJECT } from "@natschat/protocol";
import type { RunningServer, Topology } from "@natschat/server";
import { eventually, startTestHistory, startTestStack, type TestStack } from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import { expect } from "vitest";

/** A running topology with the access service and the history service. */
export interface ChatStack {
  stack: TestStack;
  access: AccessService;
  history: HistoryService;
  sessions: ChatSession[];
  conns: NatsConnection[];
  stop(): Promise<void>;
}

/** Starts the topology and one access-service and one history-service replica on its hub. */
export async function startChatStack(opts: {
  topology: Topology;
  regions?: string[];
  tls?: boolean;
  /** extra `natschat access` flags, e.g. { "user-expiry": "12s" } */
  accessFlags?: Record<string, string>;
}): Promise<ChatStack> {
  const stack = await startTestStack(opts);
  const sessions: ChatSession[] = [];
  const conns: NatsConnection[] = [];
  try {
    const base = await resolveAccessConfig({
      flags: { replicas: String(stack.topology.plan.storage.replicas), ...opts.accessFlags },
      env: {},
      dir: stack.dir,
    });
    const access = await startAccessService({
      ...base,
      servers: jsServers(stack).map((s) => s.url),
      tlsCaFile: stack.caFile,
      replicaId: "test",
      log: silentLogger,
    });
    // protocol v3: the history service owns the stores, takes what users send and serves reads
    const history = await startTestHistory(
      { dir: stack.dir, urls: jsServers(stack).map((s) => s.url), caFile: stack.caFile },
      { replicas: stack.topology.plan.storage.replicas },
    ).catch(async (err: unknown) => {
      await access.stop();
      throw err;
    });
    return {
      stack,
      access,
      history,
      sessions,
      conns,
      async stop() {
        await Promise.all(sessions.splice(0).map((s) => s.stop()));
        await Promise.all(conns.splice(0).map((c) => c.close()));
        await history.stop();
        await access.stop();
        await stack.stop();
      },
    };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/** The hub region's servers: where the access service connects, so its state lives there. */
export function jsServers(stack: TestStack): RunningServer[] {
  const [hub] = stack.topology.plan.regions;
  return stack.topology.servers.filter((s) => s.spec.region === hub);
}

/** The history streams and the registry bucket have the plan's replicas, in the hub region. */
export async function expectPlacement(cs: ChatStack): Promise<void> {
  const { plan } = cs.stack.topology;
  const at = jsServers(cs.stack)[0] as RunningServer;
  for (const [role, streams] of [
    ["leaf", ["CHAT_POSTS", "CHAT_DMS"]],
    ["access", ["KV_natschat-users"]],
  ] as const) {
    const nc = await connectRole({
      servers: at.url,
      credsPath: cs.stack.creds(role),
      inboxOwner: role,
      tlsCaFile: cs.stack.caFile,
    });
    try {
      const jsm = await jetstreamManager(nc);
      for (const name of streams) {
        const info = await jsm.streams.info(name);
        expect(info.config.num_replicas, name).toBe(plan.storage.replicas);
        if (plan.storage.cluster) expect(info.cluster?.name, name).toBe(plan.storage.cluster);
      }
    } finally {
      await nc.close();
    }
  }
}

const tlsOptions = (stack: TestStack) => (stack.caFile ? { tls: { caFile: stack.caFile } } : {});

/** Registers `name` through the public bootstrap creds at `server` (the key stays here). */
export async function registerAt(cs: ChatStack, server: RunningServer, name: string) {
  const { stack } = cs;
  const nc = await connectRole({
    servers: server.url,
    credsPath: stack.creds("bootstrap"),
    inboxOwner: "bootstrap",
    tlsCaFile: stack.caFile,
  });
  try {
    const chat = stack.trust.summary.accounts.CHAT;
    return await register(nc, name, {
      chatAccount: chat.publicKey,
      chatSigningKeys: chat.signingKeys,
      timeoutMs: 10_000,
    });
  } finally {
    await nc.close();
  }
}

/** A chat session connected to one server only (so it stays in that region or at the edge). */
export async function sessionAt(
  cs: ChatStack,
  server: RunningServer,
  creds: { jwt: string; seed: string },
  extra: Pick<ChatSessionOptions, "onRenewed"> = {},
): Promise<ChatSession> {
  const { stack } = cs;
  const chat = stack.trust.summary.accounts.CHAT;
  const s = new ChatSession(creds, {
    servers: [server.url],
    connect,
    chatAccount: chat.publicKey,
    chatSigningKeys: chat.signingKeys,
    connectionOptions: tlsOptions(stack),
    name: `test-${server.spec.name}`,
    ...extra,
  });
  cs.sessions.push(s);
  await s.start();
  return s;
}

const channel = (s: ChatSnapshot, name: string) => s.channels.find((c) => c.id === `#${name}`);
const dm = (s: ChatSnapshot, key: string) => s.dms.find((c) => c.id === `@${key}`);
const user = (s: ChatSnapshot, key: string) => s.users.find((u) => u.key === key);

/**
 * The whole chat between a user on `here` and a user on `there`: registration on each side,
 * presence, a post and a DM each way, history from both sides in fresh sessions, and a
 * revocation requested at `adminAt` that closes the user on `there`. Returns the time from the
 * revoke request to the session's revoked state (ms).
 */
export async function chatAcross(
  cs: ChatStack,
  here: RunningServer,
  there: RunningServer,
  adminAt: RunningServer,
  tag: string,
): Promise<number> {
  const a = await registerAt(cs, here, `${tag}-a`);
  const b = await registerAt(cs, there, `${tag}-b`);
  const sa = await sessionAt(cs, here, a);
  const sb = await sessionAt(cs, there, b);
  const seen = (s: ChatSession, key: string, name: string, what: string) =>
    waitForSnapshot(s, (x) => user(x, key)?.name === name && !!user(x, key)?.online, {
      timeoutMs: 5000,
      what,
    });
  await Promise.all([
    seen(sb, a.publicKey, a.name, `${b.name} (${there.spec.name}) to see ${a.name} online`),
    seen(sa, b.publicKey, b.name, `${a.name} (${here.spec.name}) to see ${b.name} online`),
  ]);

  await sa.send("#General", `hello from ${here.spec.region}`);
  await waitForSnapshot(
    sb,
    (x) =>
      !!channel(x, "General")?.messages.some(
        (m) => m.text === `hello from ${here.spec.region}` && m.name === a.name,
      ),
    { what: `the post from ${here.spec.name} at ${there.spec.name}` },
  );
  await sb.send("#General", `hello from ${there.spec.region}`);
  await waitForSnapshot(
    sa,
    (x) =>
      !!channel(x, "General")?.messages.some((m) => m.text === `hello from ${there.spec.region}`),
    { what: `the post from ${there.spec.name} at ${here.spec.name}` },
  );
  await sb.send(`@${a.publicKey}`, "a DM across");
  await waitForSnapshot(
    sa,
    (x) => !!dm(x, b.publicKey)?.messages.some((m) => m.text === "a DM across"),
    {
      what: `the DM from ${there.spec.name} at ${here.spec.name}`,
    },
  );
  await sa.send(`@${b.publicKey}`, "and back");
  await waitForSnapshot(
    sb,
    (x) => !!dm(x, a.publicKey)?.messages.some((m) => m.text === "and back"),
    {
      what: `the DM from ${here.spec.name} at ${there.spec.name}`,
    },
  );
  expect(sa.snapshot().dropped).toBe(0);
  expect(sb.snapshot().dropped).toBe(0);
  // seen live is not yet stored: the history writer acks each message to its sender
  await eventually(() => sa.unsaved === 0 && sb.unsaved === 0, "the writer to ack all four", {
    timeoutMs: 30_000,
    describe: () =>
      `unsaved ${sa.unsaved} at ${here.spec.name}, ${sb.unsaved} at ${there.spec.name}`,
  });

  // history from both sides: fresh sessions read the channel and their own DMs
  await Promise.all([sa.stop(), sb.stop()]);
  for (const [creds, server, peer, dmText] of [
    [a, here, b, "a DM across"],
    [b, there, a, "and back"],
  ] as const) {
    const s = await sessionAt(cs, server, creds);
    await s.historyLoaded();
    const snap = s.snapshot();
    const texts = channel(snap, "General")?.messages.map((m) => m.text) ?? [];
    expect(texts, `#General history at ${server.spec.name}`).toEqual(
      expect.arrayContaining([`hello from ${here.spec.region}`, `hello from ${there.spec.region}`]),
    );
    expect(
      dm(snap, peer.publicKey)?.messages.map((m) => m.text) ?? [],
      `DM history at ${server.spec.name} (notice: ${snap.notice})`,
    ).toContain(dmText);
    await s.stop();
  }

  // revocation: asked of the access service through a hub server, felt on `there`
  const victim = await sessionAt(cs, there, b);
  const admin = await connectRole({
    servers: adminAt.url,
    credsPath: cs.stack.creds("admin"),
    inboxOwner: "admin",
    tlsCaFile: cs.stack.caFile,
  });
  cs.conns.push(admin);
  const started = performance.now();
  const revoked = waitForSnapshot(victim, () => victim.state === "revoked", {
    timeoutMs: 10_000,
    what: `${b.name} at ${there.spec.name} to be revoked`,
  }).then(() => performance.now());
  const reply = await admin.request(REVOKE_SUBJECT, JSON.stringify({ name: b.name }), {
    timeout: 10_000,
  });
  expect(reply.headers?.get(ACCESS_ERROR_HEADER) ?? "", reply.string()).toBe("");
  // from the admin's request to the session seeing it (the admin's reply comes later: it waits
  // until every server's answer to the push is in)
  const elapsed = (await revoked) - started;
  expect(victim.reason).toMatch(/revoked/i);
  return elapsed;
}
