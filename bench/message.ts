// Benchmark of the chat message path on one real nats-server (run: npm run bench:message).
//  1. End-to-end latency of one post: sign (encodePost), send as ChatSession does (a core request
//     on the sender-keyed subject with its Nats-Msg-Id, acked by the history writer; the ack is
//     not awaited, as in the app), receive, verify (EnvelopeVerifier, as ChatSession does), one message in flight
//     at a time, against raw NATS pub/sub of the same payload. Blocks of both alternate so that
//     machine noise hits both.
//  2. Fan-out: 1,000 subscribed client connections, each verifying every post with its own
//     verifier; delivered/verified per second and the latency from sign start to verified.
//  3. The event model (issue 13): what a reply, a reaction and an edit cost against a plain post,
//     each from sign start until the history writer's answer (the post's ack, the event's
//     update), in alternating blocks; the time until a second client holds the reaction's
//     update; and what a plain post costs a receiver now (updates per post: none).
// Prints figures and the goals; it is a script, not a test, so it never fails on a figure.
import { cpus, loadavg } from "node:os";
import type { Authenticator, NatsConnection } from "@nats-io/nats-core";
import { headers } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { requestStore, type StoreFn } from "@natschat/client";
import {
  decodeJwtUnverified,
  EnvelopeVerifier,
  ed25519Provider,
  encodeEdit,
  encodePost,
  encodeReaction,
  eventSubject,
  inboxPrefixFor,
  MSG_ID_HEADER,
  messageId,
  parseEventReply,
  parseStoreReply,
  parseUpdate,
  postSubject,
  signerFromSeed,
  updatesSubject,
} from "@natschat/protocol";
import {
  type MintedUser,
  mintChatUser,
  startCli,
  startTestStack,
  stopCli,
} from "@natschat/testing";
import { installNodeEd25519, nativeKeyPair } from "@natschat/trust";

// Node signs and verifies with node:crypto, as every natschat Node entry point does.
installNodeEd25519();

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4000);
const BLOCK = 250;
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const FANOUT_MESSAGES = Number(process.env.BENCH_FANOUT_MESSAGES ?? 40);
const FANOUT_INTERVAL_MS = Number(process.env.BENCH_FANOUT_INTERVAL_MS ?? 250);
const FANOUT_BURST = Number(process.env.BENCH_FANOUT_BURST ?? 20);
const EVENT_ROUNDS = Number(process.env.BENCH_EVENT_ROUNDS ?? 2000);

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
  let arrivedAt = 0;
  let signedAt = 0;
  rx.subscribe(subject, {
    callback: (_err, m) => {
      if (mode === "raw") {
        done?.();
        return;
      }
      arrivedAt = now();
      void verifier.verify(m.data, { subject: m.subject }).then((r) => {
        if (!r.ok) failed++;
        verifyMs.push(now() - arrivedAt);
        done?.();
      });
    },
  });
  await rx.flush();

  const raw: number[] = [];
  const chat: number[] = [];
  // the steps of the chat path, per round: sign, send → arrival (transit), verify
  const signMs: number[] = [];
  const transitMs: number[] = [];
  const verifyMs: number[] = [];
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
      signedAt = now();
      sendAsTheApp(store, subject, token);
    }
    await arrived;
    if (kind === "chat") {
      signMs.push(signedAt - t0);
      transitMs.push(arrivedAt - signedAt);
    }
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
  // the warm-up rounds are not counted in the steps either
  const counted = (a: number[]) => stats(a.slice(-chat.length));
  return {
    raw: stats(raw),
    chat: stats(chat),
    sign: counted(signMs),
    transit: counted(transitMs),
    verify: counted(verifyMs),
    failed,
    bytes: payload.length,
  };
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

type EventKind = "post" | "reply" | "react" | "edit";

/**
 * The event model against the plain post, in the same run: each round signs one message and
 * sends it as the app does (a request on the sender-keyed subject), timed until the writer's
 * answer. A reaction is also timed until the receiver holds its update. Kinds rotate in blocks.
 */
