// The history service (natschat-history): one replica = a CHAT connection (role `history`: the
// writer in the queue group natschat-history, the stores, the index followers, the reads by
// sequence, the message events and their states) and an ADMIN connection (role `history-api`:
// the micro service with the read endpoints and the admin's removal, listed by
// $SRV.PING/INFO/STATS). Replicas share the load; each keeps its own index.
// stop() drains: no new messages or requests, in-flight ones answered, connections closed.

import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { type Service, type ServiceMsg, Svcm } from "@nats-io/services";
import {
  type BucketRule,
  CLOCK_SKEW_SECONDS,
  HISTORY_DMS_SUBJECT,
  HISTORY_POSTS_SUBJECT,
  HISTORY_READSTATE_SUBJECT,
  HISTORY_SEARCH_SUBJECT,
  HISTORY_THREAD_SUBJECT,
  MODERATION_SUBJECT,
  serviceErrorHeaders,
} from "@natschat/protocol";
import {
  connectWithCreds,
  DMS_STREAM,
  HISTORY_QUEUE,
  HISTORY_STREAMS,
  installNodeEd25519,
  POSTS_STREAM,
} from "@natschat/trust";
import { HistoryServiceError } from "./errors.ts";
import { EventWriter } from "./events.ts";
import { StreamFollower } from "./index.ts";
import { bounded, createLogger, type Logger, withRetries } from "./log.ts";
import { v2MigrationPending } from "./migrate-v2.ts";
import { startPersonal } from "./personal.ts";
import { DEFAULT_DAILY_QUOTA_BYTES, QuotaLedger } from "./quota.ts";
import { HistoryReaders } from "./readers.ts";
import { ReplyThreads } from "./replies.ts";
import { MessageStates } from "./state.ts";
import { DEDUPE_WINDOW_SECONDS, ensureHistoryStores } from "./streams.ts";
import { MessageTargets } from "./targets.ts";
import { HistoryWriter } from "./writer.ts";

const startupFailed = (message: string, cause: unknown) =>
  new HistoryServiceError("STARTUP_FAILED", message, { cause });

/** The micro service's name, as $SRV.PING lists it. */
export const HISTORY_SERVICE_NAME = "natschat-history";
/** Its version (semver). */
export const HISTORY_SERVICE_VERSION = "0.1.0";

/** Creds given as a file path or as text. */
export type CredsSource = { path: string } | { text: string };

/** Everything a replica needs; resolveHistoryConfig builds it from a data dir. */
export interface HistoryServiceOptions {
  servers: string[];
  /** Role `history` (CHAT). */
  chatCreds: CredsSource;
  /** Role `history-api` (ADMIN). */
  adminCreds: CredsSource;
  /** The CHAT account's public key: only requests from its users are served. */
  chatAccount: string;
  /** JetStream replicas of the stores (1, or 3 in a cluster). */
  replicas?: number;
  /** Per-sender daily byte quota. */
  dailyQuotaBytes?: number;
  /** Replay (= dedupe) window, seconds. */
  staleSeconds?: number;
  /** Bytes of the state bucket above which reactions and edits wait (default 90 % of it). */
  stateHighWaterBytes?: number;
  /** Events of one sender accepted per replica (default 10 a second, 30 at once). */
  eventsPerSender?: BucketRule;
  /** Create/update the stores at start (default true; a second replica may skip it). */
  ensureStores?: boolean;
  replicaId?: string;
  tlsCaFile?: string;
  log?: Logger;
}

/** A running replica. */
export interface HistoryService {
  readonly id: string;
  readonly replicaId: string;
  readonly writer: HistoryWriter;
  /** Message events (edit, react, delete) and admin removals. */
  readonly events: EventWriter;
  readonly readers: HistoryReaders;
  /** The CHAT and ADMIN connections. */
  readonly chat: NatsConnection;
  readonly admin: NatsConnection;
  stats(): ReturnType<Service["stats"]>;
  stop(): Promise<void>;
  readonly stopped: Promise<void>;
}

async function credsBytes(c: CredsSource): Promise<Uint8Array> {
  if ("text" in c) return new TextEncoder().encode(c.text);
  try {
    return await readFile(c.path);
  } catch (err) {
    throw new HistoryServiceError(
      "CONFIG_INVALID",
      `cannot read creds ${c.path} (${(err as NodeJS.ErrnoException).code}); run \`natschat init\` or pass the right file`,
      { cause: err },
    );
  }
}

