// The access service: a NATS micro service ("natschat-access") with the endpoints access,
// provisioned, revoke and the directory's lookup and online, in one queue group (replicas share
// the load; $SRV.PING/INFO/STATS list every replica), plus presence tracking, the registry view,
// the quota guard and the expiry sweeper. startAccessService wires the connections and parts into
// an AccessServer; stop() drains: no new requests, in-flight ones answered, then the connections
// drain. Endpoints live in modules of their own (access-endpoint, registry-endpoints, directory),
// the figures in stats.ts, the reply path in endpoint.ts.
import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/nats-core";
import { fromSeed } from "@nats-io/nkeys";
import { type Service, type ServiceMsg, Svcm } from "@nats-io/services";
import {
  ACCESS_SUBJECT,
  DIRECTORY_LOOKUP_SUBJECT,
  DIRECTORY_ONLINE_SUBJECT,
  PRESENCE_INTERVAL_SECONDS,
  PROVISIONED_SUBJECT,
  REVOKE_SUBJECT,
  relayedByLeafnode,
  requestInfoOf,
} from "@natschat/protocol";
import { accountStores, assertStoresFit, installNodeEd25519 } from "@natschat/trust";
import { AccessEndpoint } from "./access-endpoint.ts";
import { RevocationCatchUp } from "./catch-up.ts";
import { connectService } from "./connect.ts";
import { DirectoryEndpoints } from "./directory.ts";
import { replyOf, respond, type Work } from "./endpoint.ts";
import { AccessServiceError } from "./errors.ts";
import { DEFAULT_EXPIRY_RULES, type ExpiryRules, ExpirySweeper } from "./expiry.ts";
import { UserIssuer } from "./issuer.ts";
import { bounded, withRetries } from "./lifecycle.ts";
import { createLogger, type Logger } from "./log.ts";
import { OnlineSet } from "./online-set.ts";
import { PresenceTracker } from "./presence.ts";
import { Provisioner } from "./provision.ts";
import { QuotaGuard, type QuotaOptions } from "./quota.ts";
import { DEFAULT_RATE_LIMITS, RateLimiter, type RateLimits } from "./rate-limit.ts";
import { Registry } from "./registry.ts";
import { announce, RegistryEndpoints } from "./registry-endpoints.ts";
import { ReplayGuard } from "./replay.ts";
import { ReplicaCounter } from "./replicas.ts";
import { DEFAULT_RESERVED_NAMES, ReservedNames } from "./reserved.ts";
import { Revoker } from "./revoke.ts";
import { maySubscribe } from "./role-check.ts";
import { type Endpoint, REFUSALS, ServiceFigures } from "./stats.ts";

const startupFailed = (message: string, cause: unknown) =>
  new AccessServiceError("STARTUP_FAILED", message, { cause });

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
  /** The clients' heartbeat period, ms (default 30 s): a key silent for 2 periods leaves. */
  presencePeriodMs?: number;
  /** How often each replica ticks on the presence feed, ms (default presencePeriodMs). */
  presenceTickMs?: number;
  /** Names nobody may register (default DEFAULT_RESERVED_NAMES). */
  reservedNames?: readonly string[];
  /** When unused and expired names are released. */
  expiry?: Partial<ExpiryRules>;
  /** The registry's quota guard. */
  quota?: QuotaOptions;
  /** How often the replicas are counted to split the limits, ms (default 10 s). */
  replicaCountEveryMs?: number;
  tlsCaFile?: string;
  log?: Logger;
}

