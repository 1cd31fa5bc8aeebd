// Benchmark of presence at conference scale (run: npm run bench:scale; issue 12). On a 3-server
// cluster (@natschat/testing), with the access service in its own process (`natschat access`,
// as in production), for each N in SCALE_USERS (default 1000, 5000, 10000):
//   - N simulated users register through the access service (the real registration path), each
//     on its own connection (spread over the 3 servers) with its issued creds, and send real
//     signed heartbeats every period;
//   - SCALE_FULL of them (default 200) are full clients: they follow the presence feed and load
//     the online set from the directory's pages, as ChatSession does. The other users only
//     heartbeat: N full clients joining at once would cost N² deliveries of the N joins, which
//     is the joining burst, not the steady state measured here (see docs/benchmarks.md);
//   - figures: feed messages per full client per second in steady state (one window of
//     SCALE_WINDOW_S seconds, nobody joining or leaving); server messages and bytes out per
//     second (/varz of the 3 servers, the same window); the time a newcomer takes to hold the
//     full online list; the time a join and a leave take to reach every full client (p50, p99
//     over SCALE_CYCLES join/leave cycles); the access service's CPU per 1,000 users (its
//     process CPU in the window, per second, per 1,000 users).
// Then the old design at SCALE_OLD_USERS (default 1000) users in the same run: every client
// subscribes to chat.KUBECON.online.* and announces itself with its user JWT every period (JWTs
// minted here from the CHAT signing key with the old subscribe permission, since chat users may
// no longer subscribe there), and SCALE_OLD_VERIFIERS (default 50) of them verify each
// announcement and its JWT as the old client did. Same window, same figures.
// The heartbeat period is SCALE_PERIOD_S (default 30 s, the protocol's), for both designs.
// It prints figures and the goals; it is a script, not a test, so it never fails on a figure.
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeUser } from "@nats-io/jwt";
import { credsAuthenticator, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { createUser } from "@nats-io/nkeys";
import { connect } from "@nats-io/transport-node";
import { register } from "@natschat/client";
import {
  checkIssuedUserJwt,
  DIRECTORY_ONLINE_SUBJECT,
  EnvelopeVerifier,
  encodeOnlineQuery,
  encodePresence,
  inboxPrefixFor,
  ONLINE_WILDCARD,
  PRESENCE_FEED,
  PRESENCE_TICK_SUBJECT,
  parseOnlineReply,
  parsePresenceChange,
  presenceSubject,
  type Signer,
  signerFromSeed,
} from "@natschat/protocol";
import { nativeCredsAuthenticator, startTestStack, type TestStack } from "@natschat/testing";
import {
  CHAT_USER_MAX_PAYLOAD,
  chatUserPermissions,
  installNodeEd25519,
  layout,
  nativeKeyPair,
} from "@natschat/trust";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SERIES = (process.env.SCALE_USERS ?? "1000,5000,10000").split(",").map(Number);
const PERIOD_S = Number(process.env.SCALE_PERIOD_S ?? 30);
const FULL = Number(process.env.SCALE_FULL ?? 200);
const WINDOW_S = Number(process.env.SCALE_WINDOW_S ?? 2 * PERIOD_S);
const CYCLES = Number(process.env.SCALE_CYCLES ?? 5);
const OLD_USERS = Number(process.env.SCALE_OLD_USERS ?? 1000);
const OLD_VERIFIERS = Number(process.env.SCALE_OLD_VERIFIERS ?? 50);
const CONNECT_BATCH = 100;

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

/** CPU time (ms) a process has used so far, from /proc (Linux). */
async function cpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** out_msgs and out_bytes summed over the servers' /varz. */
async function serverOut(stack: TestStack): Promise<{ msgs: number; bytes: number }> {
  let msgs = 0;
  let bytes = 0;
  for (const s of stack.topology.servers) {
    const v = (await (await fetch(`${s.monitorUrl}/varz`)).json()) as {
      out_msgs: number;
      out_bytes: number;
    };
    msgs += v.out_msgs;
    bytes += v.out_bytes;
  }
  return { msgs, bytes };
}

/** A simulated user: its own connection, key and creds. */
interface Sim {
  key: string;
  name: string;
  nc: NatsConnection;
  signer: Signer;
  jwt?: string;
}

async function connectSim(
  stack: TestStack,
  i: number,
  u: { publicKey: string; name: string; jwt: string; seed: string },
): Promise<Sim> {
  const nc = await connect({
    servers: stack.urls[i % stack.urls.length] as string,
    authenticator: nativeCredsAuthenticator(u),
    inboxPrefix: inboxPrefixFor(u.publicKey),
    maxReconnectAttempts: 0,
  });
  return { key: u.publicKey, name: u.name, nc, signer: await signerFromSeed(u.seed) };
}

async function inBatches<T, R>(xs: T[], n: number, f: (x: T, i: number) => Promise<R>) {
  const out: R[] = [];
  for (let i = 0; i < xs.length; i += n) {
    out.push(...(await Promise.all(xs.slice(i, i + n).map((x, j) => f(x, i + j)))));
  }
  return out;
}

async function beat(s: Sim, opts: { goodbye?: boolean; withJwt?: boolean } = {}) {
  const token = await encodePresence(s.signer, {
    name: s.name,
    ...(opts.goodbye ? { ttlSeconds: 0 } : {}),
    ...(opts.withJwt && s.jwt ? { userJwt: s.jwt } : {}),
  });
  if (!s.nc.isClosed()) s.nc.publish(presenceSubject(s.key), token);
}

/** Heartbeats: each user once per period, spread evenly over it; returns the stop function. */
function heartbeats(sims: Sim[], withJwt = false): () => void {
  const stepMs = 50;
  const perStep = (sims.length * stepMs) / (PERIOD_S * 1000);
  let i = 0;
  let budget = 0;
  const t = setInterval(() => {
    budget += perStep;
    for (; budget >= 1; budget--) void beat(sims[i++ % sims.length] as Sim, { withJwt });
  }, stepMs);
  return () => clearInterval(t);
}

/** A full client: the feed, the snapshot, and when each key's changes arrived. */
class FullClient {
  readonly online = new Map<string, string>();
  received = 0;
  readonly arrivals = new Map<string, number[]>();
  constructor(readonly sim: Sim) {}

  async start(): Promise<void> {
    this.sim.nc.subscribe(PRESENCE_FEED, { callback: (_e, m) => this.#on(m) });
    await this.sim.nc.flush();
    await this.snapshot();
  }

  #on(m: Msg): void {
    this.received++;
    if (m.subject === PRESENCE_TICK_SUBJECT) return;
    const c = parsePresenceChange(m.subject, (h) => m.headers?.get(h) || undefined, m.data);
    if (c.name === undefined) this.online.delete(c.key);
    else this.online.set(c.key, c.name);
    const at = this.arrivals.get(c.key) ?? [];
    at.push(performance.now());
    this.arrivals.set(c.key, at);
  }

  /** How many the directory lists now (a fresh read of every page). */
  async countNow(): Promise<number> {
    let after = "";
    let count = 0;
    for (;;) {
      const r = await this.sim.nc.request(DIRECTORY_ONLINE_SUBJECT, encodeOnlineQuery({ after }), {
        timeout: 30_000,
      });
      const p = parseOnlineReply(r.string());
      count += p.online.length;
      if (!p.next) return count;
      after = p.next;
    }
  }

  async snapshot(): Promise<number> {
    let after = "";
    let pages = 0;
    for (;;) {
      const r = await this.sim.nc.request(DIRECTORY_ONLINE_SUBJECT, encodeOnlineQuery({ after }), {
        timeout: 30_000,
      });
      const p = parseOnlineReply(r.string());
      pages++;
      for (const [k, n] of p.online) this.online.set(k, n);
      if (!p.next) return pages;
      after = p.next;
    }
  }
}

function spawnAccess(dir: string, url: string): ChildProcess {
  return spawn(
    process.execPath,
    [
      join(ROOT, "bin/natschat.js"),
      "access",
      "--dir",
      dir,
      "--server",
      url,
      "--replicas",
      "3",
      "--presence-period",
      `${PERIOD_S}s`,
      "--rate-global",
      "100000/1",
      "--rate-name",
      "100000/1",
      "--rate-address",
      "0/1",
      "--quota-address",
      "0/1",
      "--log-level",
      "warn",
    ],
    { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] },
  );
}

async function waitFor(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Row {
  design: string;
  n: number;
  perClient: number;
  serverMsgs: number;
  serverMB: number;
  newcomerMs?: number;
  newcomerPages?: number;
  join?: [number, number];
  leave?: [number, number];
  cpuPer1000?: number;
}

async function runNew(stack: TestStack, n: number, servicePid: number | undefined): Promise<Row> {
  const { summary } = stack.trust;
  const chat = summary.accounts.CHAT;
  const opts = {
    chatAccount: chat.publicKey,
    chatSigningKeys: chat.signingKeys,
    timeoutMs: 60_000,
  };
  const boot = await connect({
    servers: stack.urls,
    authenticator: credsAuthenticator(await readFile(stack.creds("bootstrap"))),
    inboxPrefix: inboxPrefixFor("bootstrap"),
  });
  const run = Date.now().toString(36).slice(-4);
  let t = performance.now();
  const regs = await inBatches(
    Array.from({ length: n + 1 }, (_, i) => i),
    200,
    (i) => register(boot, `s${run}-${i}`, opts),
  );
  await boot.close();
  console.log(`  N=${n}: registered ${n + 1} users in ${fmt((performance.now() - t) / 1000)} s`);
  t = performance.now();
  const sims = await inBatches(regs.slice(0, n), CONNECT_BATCH, (u, i) => connectSim(stack, i, u));
  console.log(`  N=${n}: ${n} connections in ${fmt((performance.now() - t) / 1000)} s`);
  const stop = heartbeats(sims);
  // everyone has joined once every key is in a full client's snapshot
  const full = sims.slice(0, Math.min(FULL, n)).map((s) => new FullClient(s));
  const probe = full[0] as FullClient;
  await probe.start();
  t = performance.now();
  while (probe.online.size !== n) {
    await sleep(500);
    if (performance.now() - t > 10 * PERIOD_S * 1000) throw new Error("the set did not fill");
  }
  await Promise.all(full.slice(1).map((c) => c.start()));
  console.log(`  N=${n}: ${full.length} full clients hold ${probe.online.size} online`);
  // steady state: nobody joins or leaves
  const s0 = await serverOut(stack);
  const c0 = await cpuMs(servicePid);
  const r0 = full.reduce((a, c) => a + c.received, 0);
  const w0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const secs = (performance.now() - w0) / 1000;
  const s1 = await serverOut(stack);
  const c1 = await cpuMs(servicePid);
  const r1 = full.reduce((a, c) => a + c.received, 0);
  // a newcomer
  const newcomerUser = regs[n] as (typeof regs)[number];
  const newcomer = new FullClient(await connectSim(stack, n, newcomerUser));
  t = performance.now();
  newcomer.sim.nc.subscribe(PRESENCE_FEED, { callback: () => undefined });
  await newcomer.sim.nc.flush();
  const pages = await newcomer.snapshot();
  const newcomerMs = performance.now() - t;
  if (newcomer.online.size < n) console.log(`  newcomer saw only ${newcomer.online.size}`);
  // joins and leaves: the newcomer joins (first heartbeat) and leaves (goodbye), CYCLES times
  const joins: number[] = [];
  const leaves: number[] = [];
  for (let k = 0; k < CYCLES; k++) {
    for (const [phase, out, goodbye] of [
      ["join", joins, false],
      ["leave", leaves, true],
    ] as const) {
      const before = full.map((c) => c.arrivals.get(newcomer.sim.key)?.length ?? 0);
      const sent = performance.now();
      await beat(newcomer.sim, { goodbye });
      await waitFor(
        () =>
          full.every(
            (c, i) => (c.arrivals.get(newcomer.sim.key)?.length ?? 0) > (before[i] as number),
          ),
        `the ${phase} to reach every full client`,
        30_000,
      );
      for (const [i, c] of full.entries()) {
        out.push((c.arrivals.get(newcomer.sim.key)?.[before[i] as number] as number) - sent);
      }
    }
  }
  stop();
  // everyone says goodbye, as a client does when it quits, so the next N starts from an empty set
  await Promise.all(sims.map((s) => beat(s, { goodbye: true })));
  await Promise.all(sims.map((s) => s.nc.flush().catch(() => undefined)));
  t = performance.now();
  while ((await probe.countNow()) > 0) {
    if (performance.now() - t > 4 * PERIOD_S * 1000) throw new Error("the set did not drain");
    await sleep(1000);
  }
  for (const s of [...sims, newcomer.sim]) await s.nc.close().catch(() => undefined);
  return {
    design: "new",
    n,
    perClient: (r1 - r0) / full.length / secs,
    serverMsgs: (s1.msgs - s0.msgs) / secs,
    serverMB: (s1.bytes - s0.bytes) / secs / 1e6,
    newcomerMs,
    newcomerPages: pages,
    join: [percentile(joins, 50), percentile(joins, 99)],
    leave: [percentile(leaves, 50), percentile(leaves, 99)],
    cpuPer1000: ((c1 - c0) / secs / (n / 1000)) as number,
  };
}

/** The old design: every client hears every announcement (with its JWT) and verifies it. */
async function runOld(stack: TestStack, n: number): Promise<Row> {
  const dir = stack.dir;
  const chatSeed = (await readFile(layout(dir).key("CHAT-signing"), "utf8")).trim();
  const chatAccount = stack.trust.summary.accounts.CHAT;
  const signing = nativeKeyPair(chatSeed);
  const users = await inBatches(
    Array.from({ length: n }, (_, i) => i),
    200,
    async (i) => {
      const kp = createUser();
      const publicKey = kp.getPublicKey();
      const seed = new TextDecoder().decode(kp.getSeed());
      const perms = chatUserPermissions(publicKey);
      // the old design's permission: subscribe to everyone's presence
      perms.sub = { ...perms.sub, allow: [...(perms.sub?.allow ?? []), ONLINE_WILDCARD] };
      const name = `old-${i}`;
      const jwt = await encodeUser(
        name,
        kp,
        chatAccount.publicKey,
        { ...perms, payload: CHAT_USER_MAX_PAYLOAD },
        { signer: signing, exp: Math.floor(Date.now() / 1000) + 3600 },
      );
      return { publicKey, name, jwt, seed };
    },
  );
  const sims = await inBatches(users, CONNECT_BATCH, async (u, i) => ({
    ...(await connectSim(stack, i, u)),
    jwt: u.jwt,
  }));
  let received = 0;
  let verified = 0;
  for (const [i, s] of sims.entries()) {
    const verifier = i < OLD_VERIFIERS ? new EnvelopeVerifier() : undefined;
    s.nc.subscribe(ONLINE_WILDCARD, {
      callback: (_e, m) => {
        received++;
        if (!verifier) return;
        void verifier.verify(m.data, { subject: m.subject }).then(async (r) => {
          if (!r.ok || r.envelope.type !== "chat-online" || !r.envelope.userJwt) return;
          await checkIssuedUserJwt(r.envelope.userJwt, {
            expectedKey: r.envelope.iss,
            chatAccount: chatAccount.publicKey,
            chatSigningKeys: chatAccount.signingKeys,
          });
          verified++;
        });
      },
    });
  }
  await Promise.all(sims.map((s) => s.nc.flush()));
  const stop = heartbeats(sims, true);
  await sleep(PERIOD_S * 1000); // one period to reach the steady state
  const s0 = await serverOut(stack);
  const r0 = received;
  const w0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const secs = (performance.now() - w0) / 1000;
  const s1 = await serverOut(stack);
  const r1 = received;
  stop();
  for (const s of sims) await s.nc.close().catch(() => undefined);
  console.log(
    `  old: ${verified} announcements verified with their JWT by ${OLD_VERIFIERS} clients`,
  );
  return {
    design: "old",
    n,
    perClient: (r1 - r0) / n / secs,
    serverMsgs: (s1.msgs - s0.msgs) / secs,
    serverMB: (s1.bytes - s0.bytes) / secs / 1e6,
  };
}

function print(rows: Row[]): void {
  console.log(
    "\n| design | N | presence msgs per client per s | server msgs/s | server MB/s | newcomer sees all (ms, pages) | join p50/p99 (ms) | leave p50/p99 (ms) | directory CPU ms/s per 1,000 users |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.design} | ${r.n} | ${fmt(r.perClient, 3)} | ${fmt(r.serverMsgs, 0)} | ${fmt(r.serverMB, 2)} | ${
        r.newcomerMs === undefined ? "—" : `${fmt(r.newcomerMs, 0)} (${r.newcomerPages})`
      } | ${r.join ? `${fmt(r.join[0], 0)} / ${fmt(r.join[1], 0)}` : "—"} | ${
        r.leave ? `${fmt(r.leave[0], 0)} / ${fmt(r.leave[1], 0)}` : "—"
      } | ${r.cpuPer1000 === undefined ? "—" : fmt(r.cpuPer1000, 1)} |`,
    );
  }
  const old = rows.find((r) => r.design === "old");
  const newAtOld = rows.find((r) => r.design === "new" && r.n === old?.n);
  if (old && newAtOld) {
    console.log(
      `\nsteady-state presence per client at ${old.n} users: old ÷ new = ${fmt(old.perClient / newAtOld.perClient, 0)}× (goal ≥ 100×)`,
    );
  }
  const largest = rows.filter((r) => r.design === "new").at(-1);
  if (largest) {
    console.log(
      `at N=${largest.n}: newcomer ${fmt(largest.newcomerMs ?? Number.NaN, 0)} ms (goal < 2000 at 10,000); join p99 ${fmt(largest.join?.[1] ?? Number.NaN, 0)} ms, leave p99 ${fmt(largest.leave?.[1] ?? Number.NaN, 0)} ms (goal < 1000)`,
    );
  }
}

async function main(): Promise<void> {
  installNodeEd25519();
  console.log(
    `bench:scale: N = ${SERIES.join(", ")}; period ${PERIOD_S} s; window ${WINDOW_S} s; ${FULL} full clients; old design at ${OLD_USERS}`,
  );
  const stack = await startTestStack({ topology: "cluster" });
  const access = spawnAccess(stack.dir, stack.urls.join(","));
  const rows: Row[] = [];
  try {
    // the service is up once the directory answers
    const probe = await connect({
      servers: stack.urls,
      authenticator: credsAuthenticator(await readFile(stack.creds("admin"))),
      inboxPrefix: inboxPrefixFor("admin"),
    });
    for (let k = 0; ; k++) {
      try {
        const it = await probe.requestMany("$SRV.PING.natschat-access", "", { maxWait: 1000 });
        let any = false;
        for await (const _ of it) any = true;
        if (any) break;
      } catch {
        // not up yet
      }
      if (k > 120) throw new Error("the access service did not start");
      await sleep(500);
    }
    await probe.close();
    for (const n of SERIES) {
      try {
        rows.push(await runNew(stack, n, access.pid));
      } catch (err) {
        console.log(`  N=${n} did not complete: ${err instanceof Error ? err.message : err}`);
        break;
      }
    }
    rows.push(await runOld(stack, OLD_USERS));
    print(rows);
  } finally {
    access.kill("SIGTERM");
    await new Promise((r) => access.once("exit", r));
    await stack.stop();
  }
}

await main();