async function connectAs(
  opts: HistoryServiceOptions,
  creds: CredsSource,
  role: "history" | "history-api",
  name: string,
  log: Logger,
): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connectWithCreds(await credsBytes(creds), "path" in creds ? creds.path : role, {
      servers: opts.servers,
      inboxOwner: role,
      name,
      reconnectForever: true,
      asyncTraces: false, // as the access service: no stack capture per stored message
      ...(opts.tlsCaFile ? { tlsCaFile: opts.tlsCaFile } : {}),
    });
  } catch (err) {
    if (err instanceof HistoryServiceError) throw err;
    throw new HistoryServiceError("CONNECT_FAILED", (err as Error).message, { cause: err });
  }
  const l = log.child({ conn: role });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") l.warn("disconnected", { server: s.server });
      else if (s.type === "reconnect") l.info("reconnected", { server: s.server });
      else if (s.type === "error") l.warn("connection error", { err: s.error });
    }
  })();
  return nc;
}

/** Starts one replica of the history service. */
export async function startHistoryService(opts: HistoryServiceOptions): Promise<HistoryService> {
  installNodeEd25519(); // envelopes are verified with node:crypto's Ed25519
  const replicaId = opts.replicaId ?? `${hostname()}-${process.pid}`;
  const log = (opts.log ?? createLogger()).child({
    service: HISTORY_SERVICE_NAME,
    replica: replicaId,
  });
  const closers: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const chat = await connectAs(
      opts,
      opts.chatCreds,
      "history",
      `${HISTORY_SERVICE_NAME}-${replicaId}`,
      log,
    );
    closers.push(() => chat.close());
    const replicas = opts.replicas ?? 1;
    const staleSeconds = opts.staleSeconds ?? DEDUPE_WINDOW_SECONDS;
    if (opts.ensureStores !== false) {
      await withRetries(
        "create the history streams",
        log,
        // the window counts from the store, the staleness from the signature, which may lie up to
        // the clock skew ahead: a replay accepted as fresh is always inside the window
        () =>
          ensureHistoryStores(chat, {
            replicas,
            dedupeWindowSeconds: staleSeconds + CLOCK_SKEW_SECONDS,
          }),
        startupFailed,
      );
    }
    const pending = await v2MigrationPending(chat).catch((err: unknown) => {
      log.debug("cannot tell whether v2 messages wait to be moved", { err }); // only a warning's
      return false;
    });
    if (pending) {
      // a protocol v2 deployment's streams: its history is not served until it is moved, and
      // what this writer stores now would come before it in every page
      log.warn("the history streams hold protocol v2 messages not moved yet", {
        fix: "stop this service and run `natschat upgrade --dir DIR --server URL` first",
      });
    }
    const js = jetstream(chat, { timeout: 5000 });
    const jsm = await jetstreamManager(chat, { timeout: 5000 });
    const followers = {
      posts: new StreamFollower(js, jsm, POSTS_STREAM, HISTORY_STREAMS.posts.perSubject, log),
      dms: new StreamFollower(js, jsm, DMS_STREAM, HISTORY_STREAMS.dms.perSubject, log),
    };
    for (const f of Object.values(followers)) {
      await withRetries(`follow ${f.stream}`, log, () => f.start(), startupFailed);
      closers.push(() => f.stop());
    }
    await Promise.all([followers.posts.ready, followers.dms.ready]);
    const quota = await withRetries(
      "open the quota bucket",
      log,
      () =>
        QuotaLedger.open(chat, { dailyBytes: opts.dailyQuotaBytes ?? DEFAULT_DAILY_QUOTA_BYTES }),
      startupFailed,
    );
    const states = await withRetries(
      "open the message states",
      log,
      () =>
        MessageStates.open(chat, log, {
          ...(opts.stateHighWaterBytes === undefined
            ? {}
            : { highWaterBytes: opts.stateHighWaterBytes }),
        }),
      startupFailed,
    );
    closers.push(() => states.stop());
    await bounded(states.ready, 10_000);
    const targets = new MessageTargets(followers, jsm.direct);
    const replies = new ReplyThreads(chat, targets, states, log);
    const writer = new HistoryWriter(chat, js, quota, { staleSeconds, replies, log });
    writer.start();
    closers.push(() => writer.stop());
    const events = new EventWriter(chat, targets, states, quota, {
      staleSeconds,
      log,
      ...(opts.eventsPerSender ? { perSender: opts.eventsPerSender } : {}),
    });
    events.start();
    closers.push(() => events.stop());

    const admin = await connectAs(
      opts,
      opts.adminCreds,
      "history-api",
      `${HISTORY_SERVICE_NAME}-${replicaId}-api`,
      log,
    );
    closers.push(() => admin.close());
    const maxPayload = Math.min(
      admin.info?.max_payload ?? 1_048_576,
      chat.info?.max_payload ?? 1_048_576,
    );
    const readers = new HistoryReaders({
      chatAccount: opts.chatAccount,
      direct: jsm.direct,
      posts: {
        stream: POSTS_STREAM,
        index: followers.posts.index,
        caughtUp: () => followers.posts.caughtUp(),
      },
      dms: {
        stream: DMS_STREAM,
        index: followers.dms.index,
        caughtUp: () => followers.dms.caughtUp(),
      },
      states,
      maxReplyBytes: maxPayload - 4096,
      log,
    });
    const personal = await withRetries(
      "start read state, search and the typing relay",
      log,
      () =>
        startPersonal({
          chat,
          jsm,
          followers,
          chatAccount: opts.chatAccount,
          maxReplyBytes: maxPayload - 4096,
          states: (store, seqs) => states.readMany(store, seqs),
          log,
        }),
      startupFailed,
    );
    closers.push(() => personal.stop());
    const inflight = new Set<Promise<void>>();
    let draining = false;
    const svc = await new Svcm(admin).add({
      name: HISTORY_SERVICE_NAME,
      version: HISTORY_SERVICE_VERSION,
      description:
        "natschat history: stores live posts, DMs and message events; serves channel, DM and thread history, read state and search; relays typing",
      queue: HISTORY_QUEUE,
      metadata: { replica: replicaId },
      statsHandler: async (ep) => {
        const name = (ep as { name?: string }).name;
        if (name === "posts" || name === "dms")
          return {
            ...readers.stats[name],
            indexed: followers[name].index.size,
            ...(name === "posts" ? { writer: writer.stats, typing: personal.typing.stats } : {}),
            states: states.size[name],
          };
        if (name === "thread") return readers.stats.thread;
        if (name === "moderate") return events.stats;
        if (name === "readstate") return personal.readStates.stats;
        if (name === "search") return personal.search.stats;
        return null;
      },
    });
    closers.push(async () => {
      await svc.stop().catch(() => undefined);
    });
    const endpoints: [string, string, (msg: ServiceMsg) => Promise<void>][] = [
      ["posts", HISTORY_POSTS_SUBJECT, (msg) => readers.handle("posts", msg)],
      ["dms", HISTORY_DMS_SUBJECT, (msg) => readers.handle("dms", msg)],
      ["thread", HISTORY_THREAD_SUBJECT, (msg) => readers.handle("thread", msg)],
      ["moderate", MODERATION_SUBJECT, (msg) => events.moderate(msg)],
      ["readstate", HISTORY_READSTATE_SUBJECT, (msg) => personal.readStates.handle(msg)],
      ["search", HISTORY_SEARCH_SUBJECT, (msg) => personal.search.handle(msg)],
    ];
    for (const [endpoint, subject, handle] of endpoints) {
      svc.addEndpoint(endpoint, {
        subject,
        handler: (err, msg) => {
          if (err) {
            log.error("endpoint subscription failed", { endpoint, err });
            return;
          }
          if (draining) {
            // answered, so the client retries at once (another replica takes it) instead of
            // waiting out its timeout
            const h = headers();
            const [[, status], [, description], [name, code]] = serviceErrorHeaders(
              "UNAVAILABLE",
              "this history replica is stopping; retry",
            ) as [[string, string], [string, string], [string, string]];
            h.set(name, code);
            msg.respondError(Number(status), description, "", { headers: h });
            return;
          }
          const task = handle(msg);
          inflight.add(task);
          void task.finally(() => inflight.delete(task));
        },
      });
    }
    await Promise.all([admin.flush(), chat.flush()]);
    log.info("history service started", {
      id: svc.info().id,
      replicas,
      indexed: { posts: followers.posts.index.size, dms: followers.dms.index.size },
    });

    let stopping: Promise<void> | undefined;
    let markStopped: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      markStopped = resolve;
    });
    const stop = () => {
      stopping ??= (async () => {
        draining = true;
        // each step is bounded: while the server is gone nothing can drain, and SIGTERM must
        // still stop the process
        await bounded(svc.stop(), 2000);
        await bounded(writer.stop(), 2000);
        await bounded(events.stop(), 2000);
        await bounded(personal.stop(), 2000);
        await bounded(Promise.allSettled([...inflight]), 5000);
        await bounded(Promise.all(Object.values(followers).map((f) => f.stop())), 2000);
        await bounded(states.stop(), 2000);
        for (const conn of [admin, chat]) {
          // a drain that could not finish in time is cut short
          if (!(await bounded(conn.drain(), 3000))) await conn.close();
        }
        log.info("history service stopped");
        markStopped();
      })();
      return stopping;
    };
    void Promise.race([chat.closed(), admin.closed()]).then(() => stop());
    return {
      id: svc.info().id,
      replicaId,
      writer,
      events,
      readers,
      chat,
      admin,
      stats: () => svc.stats(),
      stop,
      stopped,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