/** A running access service replica. */
export interface AccessService {
  /** The micro service instance id (as in $SRV.INFO). */
  readonly id: string;
  readonly replicaId: string;
  readonly registry: Registry;
  readonly presence: PresenceTracker;
  /** Who is online (the online bucket, shared by the replicas). */
  readonly online: OnlineSet;
  /** The ADMIN connection. */
  readonly nc: NatsConnection;
  /** The micro service's own stats, with our figures in each endpoint's `data`. */
  stats(): ReturnType<Service["stats"]>;
  /** The counters: refusals by reason, unexpected errors, per endpoint figures. */
  readonly figures: ServiceFigures;
  readonly limiter: RateLimiter;
  readonly quota: QuotaGuard;
  readonly expiry: ExpirySweeper;
  /** Drains: stops taking requests, answers in-flight ones, closes the connections. */
  stop(): Promise<void>;
  /** Resolves when the service stopped (by stop() or because its connection closed). */
  readonly stopped: Promise<void>;
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
    const registry = await withRetries(
      "open the registry bucket",
      log,
      async () => {
        await assertStoresFit(nc, "ADMIN", accountStores("ADMIN", opts.registryReplicas ?? 1));
        return Registry.open(nc, {
          log,
          ...(opts.registryReplicas ? { replicas: opts.registryReplicas } : {}),
        });
      },
      startupFailed,
    );
    closers.push(() => registry.stop());
    await registry.ready;
    log.info("registry loaded", { names: registry.size, revision: registry.revision });
    const added = await registry.backfillClaims();
    if (added) log.info("key claims added for an older registry", { added });
    const online = await withRetries(
      "open the online bucket",
      log,
      () =>
        OnlineSet.open(nc, {
          log,
          periodMs: opts.presencePeriodMs ?? PRESENCE_INTERVAL_SECONDS * 1000,
          ...(opts.presenceTickMs ? { tickMs: opts.presenceTickMs } : {}),
          ...(opts.registryReplicas ? { replicas: opts.registryReplicas } : {}),
        }),
      startupFailed,
    );
    closers.push(() => online.stop());
    await online.ready;
    const server = new AccessServer(opts, {
      nc,
      sys,
      registry,
      online,
      issuer,
      log,
      replicaId,
      closers,
    });
    await server.start();
    return server;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

interface Parts {
  nc: NatsConnection;
  sys: NatsConnection | undefined;
  registry: Registry;
  online: OnlineSet;
  issuer: UserIssuer;
  log: Logger;
  replicaId: string;
  closers: (() => Promise<void>)[];
}

/** One replica: the endpoints, their figures, and the parts that run beside them. */
export class AccessServer implements AccessService {
  readonly replicaId: string;
  readonly registry: Registry;
  readonly presence: PresenceTracker;
  readonly online: OnlineSet;
  readonly nc: NatsConnection;
  readonly figures = new ServiceFigures();
  readonly limiter: RateLimiter;
  readonly quota: QuotaGuard;
  readonly expiry: ExpirySweeper;
  readonly stopped: Promise<void>;
  readonly #opts: AccessServiceOptions;
  readonly #p: Parts;
  readonly #log: Logger;
  readonly #revoker: Revoker | undefined;
  readonly #catchUp: RevocationCatchUp | undefined;
  readonly #replicas: ReplicaCounter;
  readonly #inflight = new Set<Promise<void>>();
  #svc: Service | undefined;
  #access: AccessEndpoint | undefined;
  #draining = false;
  #stopping: Promise<void> | undefined;
  #markStopped: () => void = () => {};

