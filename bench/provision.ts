// Benchmark of registration (run: npm run bench:provision). Against one live nats-server with the
// access service in its own process (`natschat access`, as in production), it measures:
//  1. sequential: 2000 registrations one after the other;
//  2. burst: 5000 registrations with 200 in flight;
//  3. the same harness against a trivial echo responder (also its own process) on the same
//     server, printed as a ratio: how close registration comes to bare request/reply;
//  4. drift at 10,000 registered users: p50 of 500 sequential registrations there ÷ the p50 of
//     the first 500 sequential ones on an empty registry.
// Each registration is the real client path: a new key (WebCrypto), a signed request, the
// service's checks, KV create, the signed JWT, and the client's check of the reply.
// Drift in a phase = p50 of its last tenth ÷ p50 of its first tenth.
// By default it starts its own server (@natschat/testing); `--dir DIR` uses a running
// `natschat up` instead (its in-process service; rate limits then apply as configured).
// It prints figures and the goals; it is a script, not a test, so it never fails on a figure.
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { register } from "@natschat/client";
import { inboxPrefixFor } from "@natschat/protocol";
import { startTestStack, type TestStack } from "@natschat/testing";
import { installNodeEd25519, layout, loadTrust } from "@natschat/trust";

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 2000);
const BURST = Number(process.env.BENCH_BURST ?? 5000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 200);
const TARGET_USERS = Number(process.env.BENCH_TARGET_USERS ?? 10_000);
const DRIFT_SAMPLE = 500;
const CONNECTIONS = 4;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ECHO_SUBJECT = "bench.echo";

const now = () => performance.now();

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

interface Figures {
  n: number;
  failed: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  drift: number;
}

function figures(latencies: number[], failed: number, wallMs: number): Figures {
  const s = [...latencies].sort((a, b) => a - b);
  const tenth = Math.max(1, Math.floor(latencies.length / 10));
  const p50Of = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  return {
    n: latencies.length,
    failed,
    perSecond: (latencies.length / wallMs) * 1000,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    drift: p50Of(latencies.slice(-tenth)) / p50Of(latencies.slice(0, tenth)),
  };
}

/** Runs `op(i)` for i in [0, count) with `inFlight` at a time; latencies in start order. */
async function harness(
  count: number,
  inFlight: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ latencies: number[]; failed: number; errors: Map<string, number>; wallMs: number }> {
  const latencies = new Array<number>(count);
  const errors = new Map<string, number>();
  let failed = 0;
  let next = 0;
  const start = now();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const t = now();
      try {
        await op(i);
      } catch (err) {
        failed++;
        const key = (err as { code?: string }).code ?? (err as Error).message;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
      latencies[i] = now() - t;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return { latencies, failed, errors, wallMs: now() - start };
}

type Run = Awaited<ReturnType<typeof harness>>;
const summarize = (r: Run) => figures(r.latencies, r.failed, r.wallMs);

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "-");

function line(label: string, f: Figures): string {
  return (
    `${label.padEnd(34)} ${fmt(f.perSecond, 0).padStart(6)} req/s  p50 ${fmt(f.p50, 2).padStart(7)} ms` +
    `  p90 ${fmt(f.p90, 2).padStart(7)} ms  p99 ${fmt(f.p99, 2).padStart(7)} ms  drift ${fmt(f.drift, 2)}×` +
    (f.failed ? `  FAILED ${f.failed}` : "")
  );
}

async function connectCreds(
  url: string,
  credsPath: string,
  owner: string,
): Promise<NatsConnection> {
  return connect({
    servers: url,
    authenticator: credsAuthenticator(await readFile(credsPath)),
    inboxPrefix: inboxPrefixFor(owner),
  });
}

/** Child process mode: a trivial echo responder on ECHO_SUBJECT. */
async function echoResponder(url: string, credsPath: string): Promise<void> {
  const nc = await connectCreds(url, credsPath, "leaf");
  nc.subscribe(ECHO_SUBJECT, {
    callback: (_e, m) => {
      m.respond(m.data);
    },
  });
  await nc.flush();
  console.log("echo ready");
  process.once("SIGTERM", () => {
    void nc.drain().then(() => process.exit(0));
  });
}

