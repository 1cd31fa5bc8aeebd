// The access service: a NATS micro service ("natschat-access") with the endpoints access,
// provisioned and revoke in one queue group (replicas share the load; $SRV.PING/INFO/STATS list
// every replica), plus presence tracking and the registry view. startAccessService wires the
// connections and parts; stop() drains: no new requests, in-flight ones answered, then the
// connections drain.
import { hostname } from "node:os";
import { headers, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { fromSeed, type KeyPair } from "@nats-io/nkeys";
import { type Service, type ServiceMsg, Svcm } from "@nats-io/services";
import {
  ACCESS_ERROR_HEADER,
  ACCESS_SUBJECT,
  AccessError,
  type AccessErrorCode,
  formatAccessError,
  PROVISIONED_SUBJECT,
  PROVISIONED_UPDATES_SUBJECT,
  REVOKE_SUBJECT,
} from "@natschat/protocol";
import { installNodeEd25519 } from "@natschat/trust";
import { RevocationCatchUp } from "./catch-up.ts";
import { connectService } from "./connect.ts";
import { AccessServiceError } from "./errors.ts";
import { UserIssuer } from "./issuer.ts";
import { createLogger, type Logger } from "./log.ts";
import { PresenceTracker } from "./presence.ts";
import { Provisioner } from "./provision.ts";
import { DEFAULT_RATE_LIMITS, RateLimiter, type RateLimits } from "./rate-limit.ts";
import { Registry, type RegistryRecord } from "./registry.ts";
import { ReplayGuard } from "./replay.ts";
import { parseRevokeRequest, Revoker } from "./revoke.ts";

/** The micro service's name, as $SRV.PING lists it. */
export const SERVICE_NAME = "natschat-access";
/** Its version (semver, required by the micro protocol). */
export const SERVICE_VERSION = "0.1.0";
/** The queue group every replica's endpoints join. */
export const SERVICE_QUEUE = "natschat-access";

/** Creds given as a file path (data dir, mounted Secret) or as text. */
export type CredsSource = { path: string } | { text: string };

/** Everything the service needs; config.ts builds it from flags, env and a data dir. */
export interface AccessServiceOptions {
  servers: string[];
  /** The access role (ADMIN): endpoints, registry bucket, presence. */
  accessCreds: CredsSource;
  /** The push role (SYS): needed for revocation; without it revoke replies an error. */
  pushCreds?: CredsSource;
  /** The CHAT account's public key ('A...'). */
  chatAccount: string;
  /** Seed of a CHAT signing key ('SA...'). */
  chatSigningSeed: string;
  /** Seed of an operator signing key ('SO...'); without it revoke replies an error. */
  operatorSigningSeed?: string;
  /** Where to write the revoked CHAT JWT (DIR/jwt/CHAT.jwt when run from a data dir). */
  chatJwtPath?: string;
  replicaId?: string;
  userExpirySeconds?: number;
  requestMaxAgeSeconds?: number;
  legacyPlaintext?: boolean;
  rateLimits?: RateLimits;
  /** JetStream replicas of the registry bucket (1, or 3 in a cluster). */
  registryReplicas?: number;
  presencePersistMs?: number;
  tlsCaFile?: string;
  log?: Logger;
}

type Endpoint = "access" | "provisioned" | "revoke";

/** Per-endpoint figures reported in $SRV.STATS `data`. */
interface EndpointFigures {
  ok: number;
  errors: Partial<Record<AccessErrorCode, number>>;
  latency: LatencyWindow;
}

/** Latencies of the last 1024 requests, for p50/p99 in the stats. */
class LatencyWindow {
  readonly #ms = new Float64Array(1024);
  #n = 0;
  add(ms: number): void {
    this.#ms[this.#n++ % this.#ms.length] = ms;
  }
  summary(): { p50_ms: number; p99_ms: number; samples: number } {
    const n = Math.min(this.#n, this.#ms.length);
    const sorted = [...this.#ms.subarray(0, n)].sort((a, b) => a - b);
    const at = (q: number) =>
      n === 0 ? 0 : Math.round((sorted[Math.min(n - 1, Math.floor(q * n))] ?? 0) * 100) / 100;
    return { p50_ms: at(0.5), p99_ms: at(0.99), samples: n };
  }
}

const STATUS: Record<AccessErrorCode, number> = {
  NAME_INVALID: 400,
  BAD_REQUEST: 400,
  BAD_PROOF: 401,
  NAME_REVOKED: 403,
  LEGACY_DISABLED: 403,
  NOT_FOUND: 404,
  NAME_TAKEN: 409,
  REPLAY: 409,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

/** A running access service replica. */
export interface AccessService {
  /** The micro service instance id (as in $SRV.INFO). */
  readonly id: string;
  readonly replicaId: string;
  readonly registry: Registry;
  readonly presence: PresenceTracker;
  /** The ADMIN connection. */
  readonly nc: NatsConnection;
  /** The micro service's own stats, with our figures in each endpoint's `data`. */
  stats(): ReturnType<Service["stats"]>;
  /** Drains: stops taking requests, answers in-flight ones, closes the connections. */
  stop(): Promise<void>;
  /** Resolves when the service stopped (by stop() or because its connection closed). */
  readonly stopped: Promise<void>;
}

/**
 * The broadcast on chat.req.provisioned.updates for a revocation: `{name: {key, revoked: true}}`,
 * or `{name: null}` when the name was also released. New names are sent as `{name: key}`.
 */
export function revokeChange(name: string, key: string, released: boolean): string {
  return JSON.stringify({ [name]: released ? null : { key, revoked: true } });
}

/** Runs a start-up step until it works (JetStream may still be electing a leader), 6 tries. */
async function withRetries<T>(what: string, log: Logger, step: () => Promise<T>): Promise<T> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 6; attempt++) {
    try {
      return await step();
    } catch (err) {
      lastErr = err;
      log.warn(`cannot ${what} yet; retrying`, { attempt, err });
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
  throw new AccessServiceError(
    "STARTUP_FAILED",
    `cannot ${what}: ${lastErr instanceof Error ? lastErr.message : String(lastErr)}`,
    { cause: lastErr },
  );
}

/** Starts one replica of the access service. */
export async function startAccessService(opts: AccessServiceOptions): Promise<AccessService> {
  // Requests are verified and user JWTs signed with node:crypto's Ed25519, not WebCrypto's.
  installNodeEd25519();
  const replicaId = opts.replicaId ?? `${hostname()}-${process.pid}`;
  const log = (opts.log ?? createLogger()).child({ service: SERVICE_NAME, replica: replicaId });
  const issuer = new UserIssuer({
    chatAccount: opts.chatAccount,
    chatSigningSeed: opts.chatSigningSeed,
    ...(opts.userExpirySeconds ? { expirySeconds: opts.userExpirySeconds } : {}),
  });
  const closers: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const nc = await connectService({
      servers: opts.servers,
      creds: opts.accessCreds,
      inboxOwner: "access",
      name: `${SERVICE_NAME}-${replicaId}`,
      forever: true,
      log,
      ...(opts.tlsCaFile ? { tlsCaFile: opts.tlsCaFile } : {}),
    });
    closers.push(() => nc.close());
    let sys: NatsConnection | undefined;
    if (opts.pushCreds) {
      const s = await connectService({
        servers: opts.servers,
        creds: opts.pushCreds,
        inboxOwner: "push",
        name: `${SERVICE_NAME}-${replicaId}-sys`,
        forever: true,
        log,
        ...(opts.tlsCaFile ? { tlsCaFile: opts.tlsCaFile } : {}),
      });
      sys = s;
      closers.push(() => s.close());
    }
    const registry = await withRetries("open the registry bucket", log, () =>
      Registry.open(nc, {
        log,
        ...(opts.registryReplicas ? { replicas: opts.registryReplicas } : {}),
      }),
    );
    closers.push(() => registry.stop());
    await registry.ready;
    log.info("registry loaded", { names: registry.size, revision: registry.revision });
    return await serve(opts, { nc, sys, registry, issuer, log, replicaId, closers });
  } catch (err) {
    await cleanup();
    throw err;
  }
}

interface Parts {
  nc: NatsConnection;
  sys: NatsConnection | undefined;
  registry: Registry;
  issuer: UserIssuer;
  log: Logger;
  replicaId: string;
  closers: (() => Promise<void>)[];
}

async function serve(opts: AccessServiceOptions, p: Parts): Promise<AccessService> {
  const { nc, sys, registry, issuer, log, replicaId } = p;
  const limiter = new RateLimiter(opts.rateLimits ?? DEFAULT_RATE_LIMITS);
  const provisioner = new Provisioner({
    registry,
    issuer,
    limiter,
    replay: new ReplayGuard(),
    log,
    legacyPlaintext: opts.legacyPlaintext ?? false,
    ...(opts.requestMaxAgeSeconds ? { requestMaxAgeSeconds: opts.requestMaxAgeSeconds } : {}),
  });
  let operatorSigner: KeyPair | undefined;
  if (opts.operatorSigningSeed) {
    operatorSigner = fromSeed(new TextEncoder().encode(opts.operatorSigningSeed));
  }
  const revoker =
    sys && operatorSigner
      ? new Revoker({
          registry,
          sys,
          chatAccount: opts.chatAccount,
          operatorSigner,
          log,
          ...(opts.chatJwtPath ? { chatJwtPath: opts.chatJwtPath } : {}),
        })
      : undefined;
  // pushes the revocations to servers that were out of reach when they were issued
  const catchUp = revoker ? new RevocationCatchUp(revoker) : undefined;
  const presence = new PresenceTracker(registry, log, {
    ...(opts.presencePersistMs !== undefined ? { persistEveryMs: opts.presencePersistMs } : {}),
  });

  const figures: Record<Endpoint, EndpointFigures> = {
    access: { ok: 0, errors: {}, latency: new LatencyWindow() },
    provisioned: { ok: 0, errors: {}, latency: new LatencyWindow() },
    revoke: { ok: 0, errors: {}, latency: new LatencyWindow() },
  };
  const inflight = new Set<Promise<void>>();
  let draining = false;

  const respond = (msg: ServiceMsg, endpoint: Endpoint, reply: Reply, started: number) => {
    const f = figures[endpoint];
    f.latency.add(performance.now() - started);
    if (!msg.reply) return; // a publish without a reply subject: nothing to answer
    if (reply.ok) {
      f.ok++;
      msg.respond(reply.body);
      return;
    }
    f.errors[reply.code] = (f.errors[reply.code] ?? 0) + 1;
    const { body, code } = formatAccessError(reply.code, reply.message);
    const h = headers();
    h.set(ACCESS_ERROR_HEADER, code);
    msg.respondError(STATUS[code] ?? 500, reply.message.slice(0, 200), body, { headers: h });
  };

  const handler =
    (endpoint: Endpoint, work: (msg: Msg) => Promise<Reply>) =>
    (err: Error | null, msg: ServiceMsg) => {
      if (err) {
        log.error("endpoint subscription failed", { endpoint, err });
        return;
      }
      const started = performance.now();
      const task = (async () => {
        let reply: Reply;
        try {
          reply = draining
            ? { ok: false, code: "UNAVAILABLE", message: "the access service is restarting; retry" }
            : await work(msg);
        } catch (e) {
          if (e instanceof AccessError) reply = { ok: false, code: e.code, message: e.message };
          else {
            log.error("request failed", { endpoint, err: e });
            reply = {
              ok: false,
              code: "INTERNAL",
              message: "internal error in the access service; try again",
            };
          }
        }
        respond(msg, endpoint, reply, started);
      })();
      inflight.add(task);
      void task.finally(() => inflight.delete(task));
    };

  const access = async (msg: Msg): Promise<Reply> => {
    const r = await provisioner.handle(msg.data);
    if (r.ok) {
      log.info(r.kind === "new" ? "registered" : "renewed", { name: r.name, key: r.key });
      // Only the replica that wrote a change announces it, so each change is broadcast once.
      if (r.kind === "new")
        nc.publish(PROVISIONED_UPDATES_SUBJECT, JSON.stringify({ [r.name]: r.key }));
      return { ok: true, body: r.body };
    }
    log.debug("access refused", { code: r.code, msg: r.message });
    return r;
  };

  const provisioned = async (msg: Msg): Promise<Reply> => {
    const text = msg.string().trim();
    if (text === "") return { ok: true, body: registry.activeJson() };
    return { ok: true, body: JSON.stringify(detail(text)) };
  };

  const detail = (text: string) => {
    let q: { detail?: unknown; after?: unknown; limit?: unknown };
    try {
      q = JSON.parse(text) as typeof q;
    } catch {
      throw new AccessError(
        "BAD_REQUEST",
        'send an empty request, or {"detail":true,"after":"NAME","limit":N}',
      );
    }
    if (typeof q !== "object" || q === null || q.detail !== true) {
      throw new AccessError(
        "BAD_REQUEST",
        'send an empty request, or {"detail":true,"after":"NAME","limit":N}',
      );
    }
    const limit = typeof q.limit === "number" && q.limit > 0 ? Math.min(q.limit, 2000) : 1000;
    const after = typeof q.after === "string" ? q.after : "";
    const all = registry.records().filter((r) => r.name > after);
    const page = all.slice(0, limit).map((r): RegistryRecord & { online?: boolean } => {
      const seen = presence.lastSeen(r.name);
      return seen === undefined ? r : { ...r, lastSeen: new Date(seen).toISOString() };
    });
    const last = page[page.length - 1];
    return {
      users: page,
      total: registry.size,
      ...(all.length > limit && last ? { next: last.name } : {}),
    };
  };

  const revoke = async (msg: Msg): Promise<Reply> => {
    if (!revoker) {
      throw new AccessError(
        "INTERNAL",
        "this replica cannot revoke: start it with the push creds and the operator signing key",
      );
    }
    const req = parseRevokeRequest(msg.string());
    const outcome = await revoker.revoke(req);
    catchUp?.pushedTo(outcome.replies);
    nc.publish(
      PROVISIONED_UPDATES_SUBJECT,
      revokeChange(outcome.name, outcome.key, outcome.released),
    );
    // The reply is the registry as the talk returned it; wait for our own write to reach the view.
    await registry.caughtUp(outcome.revision, 2000);
    return { ok: true, body: registry.activeJson() };
  };

  const svc = await new Svcm(nc).add({
    name: SERVICE_NAME,
    version: SERVICE_VERSION,
    description: "natschat access: registration with client-held keys, registry, revocation",
    queue: SERVICE_QUEUE,
    metadata: { replica: replicaId, revoke: revoker ? "yes" : "no" },
    statsHandler: async (ep) => {
      const name = (ep as { name?: string }).name as Endpoint | undefined;
      const f = name ? figures[name] : undefined;
      if (!f) return null;
      return {
        ok: f.ok,
        errors: f.errors,
        ...f.latency.summary(),
        ...(name === "access"
          ? {
              registered: registry.size,
              rate_limited: limiter.refused,
              presence: presence.stats(),
            }
          : {}),
      };
    },
  });
  svc.addEndpoint("access", { subject: ACCESS_SUBJECT, handler: handler("access", access) });
  svc.addEndpoint("provisioned", {
    subject: PROVISIONED_SUBJECT,
    handler: handler("provisioned", provisioned),
  });
  svc.addEndpoint("revoke", { subject: REVOKE_SUBJECT, handler: handler("revoke", revoke) });
  presence.start(nc);
  catchUp?.start();
  // started means serving: the server has our subscriptions once it answered a round trip (a
  // request sent right after start would otherwise meet "no responders")
  await nc.flush();
  log.info("access service started", {
    id: svc.info().id,
    servers: opts.servers,
    legacyPlaintext: opts.legacyPlaintext ?? false,
    revoke: revoker !== undefined,
    registered: registry.size,
  });

  let stopping: Promise<void> | undefined;
  let markStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    markStopped = resolve;
  });
  const stop = () => {
    stopping ??= (async () => {
      draining = true;
      log.info("draining", { inflight: inflight.size });
      // Each step is bounded: while the server is gone, drains and unsubscribes cannot finish,
      // and SIGTERM must still stop the process.
      await bounded(svc.stop(), 2000);
      await bounded(Promise.allSettled([...inflight]), 5000);
      await bounded(presence.stop(), 2000);
      if (catchUp) await bounded(catchUp.stop(), 3000);
      await bounded(registry.stop(), 2000);
      for (const conn of [nc, p.sys]) {
        if (!conn) continue;
        // a drain that could not finish in time is cut short (closing a drained one is not safe)
        if (!(await bounded(conn.drain(), 3000))) await conn.close();
      }
      log.info("stopped");
      markStopped();
    })();
    return stopping;
  };
  void nc.closed().then(() => {
    if (!stopping) log.error("connection closed; the service stops");
    void stop();
  });
  return {
    id: svc.info().id,
    replicaId,
    registry,
    presence,
    nc,
    stats: () => svc.stats(),
    stop,
    stopped,
  };
}

/**
 * Waits for a shutdown step, at most ms; true when it finished in time. Its failure is ignored:
 * we are stopping anyway.
 */
async function bounded(step: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finished = await Promise.race([
    step.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return finished;
}

type Reply = { ok: true; body: string } | { ok: false; code: AccessErrorCode; message: string };