  constructor(opts: AccessServiceOptions, p: Parts) {
    this.#opts = opts;
    this.#p = p;
    this.#log = p.log;
    this.replicaId = p.replicaId;
    this.registry = p.registry;
    this.nc = p.nc;
    this.limiter = new RateLimiter(opts.rateLimits ?? DEFAULT_RATE_LIMITS);
    this.quota = new QuotaGuard(p.registry, p.log, opts.quota);
    this.online = p.online;
    this.presence = new PresenceTracker(p.registry, p.log, {
      ...(opts.presencePersistMs !== undefined ? { persistEveryMs: opts.presencePersistMs } : {}),
      onAccepted: (key, name, goodbye) => p.online.heartbeat(key, name, goodbye),
      periodMs: opts.presencePeriodMs ?? PRESENCE_INTERVAL_SECONDS * 1000,
    });
    this.expiry = new ExpirySweeper(
      p.registry,
      this.presence,
      { ...DEFAULT_EXPIRY_RULES, ...opts.expiry },
      p.log,
      (e) => announce(p.nc, { op: "released", ...e }, p.log),
    );
    const operatorSigner = opts.operatorSigningSeed
      ? fromSeed(new TextEncoder().encode(opts.operatorSigningSeed))
      : undefined;
    this.#revoker =
      p.sys && operatorSigner
        ? new Revoker({
            registry: p.registry,
            sys: p.sys,
            chatAccount: opts.chatAccount,
            operatorSigner,
            log: p.log,
            ...(opts.chatJwtPath ? { chatJwtPath: opts.chatJwtPath } : {}),
          })
        : undefined;
    // pushes the revocations to servers that were out of reach when they were issued
    this.#catchUp = this.#revoker ? new RevocationCatchUp(this.#revoker) : undefined;
    this.#replicas = new ReplicaCounter(p.nc, SERVICE_NAME, p.log, (n) =>
      this.limiter.setReplicas(n),
    );
    this.stopped = new Promise<void>((resolve) => {
      this.#markStopped = resolve;
    });
  }

  get id(): string {
    return this.#svc?.info().id ?? "";
  }

