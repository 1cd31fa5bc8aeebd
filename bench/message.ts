// Benchmark of the chat message path on one real nats-server (run: npm run bench:message).
//  1. End-to-end latency of one post: sign (encodePost), send as ChatSession does (a core request
//     on the sender-keyed subject with its Nats-Msg-Id, acked by the history writer; the ack is
//     not awaited, as in the app), receive, verify (EnvelopeVerifier, as ChatSession does), one message in flight
//     at a time, against raw NATS pub/sub of the same payload. Blocks of both alternate so that
//     machine noise hits both.
//  2. Fan-out: 1,000 subscribed client connections, each verifying every post with its own
//     verifier; delivered/verified per second and the latency from sign start to verified.
// Prints figures and the goals; it is a script, not a test, so it never fails on a figure.
import { cpus, loadavg } from "node:os";
import type { Authenticator, NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { requestStore, type StoreFn } from "@natschat/client";
import {
  decodeJwtUnverified,
  EnvelopeVerifier,
  ed25519Provider,
  encodePost,
  inboxPrefixFor,
  postSubject,
  signerFromSeed,
} from "@natschat/protocol";
import { type MintedUser, mintChatUser, startTestHistory, startTestStack } from "@natschat/testing";
import { installNodeEd25519, nativeKeyPair } from "@natschat/trust";

// Node signs and verifies with node:crypto, as every natschat Node entry point does.
installNodeEd25519();

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4000);
const BLOCK = 250;
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const FANOUT_MESSAGES = Number(process.env.BENCH_FANOUT_MESSAGES ?? 40);
const FANOUT_INTERVAL_MS = Number(process.env.BENCH_FANOUT_INTERVAL_MS ?? 250);
const FANOUT_BURST = Number(process.env.BENCH_FANOUT_BURST ?? 20);

const now = () => performance.now();

/** Counts history-stream confirmations that did not come (the app would repeat those). */
let unconfirmed = 0;

/** Sends a signed token as ChatSession does: the same request to the history writer; returns its jti. */
function sendAsTheApp(store: StoreFn, subject: string, token: string): string {
  const jti = String(decodeJwtUnverified(token).payload.jti);
  store({ subject, token, msgId: jti }, false).catch(() => {
    unconfirmed++;
  });
  return jti;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s.at(-1) ?? Number.NaN,
  };
}

const ms = (v: number) => `${v.toFixed(3)} ms`;
const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** Like credsAuthenticator, but signs the server nonce with Node's Ed25519, not tweetnacl. */
function fastAuthenticator(user: MintedUser): Authenticator {
  const key = nativeKeyPair(user.seed);
  return (nonce?: string) => ({
    jwt: user.jwt,
    nkey: user.publicKey,
    sig: Buffer.from(key.sign(new TextEncoder().encode(nonce ?? ""))).toString("base64url"),
  });
}

async function open(url: string, user: MintedUser): Promise<NatsConnection> {
  return connect({
    servers: url,
    authenticator: fastAuthenticator(user),
    inboxPrefix: inboxPrefixFor(user.publicKey),
    name: "natschat-bench",
  });
}

async function latency(url: string, sender: MintedUser, receiver: MintedUser) {
  const tx = await open(url, sender);
  const rx = await open(url, receiver);
  const signer = await signerFromSeed(sender.seed);
  const store = requestStore(() => tx);
  const subject = postSubject("bench", sender.publicKey);
  const verifier = new EnvelopeVerifier();
  const sample = await encodePost(signer, {
    name: sender.name,
    channel: "bench",
    msg: "x".repeat(64),
  });
  const payload = new TextEncoder().encode(sample);

  let done: (() => void) | undefined;
  let failed = 0;
  let mode: "raw" | "chat" = "raw";
  rx.subscribe(subject, {
    callback: (_err, m) => {
      if (mode === "raw") {
        done?.();
        return;
      }
      void verifier.verify(m.data, { subject: m.subject }).then((r) => {
        if (!r.ok) failed++;
        done?.();
      });
    },
  });
  await rx.flush();

  const raw: number[] = [];
  const chat: number[] = [];
  const one = async (kind: "raw" | "chat") => {
    mode = kind;
    const arrived = new Promise<void>((r) => {
      done = r;
    });
    const t0 = now();
    if (kind === "raw") {
      tx.publish(subject, payload);
    } else {
      const token = await encodePost(signer, {
        name: sender.name,
        channel: "bench",
        msg: "x".repeat(64),
      });
      sendAsTheApp(store, subject, token);
    }
    await arrived;
    return now() - t0;
  };
  // warm up both paths (key imports, JIT)
  for (let i = 0; i < 300; i++) {
    await one("raw");
    await one("chat");
  }
  for (let b = 0; b < ROUNDS / BLOCK; b++) {
    for (const kind of b % 2 === 0 ? (["raw", "chat"] as const) : (["chat", "raw"] as const)) {
      for (let i = 0; i < BLOCK / 2; i++) (kind === "raw" ? raw : chat).push(await one(kind));
    }
  }
  await tx.close();
  await rx.close();
  return { raw: stats(raw), chat: stats(chat), failed, bytes: payload.length };
}