async function eventCosts(url: string, senders: MintedUser[], receiver: MintedUser) {
  const rx = await open(url, receiver);
  const channel = "events";
  const conv = { kind: "post" as const, channel };
  // The writer takes at most 10 events a second from one sender: the rounds rotate over the
  // authors, each with its own root message, so none comes near that limit.
  const authors = await Promise.all(
    senders.map(async (user) => ({
      user,
      nc: await open(url, user),
      signer: await signerFromSeed(user.seed),
      root: "",
      added: false,
    })),
  );
  type Author = (typeof authors)[number];
  let turn = 0;
  const nextAuthor = () => authors[turn++ % authors.length] as Author;
  const ask = async (a: Author, subject: string, token: string) => {
    const h = headers();
    h.set(MSG_ID_HEADER, String(decodeJwtUnverified(token).payload.jti));
    return a.nc.request(subject, token, { timeout: 10_000, headers: h });
  };
  const post = async (a: Author, re?: string) => {
    const token = await encodePost(a.signer, {
      name: a.user.name,
      channel,
      msg: "x".repeat(64),
      ...(re ? { re } : {}),
    });
    const m = await ask(a, postSubject(channel, a.user.publicKey), token);
    const r = parseStoreReply({ data: m.data, header: (k) => m.headers?.get(k) || undefined });
    if (!r.ok) throw new Error(`post refused: ${r.code} ${r.message}`);
    return messageId(a.user.publicKey, String(decodeJwtUnverified(token).payload.jti));
  };
  for (const a of authors) a.root = await post(a);
  let updatesDuringPosts = 0;
  let phase: EventKind = "post";
  let updated: ((id: string) => void) | undefined;
  rx.subscribe(updatesSubject(channel), {
    callback: (_e, m) => {
      if (phase === "post") updatesDuringPosts++;
      const u = parseUpdate(m.data);
      if (u) updated?.(u.id);
    },
  });
  await rx.flush();
  const event = async (a: Author, kind: "react" | "edit") => {
    const p = { name: a.user.name, conv, target: a.root };
    const token =
      kind === "react"
        ? await encodeReaction(a.signer, { ...p, emoji: "👍", op: a.added ? "remove" : "add" })
        : await encodeEdit(a.signer, { ...p, msg: `v${now()}` });
    if (kind === "react") a.added = !a.added;
    const m = await ask(a, eventSubject(conv, a.user.publicKey), token);
    const r = parseEventReply({ data: m.data, header: (k) => m.headers?.get(k) || undefined });
    if (!r.ok) throw new Error(`${kind} refused: ${r.code} ${r.message}`);
  };
  const samples: Record<EventKind, number[]> = { post: [], reply: [], react: [], edit: [] };
  // from sign start until the receiver holds the update (a reply's: its root's reply count)
  const seen: Record<EventKind, number[]> = { post: [], reply: [], react: [], edit: [] };
  const one = async (kind: EventKind) => {
    phase = kind;
    const a = nextAuthor();
    const t0 = now();
    if (kind === "post") {
      await post(a);
      samples.post.push(now() - t0);
      return;
    }
    const held = new Promise<void>((r) => {
      updated = (id) => id === a.root && r();
    });
    if (kind === "reply") await post(a, a.root);
    else await event(a, kind);
    samples[kind].push(now() - t0);
    await held;
    seen[kind].push(now() - t0);
  };
  const kinds: EventKind[] = ["post", "reply", "react", "edit"];
  for (let i = 0; i < 50; i++) for (const k of kinds) await one(k); // warm-up
  for (const k of kinds) {
    samples[k] = [];
    seen[k] = [];
  }
  updatesDuringPosts = 0;
  const block = 50;
  for (let b = 0; b < EVENT_ROUNDS / block; b++) {
    const order = kinds.map((_, i) => kinds[(i + b) % kinds.length] as EventKind);
    for (const k of order) for (let i = 0; i < block / kinds.length; i++) await one(k);
  }
  for (const a of authors) await a.nc.close();
  await rx.close();
  return {
    post: stats(samples.post),
    reply: stats(samples.reply),
    react: stats(samples.react),
    edit: stats(samples.edit),
    seen: { reply: stats(seen.reply), react: stats(seen.react), edit: stats(seen.edit) },
    updatesDuringPosts,
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
// the history writer acks what the app sends (and is one more subscriber of every post); it runs
// in a process of its own, as it does in production, so its work is not on the receiver's loop
const history = await startCli(
  ["history", "--dir", stack.dir, "--server", stack.urls[0] as string, "--log-level", "info"],
  /history service started/,
);
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
    `  ratio to raw               p50 ${r50.toFixed(2)}x  p99 ${r99.toFixed(2)}x` +
      (l.failed ? `  (${l.failed} failed verification!)` : ""),
  );
  // the physical floor: a raw trip plus one Ed25519 sign and one verify, all measured above
  const floor = l.raw.p50 + l.sign.p50 + l.verify.p50;
  console.log("  steps of the chat path (p50, each measured inside the same rounds):");
  console.log(`    sign (encodePost)        ${ms(l.sign.p50)}`);
  console.log(
    `    send → arrival           ${ms(l.transit.p50)}  (raw pub/sub ${ms(l.raw.p50)}: the request's headers and reply subject cost ${ms(l.transit.p50 - l.raw.p50)})`,
  );
  console.log(`    verify (EnvelopeVerifier) ${ms(l.verify.p50)}`);
  console.log(
    `  floor = raw + sign + verify ${ms(floor)}; chat p50 is ${(l.chat.p50 / floor).toFixed(2)}x the floor (goal <= 1.5x)`,
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

  // senders of their own, so the daily quota the sections above spent does not interfere
  const authors = await Promise.all(
    Array.from({ length: 40 }, (_, i) => mintChatUser(stack.dir, `bench-author-${i}`)),
  );
  const e = await eventCosts(url, authors, receiver);
  const ratio = (x: { p50: number; p99: number }) =>
    `p50 ${ms(x.p50)} (${(x.p50 / e.post.p50).toFixed(2)}x)  p99 ${ms(x.p99)} (${(x.p99 / e.post.p99).toFixed(2)}x)`;
  console.log(
    `\nthe event model (issue 13): sign → the writer's answer, ${e.post.n} rounds of each kind, in rotating blocks`,
  );
  console.log(
    `  plain post (stored, acked)  p50 ${ms(e.post.p50)}  p99 ${ms(e.post.p99)}  (the baseline)`,
  );
  console.log(`  reply (target checked, stored, root's count CAS'd)  ${ratio(e.reply)}`);
  console.log(`  reaction (state CAS'd, update published)            ${ratio(e.react)}`);
  console.log(`  edit (state CAS'd, update published)                ${ratio(e.edit)}`);
  console.log("  until a second client holds the update:");
  console.log(`    reply (its root's reply count)                  ${ratio(e.seen.reply)}`);
  console.log(`    reaction                                        ${ratio(e.seen.react)}`);
  console.log(`    edit                                            ${ratio(e.seen.edit)}`);
  console.log(
    `  updates a receiver got during the plain posts: ${e.updatesDuringPosts} (a plain post costs receivers what it did: one message)`,
  );
  console.log(`\nhistory writer acks missing (the app would repeat these): ${unconfirmed}`);
  console.log(`load average at the end ${loadAverage()}`);
} finally {
  await stopCli(history.child);
  await stack.stop();
}