/** Spawns a child and resolves once its output matches `ready`. */
function spawnReady(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child not ready: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}: ${out}`));
    });
  });
}

/** Waits until a natschat-access replica answers $SRV.PING (or throws after 60 s). */
async function waitForService(url: string, adminCreds: string): Promise<void> {
  const admin = await connectCreds(url, adminCreds, "admin");
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        const replies = await admin.requestMany("$SRV.PING.natschat-access", "", {
          strategy: "stall",
          stall: 200,
          maxWait: 1000,
        });
        for await (const _ of replies) return;
      } catch {
        // no responders yet: the service is still starting; ask again after a round trip
        await admin.flush();
      }
    }
    throw new Error("no natschat-access replica answered $SRV.PING within 60 s");
  } finally {
    await admin.close();
  }
}

/** CPU time (ms) a process has used so far, from /proc (Linux); undefined elsewhere. */
async function cpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, 100 Hz
  } catch {
    return undefined;
  }
}

/** Runs a phase and reports the CPU each process spent per operation. */
async function measured<T extends Run>(
  pids: Record<string, number | undefined>,
  count: number,
  phase: () => Promise<T>,
): Promise<{ run: T; cpu: string }> {
  const before = await Promise.all(Object.values(pids).map(cpuMs));
  const client = process.cpuUsage();
  const run = await phase();
  const after = await Promise.all(Object.values(pids).map(cpuMs));
  const used = process.cpuUsage(client);
  const parts = [`client ${fmt((used.user + used.system) / 1000 / count, 2)}`];
  Object.keys(pids).forEach((name, i) => {
    const a = after[i];
    const b = before[i];
    if (a !== undefined && b !== undefined) parts.push(`${name} ${fmt((a - b) / count, 2)}`);
  });
  return { run, cpu: `  CPU ms per request: ${parts.join(", ")}` };
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function main(): Promise<void> {
  // Node signs and verifies with node:crypto, as every natschat Node entry point does.
  installNodeEd25519();
  const dirFlag = process.argv.indexOf("--dir");
  let stack: TestStack | undefined;
  let dir: string;
  let url: string;
  const children: ChildProcess[] = [];
  if (dirFlag > 0) {
    dir = process.argv[dirFlag + 1] as string;
    const up = JSON.parse(await readFile(layout(dir).upJson, "utf8")) as { client: string };
    url = up.client;
    console.log(`using the running natschat up in ${dir} (${url})`);
  } else {
    stack = await startTestStack();
    dir = stack.dir;
    url = stack.urls[0] as string;
  }
  try {
    if (stack) {
      console.log(
        `started nats-server at ${url}; starting \`natschat access\` in its own process…`,
      );
      const child = spawn(
        process.execPath,
        [
          // e.g. BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the service
          ...(process.env.BENCH_SERVICE_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
          join(ROOT, "bin/natschat.js"),
          "access",
          "--dir",
          dir,
          "--server",
          url,
          "--rate-global",
          "100000/1",
          "--rate-name",
          "1000/1",
          // the bench's clients are all on 127.0.0.1: the per-address limit would cap it at 60/min
          "--rate-address",
          "0/1",
          "--quota-address",
          "0/1",
          "--log-level",
          "warn",
        ],
        { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] },
      );
      children.push(child);
      await waitForService(url, layout(dir).creds("admin"));
    }
    const { summary } = await loadTrust(dir);
    const chat = summary.accounts.CHAT;
    const opts = {
      chatAccount: chat.publicKey,
      chatSigningKeys: chat.signingKeys,
      timeoutMs: 30_000,
    };
    const conns: NatsConnection[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      conns.push(await connectCreds(url, layout(dir).creds("bootstrap"), "bootstrap"));
    }
    const run = Date.now().toString(36).slice(-4);
    const reg = (prefix: string) => (i: number) =>
      register(conns[i % CONNECTIONS] as NatsConnection, `${prefix}${run}-${i}`, opts);

    console.log(`node ${process.version}, ${CONNECTIONS} client connections\n`);
    await harness(200, 20, reg("w")); // warm-up: JIT, key caches, KV
    const pids = {
      service: children[0]?.pid,
      "nats-server": stack?.topology.servers[0]?.pid,
    };
    const seqM = await measured(pids, SEQUENTIAL, () => harness(SEQUENTIAL, 1, reg("s")));
    const seq = seqM.run;
    const seqF = summarize(seq);
    console.log(line(`sequential ${SEQUENTIAL}`, seqF));
    console.log(seqM.cpu);
    const burstM = await measured(pids, BURST, () => harness(BURST, IN_FLIGHT, reg("b")));
    const burst = burstM.run;
    const burstF = summarize(burst);
    console.log(line(`burst ${BURST}, ${IN_FLIGHT} in flight`, burstF));
    console.log(burstM.cpu);
    for (const r of [seq, burst]) for (const [k, v] of r.errors) console.log(`  error ${k}: ${v}`);

    // The same harness against a trivial echo responder in its own process.
    children.push(
      await spawnReady(
        [
          "--import",
          "tsx",
          fileURLToPath(import.meta.url),
          "--echo",
          url,
          layout(dir).creds("leaf"),
        ],
        /echo ready/,
      ),
    );
    const leaf = await connectCreds(url, layout(dir).creds("leaf"), "leaf");
    const payload = new Uint8Array(600); // about the size of a signed access request
    const echo = (i: number) =>
      leaf.request(ECHO_SUBJECT, payload, { timeout: 30_000 }).then(() => i);
    await harness(200, 20, echo);
    const eSeq = summarize(await harness(SEQUENTIAL, 1, echo));
    const eBurst = summarize(await harness(BURST, IN_FLIGHT, echo));
    console.log(line(`echo sequential ${SEQUENTIAL}`, eSeq));
    console.log(line(`echo burst ${BURST}, ${IN_FLIGHT} in flight`, eBurst));
    console.log(
      `registration ÷ echo: sequential ${fmt(seqF.perSecond / eSeq.perSecond, 2)} of the rate (p50 ${fmt(seqF.p50 / eSeq.p50, 1)}×),` +
        ` burst ${fmt(burstF.perSecond / eBurst.perSecond, 2)} of the rate (p50 ${fmt(burstF.p50 / eBurst.p50, 1)}×)`,
    );
    await leaf.close();

    // Fill the registry to TARGET_USERS, then measure sequential latency there.
    const registered = 200 + SEQUENTIAL + BURST - seq.failed - burst.failed;
    const fill = Math.max(0, TARGET_USERS - registered);
    if (fill > 0) {
      const f = await harness(fill, IN_FLIGHT, reg("f"));
      console.log(
        `filled the registry with ${fill - f.failed} more users (${fmt(summarize(f).perSecond, 0)} req/s)`,
      );
    }
    const at10k = await harness(DRIFT_SAMPLE, 1, reg("t"));
    const at10kF = summarize(at10k);
    const startP50 = percentile(
      [...seq.latencies.slice(0, DRIFT_SAMPLE)].sort((a, b) => a - b),
      50,
    );
    console.log(line(`sequential ${DRIFT_SAMPLE} at ${TARGET_USERS} users`, at10kF));
    console.log(
      `drift at ${TARGET_USERS} users: p50 ${fmt(at10kF.p50, 2)} ms ÷ ${fmt(startP50, 2)} ms on an empty registry = ${fmt(at10kF.p50 / startP50, 2)}×`,
    );
    console.log(
      "\ngoals (2-core machine): burst ≥ 900 req/s with p99 ≤ 400 ms; drift ≤ 1.2×" +
        "\nthe talk's Go provisioner measured here: 226 req/s in the burst, p99 1.64 s, drift 2.8×",
    );
    for (const c of conns) await c.close();
  } finally {
    for (const c of children) await stopChild(c);
    await stack?.stop();
  }
}

if (process.argv[2] === "--echo") {
  await echoResponder(process.argv[3] as string, process.argv[4] as string);
} else {
  await main();
}
