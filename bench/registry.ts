// Registry at scale (issue 11): list, watch, revoke and register latencies with an empty registry
// and with REGISTRY_NAMES (100,000) names, on one nats-server, two in-process replicas. The big
// registry is written straight into the bucket (names and their key claims, as registrations
// leave them), so the fill takes seconds instead of the issuer's minutes. Measured per phase:
//   register  one registration, request to reply (sequential, REGISTRY_SAMPLES of them)
//   watch     from the registration's reply to the change broadcast reaching the admin, and to
//             the other replica's registry view holding the name
//   list      one page of REGISTRY_PAGE_MAX users at a random cursor
//   revoke    one revocation (mark, re-sign the CHAT JWT, push to the server, reply)
//   start     a new replica opening the registry (the view loaded)
// Run: npm run bench:registry. Env: REGISTRY_NAMES (100000), REGISTRY_SAMPLES (200).
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  type AccessService,
  DEFAULT_RATE_LIMITS,
  Registry,
  silentLogger,
  startAccessService,
} from "@natschat/access";
import { register } from "@natschat/client";
import {
  encodePublicKey,
  encodeRegistryQuery,
  PROVISIONED_SUBJECT,
  PROVISIONED_UPDATES_SUBJECT,
  parseRegistryChange,
  parseRegistryPage,
  REGISTRY_PAGE_MAX,
  REVOKE_SUBJECT,
} from "@natschat/protocol";
import { startTestStack, type TestStack } from "@natschat/testing";
import {
  connectRole,
  installNodeEd25519,
  layout,
  loadSeed,
  REGISTRY_BUCKET,
} from "@natschat/trust";