/** 1,000 client connections, each with its own verifier, counting per phase. */
async function fanoutClients(url: string, receiver: MintedUser, sender: MintedUser) {
  const subject = postSubject("fanout", sender.publicKey);
  const conns: NatsConnection[] = [];
  const t0 = now();
  for (let i = 0; i < CLIENTS; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, CLIENTS - i) }, () => open(url, receiver)),
    );
    conns.push(...batch);
  }
  const connectMs = now() - t0;
  const phase = {
    sentAt: new Map<string, number>(),
    latencies: [] as number[],
    verified: 0,
    failed: 0,
    lastVerified: 0,
    expected: 0,
    done: () => {},
  };
  for (const nc of conns) {
    const verifier = new EnvelopeVerifier();
    nc.subscribe(subject, {
      callback: (_err, m) => {
        void verifier.verify(m.data, { subject: m.subject }).then((r) => {
          const t = now();
          if (!r.ok) {
            phase.failed++;
          } else {
            phase.verified++;
            phase.latencies.push(t - (phase.sentAt.get(r.envelope.jti) ?? t));
          }
          phase.lastVerified = t;
          if (phase.verified + phase.failed === phase.expected) phase.done();
        });
      },
    });
  }
  await Promise.all(conns.map((nc) => nc.flush()));
  return { conns, connectMs, phase, subject };
}

async function fanout(
  clients: Awaited<ReturnType<typeof fanoutClients>>,
  url: string,
  sender: MintedUser,
  messages: number,
  intervalMs: number,
) {
  const { phase, subject } = clients;
  phase.sentAt.clear();
  phase.latencies = [];
  phase.verified = 0;
  phase.failed = 0;
  phase.expected = clients.conns.length * messages;
  const finished = new Promise<void>((r) => {
    phase.done = r;
  });
  const tx = await open(url, sender);
  const store = requestStore(() => tx);
  const signer = await signerFromSeed(sender.seed);
  const firstSend = now();
  for (let i = 0; i < messages; i++) {
    const start = now();
    const token = await encodePost(signer, {
      name: sender.name,
      channel: "fanout",
      msg: `post ${i}`,
    });
    // bookkeeping right after the publish; no delivery can run before it is done
    phase.sentAt.set(sendAsTheApp(store, subject, token), start);
    const wait = firstSend + (i + 1) * intervalMs - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await tx.flush();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => {
    timer = setTimeout(() => r("timeout"), 120_000);
  });
  const outcome = await Promise.race([finished.then(() => "done" as const), timeout]);
  clearTimeout(timer);
  await tx.close();
  return {
    outcome,
    expected: phase.expected,
    verified: phase.verified,
    failed: phase.failed,
    perSecond: phase.verified / ((phase.lastVerified - firstSend) / 1000),
    latency: stats(phase.latencies),
  };
}

function printFanout(title: string, f: Awaited<ReturnType<typeof fanout>>, goal: string) {
  console.log(title);
  console.log(
    `  delivered and verified     ${f.verified}/${f.expected}${f.failed ? `, ${f.failed} failed` : ""}${f.outcome === "timeout" ? " (TIMED OUT)" : ""}`,
  );
  console.log(`  throughput                 ${Math.round(f.perSecond)} verified messages/s`);
  console.log(
    `  latency sign→verified      p50 ${ms(f.latency.p50)}  p99 ${ms(f.latency.p99)}${goal}  max ${ms(f.latency.max)}`,
  );
}

const stack = await startTestStack();
// the history writer acks what the app sends (and is one more subscriber of every post)
const history = await startTestHistory(stack);
try {
  const url = stack.urls[0] as string;
  const sender = await mintChatUser(stack.dir, "bench-sender");
  const receiver = await mintChatUser(stack.dir, "bench-receiver");
  console.log(
    `natschat bench:message — nats-server on ${url}, Node ${process.versions.node}, Ed25519 via ${ed25519Provider().name}, ${cpus().length} cores, load average ${loadAverage()}`,
  );

  const l = await latency(url, sender, receiver);
  const r50 = l.chat.p50 / l.raw.p50;
  const r99 = l.chat.p99 / l.raw.p99;
  console.log(
    `\nend-to-end latency, one ${l.bytes}-byte post in flight, ${l.raw.n} + ${l.chat.n} rounds`,
  );
  console.log(`  raw NATS pub/sub           p50 ${ms(l.raw.p50)}  p99 ${ms(l.raw.p99)}`);
  console.log(`  sign+publish+recv+verify   p50 ${ms(l.chat.p50)}  p99 ${ms(l.chat.p99)}`);
  console.log(
    `  ratio                      p50 ${r50.toFixed(2)}x (goal <= 1.5x)  p99 ${r99.toFixed(2)}x (goal <= 2x)` +
      (l.failed ? `  (${l.failed} failed verification!)` : ""),
  );

  const clients = await fanoutClients(url, receiver, sender);
  console.log(
    `\nfan-out to ${CLIENTS} subscribed clients (each its own connection and verifier; connected in ${(clients.connectMs / 1000).toFixed(1)} s)`,
  );
  printFanout(
    `- steady: ${FANOUT_MESSAGES} posts, one every ${FANOUT_INTERVAL_MS} ms`,
    await fanout(clients, url, sender, FANOUT_MESSAGES, FANOUT_INTERVAL_MS),
    " (goal <= 250 ms)",
  );
  printFanout(
    `- burst (capacity): ${FANOUT_BURST} posts at once`,
    await fanout(clients, url, sender, FANOUT_BURST, 0),
    " (no goal: all are signed at once, so the last post waits for every earlier delivery)",
  );
  await Promise.all(clients.conns.map((nc) => nc.close()));
  console.log(`\nhistory writer acks missing (the app would repeat these): ${unconfirmed}`);
  console.log(`load average at the end ${loadAverage()}`);
} finally {
  await history.stop();
  await stack.stop();
}