  stats(): ReturnType<Service["stats"]> {
    if (!this.#svc) throw new Error("the access service is not started");
    return this.#svc.stats();
  }

  /** Adds the endpoints and starts the parts. */
  async start(): Promise<void> {
    const { nc, registry, issuer, log } = this.#p;
    const opts = this.#opts;
    const provisioner = new Provisioner({
      registry,
      issuer,
      limiter: this.limiter,
      replay: new ReplayGuard(),
      reserved: new ReservedNames(opts.reservedNames ?? DEFAULT_RESERVED_NAMES),
      quota: this.quota,
      log,
      legacyPlaintext: opts.legacyPlaintext ?? false,
      ...(opts.requestMaxAgeSeconds ? { requestMaxAgeSeconds: opts.requestMaxAgeSeconds } : {}),
    });
    const access = new AccessEndpoint(nc, provisioner, opts.chatAccount, log);
    this.#access = access;
    const admin = new RegistryEndpoints(
      nc,
      registry,
      this.presence,
      this.#revoker,
      this.#catchUp,
      log,
    );
    const directory = new DirectoryEndpoints(registry, this.online);
    const svc = await new Svcm(nc).add({
      name: SERVICE_NAME,
      version: SERVICE_VERSION,
      description:
        "natschat access: registration with client-held keys, registry, revocation, directory",
      queue: SERVICE_QUEUE,
      metadata: { replica: this.replicaId, revoke: this.#revoker ? "yes" : "no" },
      statsHandler: async (ep) => this.#statsData((ep as { name?: string }).name),
    });
    this.#svc = svc;
    const add = (name: Endpoint, subject: string, work: Work) =>
      svc.addEndpoint(name, { subject, handler: this.#handler(name, work) });
    add("access", ACCESS_SUBJECT, access.handle);
    add("provisioned", PROVISIONED_SUBJECT, admin.provisioned);
    add("revoke", REVOKE_SUBJECT, admin.revoke);
    if (await maySubscribe(opts.accessCreds, "chat.svc.directory.>")) {
      add("lookup", DIRECTORY_LOOKUP_SUBJECT, directory.lookup);
      add("online", DIRECTORY_ONLINE_SUBJECT, directory.page);
    } else {
      log.warn(
        "the access role may not subscribe to chat.svc.directory.>: the directory is off. Its creds predate the directory; make them again (delete DIR/creds/access.creds and run `natschat init`)",
      );
    }
    this.presence.start(nc);
    this.online.start(registry);
    this.#catchUp?.start();
    await this.quota.start(nc);
    this.expiry.start();
    this.#replicas.start(opts.replicaCountEveryMs ?? 10_000);
    // started means serving: the server has our subscriptions once it answered a round trip (a
    // request sent right after start would otherwise meet "no responders")
    await nc.flush();
    log.info("access service started", {
      id: svc.info().id,
      servers: opts.servers,
      legacyPlaintext: opts.legacyPlaintext ?? false,
      revoke: this.#revoker !== undefined,
      registered: registry.size,
    });
    void nc.closed().then(() => {
      if (!this.#stopping) log.error("connection closed; the service stops");
      return this.stop();
    });
  }

  /** $SRV.STATS `data` of an endpoint: its figures, and on `access` the service's counters. */
  #statsData(name: string | undefined): Record<string, unknown> | null {
    const endpoint = name as Endpoint | undefined;
    if (!endpoint || !(endpoint in this.figures.endpoints)) return null;
    const data = this.figures.data(endpoint);
    if (endpoint !== "access") return data;
    return {
      ...data,
      registered: this.registry.size,
      registry: this.quota.status(),
      refused: Object.fromEntries(REFUSALS.map((r) => [r, this.figures.refusals[r]])),
      rate_limited: this.limiter.refused,
      unexpected_errors: this.figures.unexpected,
      relayed_by_leafnode: this.figures.relayed,
      without_request_info: this.#access?.withoutRequestInfo ?? 0,
      replicas: this.limiter.replicas,
      released: this.expiry.released,
      presence: { ...this.presence.stats(), ...this.online.stats() },
    };
  }

  /** The micro service handler of an endpoint: every request is answered, never thrown. */
  #handler(endpoint: Endpoint, work: Work) {
    return (err: Error | null, msg: ServiceMsg) => {
      if (err) {
        this.figures.unexpected++;
        this.#log.error("endpoint subscription failed", { endpoint, err });
        return;
      }
      // the hub's copy of a request an edge relayed over its CHAT link: the edge delivers the
      // user's own copy through its ADMIN link (protocol/request-info.ts); this one names the link
      if (relayedCopy(msg)) {
        this.figures.relayed++;
        return;
      }
      const started = performance.now();
      const task = (async () => {
        const reply = this.#draining
          ? ({
              ok: false,
              code: "UNAVAILABLE",
              message: "the access service is restarting; retry",
              reason: "unavailable",
            } as const)
          : await work(msg).catch((e: unknown) => replyOf(e, endpoint, this.#log, this.figures));
        respond(msg, endpoint, reply, started, this.#log, this.figures);
      })().catch((e: unknown) => {
        // respond never throws; should anything else, it is counted here, never left unhandled
        this.figures.unexpected++;
        this.#log.error("request handling failed", { endpoint, err: e });
      });
      this.#inflight.add(task);
      void task.finally(() => this.#inflight.delete(task));
    };
  }

  /** Drains: stops taking requests, answers in-flight ones, closes the connections. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const log = this.#log;
      this.#draining = true;
      log.info("draining", { inflight: this.#inflight.size });
      // Each step is bounded: while the server is gone, drains and unsubscribes cannot finish,
      // and SIGTERM must still stop the process.
      if (this.#svc) await bounded(this.#svc.stop(), 2000);
      await bounded(Promise.allSettled([...this.#inflight]), 5000);
      await bounded(this.presence.stop(), 2000);
      await bounded(this.online.stop(), 2000);
      await bounded(this.expiry.stop(), 2000);
      await bounded(this.quota.stop(), 1000);
      await bounded(this.#replicas.stop(), 1000);
      if (this.#catchUp) await bounded(this.#catchUp.stop(), 3000);
      await bounded(this.registry.stop(), 2000);
      for (const conn of [this.nc, this.#p.sys]) {
        if (!conn) continue;
        // a drain that could not finish in time is cut short (closing a drained one is not safe)
        if (!(await bounded(conn.drain(), 3000))) await conn.close().catch(() => undefined);
      }
      log.info("stopped");
      this.#markStopped();
    })();
    return this.#stopping;
  }
}

/** The hub's copy of a request an edge relayed (a forged header is left to the endpoint). */
function relayedCopy(msg: ServiceMsg): boolean {
  try {
    return relayedByLeafnode(requestInfoOf(msg.headers));
  } catch {
    return false; // more than one Request-Info: the endpoint refuses it with a clear error
  }
}