const NAMES = Number(process.env.REGISTRY_NAMES ?? 100_000);
const SAMPLES = Number(process.env.REGISTRY_SAMPLES ?? 200);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length
    ? (s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number)
    : NaN;
}
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms`;

async function replica(stack: TestStack, id: string): Promise<AccessService> {
  const t = stack.trust.summary;
  return startAccessService({
    servers: stack.urls,
    accessCreds: { path: stack.creds("access") },
    pushCreds: { path: stack.creds("push") },
    chatAccount: t.accounts.CHAT.publicKey,
    chatSigningSeed: await loadSeed(stack.dir, "CHAT-signing", "A"),
    operatorSigningSeed: await loadSeed(stack.dir, "operator-signing", "O"),
    chatJwtPath: layout(stack.dir).jwt("CHAT"),
    replicaId: id,
    rateLimits: {
      ...DEFAULT_RATE_LIMITS,
      global: { rate: 1e6, perSeconds: 1, burst: 1e6 },
      perAddress: { rate: 0, perSeconds: 1, burst: 0 },
      perAddressNames: { rate: 0, perSeconds: 1, burst: 0 },
      perName: { rate: 1e6, perSeconds: 1, burst: 1e6 },
      perKey: { rate: 1e6, perSeconds: 1, burst: 1e6 },
    },
    quota: { maxNames: NAMES * 2 },
    log: silentLogger,
  });
}

interface Phase {
  label: string;
  register: number[];
  broadcast: number[];
  otherView: number[];
  list: number[];
  revoke: number[];
  start: number;
}

let round = 0;
async function measure(
  label: string,
  stack: TestStack,
  a: AccessService,
  b: AccessService,
  admin: NatsConnection,
  bootstrap: NatsConnection,
): Promise<Phase> {
  const chat = stack.trust.summary.accounts.CHAT;
  const opts = {
    chatAccount: chat.publicKey,
    chatSigningKeys: chat.signingKeys,
    timeoutMs: 20_000,
  };
  const phase: Phase = {
    label,
    register: [],
    broadcast: [],
    otherView: [],
    list: [],
    revoke: [],
    start: 0,
  };
  const seen = new Map<string, number>();
  const sub = admin.subscribe(PROVISIONED_UPDATES_SUBJECT, {
    callback: (_e, m) => {
      const c = parseRegistryChange(m.string());
      if (c.op === "registered") seen.set(c.user.name, performance.now());
    },
  });
  const inB = new Map<string, number>();
  const off = b.registry.onChange((c) => {
    if (c.record) inB.set(c.name, performance.now());
  });
  await admin.flush();
  round++;
  const names: string[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const name = `bench${round}-${i}`;
    const t0 = performance.now();
    await register(bootstrap, name, opts);
    const t1 = performance.now();
    phase.register.push(t1 - t0);
    names.push(name);
    seen.set(`${name}:replied`, t1);
  }
  await admin.flush();
  await new Promise((r) => setTimeout(r, 500));
  for (const n of names) {
    const replied = seen.get(`${n}:replied`) as number;
    const got = seen.get(n);
    if (got !== undefined) phase.broadcast.push(Math.max(0, got - replied));
    const v = inB.get(n);
    if (v !== undefined) phase.otherView.push(Math.max(0, v - replied));
  }
  sub.unsubscribe();
  off();
  const size = a.registry.size;
  const all = a.registry.records();
  for (let i = 0; i < 50; i++) {
    const after = all[Math.floor(Math.random() * Math.max(1, size - REGISTRY_PAGE_MAX))]?.name;
    const t0 = performance.now();
    const m = await admin.request(
      PROVISIONED_SUBJECT,
      encodeRegistryQuery({ after, limit: REGISTRY_PAGE_MAX }),
      { timeout: 20_000 },
    );
    phase.list.push(performance.now() - t0);
    parseRegistryPage(m.string());
  }
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    const m = await admin.request(REVOKE_SUBJECT, names[i] as string, { timeout: 30_000 });
    if (m.headers?.get("Natschat-Error-Code")) throw new Error(`revoke failed: ${m.string()}`);
    phase.revoke.push(performance.now() - t0);
  }
  const t0 = performance.now();
  const reg = await Registry.open(a.nc, { log: silentLogger });
  await reg.ready;
  phase.start = performance.now() - t0;
  await reg.stop();
  return phase;
}

/** Writes `n` names and their key claims straight into the bucket. */
async function fill(nc: NatsConnection, n: number): Promise<number> {
  const kv = await new Kvm(nc).open(REGISTRY_BUCKET);
  const issued = new Date().toISOString();
  const expires = new Date(Date.now() + 30 * 86400_000).toISOString();
  const batch = 1000;
  for (let i = 0; i < n; i += batch) {
    const work: Promise<number>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const raw = new Uint8Array(32);
      new DataView(raw.buffer).setUint32(0, j);
      raw[31] = 9;
      const key = encodePublicKey("U", raw);
      const name = `fill-${j.toString(36).padStart(5, "0")}`;
      work.push(kv.put(name, JSON.stringify({ name, key, issued, expires, lastSeen: issued })));
      work.push(kv.put(`key.${key}`, JSON.stringify({ name })));
    }
    await Promise.all(work);
  }
  return (await kv.status()).streamInfo.state.last_seq;
}

async function main(): Promise<void> {
  installNodeEd25519();
  const stack = await startTestStack();
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const a = await replica(stack, "a");
    const b = await replica(stack, "b");
    closers.push(
      () => b.stop(),
      () => a.stop(),
    );
    const admin = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("admin"),
      inboxOwner: "admin",
    });
    const bootstrap = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("bootstrap"),
      inboxOwner: "bootstrap",
    });
    closers.push(
      () => admin.close(),
      () => bootstrap.close(),
    );
    console.log(`registry bench: ${SAMPLES} registrations per phase, two replicas, one server`);
    const empty = await measure("empty", stack, a, b, admin, bootstrap);
    const t0 = performance.now();
    const last = await fill(a.nc, NAMES);
    await a.registry.caughtUp(last, 120_000);
    await b.registry.caughtUp(last, 120_000);
    const fillSeconds = (performance.now() - t0) / 1000;
    console.log(
      `filled ${NAMES} names (+ key claims) in ${fillSeconds.toFixed(1)} s; views hold ${a.registry.size} and ${b.registry.size}`,
    );
    const big = await measure(`${NAMES} names`, stack, a, b, admin, bootstrap);
    for (const p of [empty, big]) {
      console.log(`\n${p.label} (${p.label === "empty" ? SAMPLES : NAMES + 2 * SAMPLES} names):`);
      console.log(`  register           ${fmt(p.register)}`);
      console.log(`  watch: broadcast   ${fmt(p.broadcast)}`);
      console.log(`  watch: other view  ${fmt(p.otherView)}`);
      console.log(`  list (1000/page)   ${fmt(p.list)}`);
      console.log(`  revoke             ${fmt(p.revoke)}`);
      console.log(`  start (view load)  ${p.start.toFixed(0)} ms`);
    }
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await stack.stop();
  }
}

await main();
