// Runs a planned topology on this machine: renders each config, starts every server, waits for
// all of them to be healthy, and stops them all together.
import { join } from "node:path";
import { ServerLayerError } from "./errors.ts";
import { type RunningServer, startServer, waitHealthy } from "./process.ts";
import {
  type ResolverTrust,
  renderServerConfig,
  type ServerSettings,
  type ServerSpec,
} from "./server-config.ts";
import type { Plan } from "./topology.ts";

/** The running servers of one topology. */
export interface RunningTopology {
  plan: Plan;
  servers: RunningServer[];
  /** Stops every server (in parallel); safe to call twice. */
  stop(): Promise<void>;
}

/** Starts every server of the plan; on any failure, stops the ones already started. */
export async function startTopology(opts: {
  binary: string;
  plan: Plan;
  trust: ResolverTrust;
  /** where configs and logs go (one folder per server). */
  dir: string;
  healthTimeoutMs?: number;
  /** told when a server is restarted to join the JetStream meta group (see waitMetaGroup). */
  log?: (line: string) => void;
  /** changes a server's settings before they are rendered (the e2e link proxies use it). */
  adjust?: (spec: ServerSpec, settings: ServerSettings) => ServerSettings;
}): Promise<RunningTopology> {
  let started: RunningServer[] = [];
  const stop = async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
  const timeoutMs = opts.healthTimeoutMs ?? 60_000;
  const start = async (spec: ServerSpec) => {
    const server = await startServer({
      binary: opts.binary,
      spec,
      config: renderServerConfig(spec, opts.trust, opts.adjust),
      configPath: join(opts.dir, spec.name, "nats.conf"),
      logPath: join(opts.dir, spec.name, "nats.log"),
      healthTimeoutMs: timeoutMs,
      // not the full /healthz yet: a server the meta group is stuck on would never pass it, and
      // waitMetaGroup, which restarts such a server, could not run
      health: "server",
    });
    started.push(server);
    return server;
  };
  const restart = async (old: RunningServer) => {
    await old.stop();
    started = started.filter((s) => s !== old);
    return start(old.spec);
  };
  const results = await Promise.allSettled(opts.plan.servers.map(start));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const byName = new Map(started.map((s) => [s.spec.name, s]));
  const servers = opts.plan.servers.map((spec) => byName.get(spec.name) as RunningServer);
  try {
    await Promise.all(servers.map((s) => waitConnected(s, timeoutMs)));
    await waitMetaGroup(servers, { timeoutMs, restart, ...(opts.log ? { log: opts.log } : {}) });
    // a server restarted to join the meta group dropped the routes and leafnode remotes that
    // reached it (an edge's SYS remote, say): wait until they are back (a no-op otherwise)
    await Promise.all(servers.map((s) => waitConnected(s, timeoutMs)));
    // now every stream and consumer each server holds is recovered and current
    await Promise.all(servers.map((s) => waitHealthy(s.monitorUrl, timeoutMs, s.exited)));
  } catch (err) {
    await stop();
    throw err;
  }
  return { plan: opts.plan, servers, stop };
}

interface Routez {
  routes?: { remote_name?: string }[];
}
interface Gatewayz {
  /** each server dials one server of every other region; inbound ones land where they land. */
  outbound_gateways?: Record<string, unknown>;
}
interface Leafz {
  leafs?: { account?: string }[];
}

async function monitor<T>(server: RunningServer, endpoint: string): Promise<T> {
  const res = await fetch(`${server.monitorUrl}/${endpoint}`, {
    signal: AbortSignal.timeout(2000),
  });
  if (!res.ok) throw new Error(`${endpoint}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** What a server still lacks: routes to its peers, gateways to other regions, leafnode remotes. */
export async function missingConnections(server: RunningServer): Promise<string[]> {
  const { spec } = server;
  const missing: string[] = [];
  if (spec.routes?.length) {
    const r = await monitor<Routez>(server, "routez");
    const peers = new Set((r.routes ?? []).map((x) => x.remote_name));
    const wanted = spec.routes.length - 1; // the list names the server itself too
    if (peers.size < wanted) missing.push(`routes (${peers.size}/${wanted} peers)`);
  }
  const others = (spec.gateways ?? []).map((g) => g.name).filter((n) => n !== spec.region);
  if (others.length) {
    const g = await monitor<Gatewayz>(server, "gatewayz");
    for (const name of others) {
      if (!g.outbound_gateways?.[name]) missing.push(`outbound gateway ${name}`);
    }
  }
  if (spec.leafRemotes?.length) {
    const l = await monitor<Leafz>(server, "leafz");
    const accounts = new Set((l.leafs ?? []).map((x) => x.account));
    for (const r of spec.leafRemotes)
      if (!accounts.has(r.account)) missing.push(`leafnode remote for ${r.account}`);
  }
  return missing;
}

/** Waits until a server has every route, gateway and leafnode connection its spec names. */
export async function waitConnected(server: RunningServer, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing: string[] = ["no answer"];
  while (Date.now() < deadline) {
    try {
      missing = await missingConnections(server);
      if (missing.length === 0) return;
    } catch (err) {
      missing = [(err as Error).message];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ServerLayerError(
    "SERVER_NOT_CONNECTED",
    `${server.spec.name} (${server.spec.region}) still lacks ${missing.join(", ")} after ${timeoutMs} ms; see ${server.logPath}`,
  );
}

/** One server's view of the JetStream meta group (from its /jsz). */
export interface MetaView {
  server: string;
  cluster?: string;
  leader?: string;
  clusterSize?: number;
  /** the other members of the group, as the leader knows them (only filled in on the leader). */
  peers: string[];
  /** those of `peers` the leader sees as current. */
  currentPeers: string[];
}

/** The meta_cluster part of a server's JetStream report (/jsz, or $SYS.REQ.SERVER.PING.JSZ). */
export interface JszMetaCluster {
  name?: string;
  leader?: string;
  cluster_size?: number;
  /** the other members, as the leader sees them (only the leader fills it in). */
  replicas?: {
    name: string;
    current?: boolean;
    offline?: boolean;
    /** nanoseconds since the leader last heard from it. */
    active?: number;
    /** log entries it is behind. */
    lag?: number;
  }[];
}

/** One server's MetaView from the meta_cluster of its JetStream report. */
export function metaViewOf(server: string, m: JszMetaCluster = {}): MetaView {
  const replicas = m.replicas ?? [];
  return {
    server,
    ...(m.name ? { cluster: m.name } : {}),
    ...(m.leader ? { leader: m.leader } : {}),
    ...(m.cluster_size ? { clusterSize: m.cluster_size } : {}),
    peers: replicas.map((r) => r.name),
    currentPeers: replicas.filter((r) => r.current).map((r) => r.name),
  };
}

/** Asks every JetStream server for its view of the meta group. */
export async function metaViews(servers: RunningServer[]): Promise<MetaView[]> {
  return Promise.all(
    servers
      .filter((s) => s.spec.jetstream === "server")
      .map(async (s) =>
        metaViewOf(
          s.spec.name,
          (await monitor<{ meta_cluster?: JszMetaCluster }>(s, "jsz")).meta_cluster,
        ),
      ),
  );
}

/**
 * Why the meta group is not formed yet, or undefined when it is: one leader everyone agrees on,
 * a group the size of the topology, and a leader that has seen every other JetStream server
 * current (in this view, or in `seenCurrent`: under load a peer's "current" flag flickers, so a
 * waiter collects it across polls).
 */
export function metaGroupProblem(
  views: MetaView[],
  seenCurrent: ReadonlySet<string> = new Set(),
): string | undefined {
  if (views.length <= 1) return undefined;
  const leaders = new Set(views.map((v) => v.leader ?? ""));
  if (leaders.size !== 1 || leaders.has(""))
    return `servers disagree on the meta leader: ${views.map((v) => `${v.server}→${v.leader ?? "none"}`).join(", ")}`;
  const leader = views.find((v) => v.server === [...leaders][0]);
  if (!leader) return `the meta leader ${[...leaders][0]} is not one of this topology's servers`;
  const lagging = views
    .filter(
      (v) => v !== leader && !leader.currentPeers.includes(v.server) && !seenCurrent.has(v.server),
    )
    .map((v) => v.server);
  if (lagging.length)
    return `meta leader ${leader.server} does not yet see ${lagging.join(", ")} as current`;
  if (views.some((v) => v.clusterSize !== views.length))
    return `meta group size is ${views.map((v) => v.clusterSize).join("/")}, expected ${views.length}`;
  return undefined;
}

/**
 * The JetStream servers a settled meta group left out: every server agrees on the leader, the
 * group counts fewer members than the topology has, and the leader does not know these at all.
 * nats-server 2.10 sometimes bootstraps a group like that when all servers start at once (seen
 * in about 1 of 12 leaf and 1 of 3 supercluster starts on a loaded 2-core machine, and rarely in
 * a plain cluster), and does not add the member back by itself; R3 streams then fail with "no
 * suitable peers for placement". Restarting the left-out server makes it join at once.
 */
export function leftOutOfMetaGroup(views: MetaView[]): string[] {
  const leaderName = views[0]?.leader;
  if (!leaderName || views.some((v) => v.leader !== leaderName)) return [];
  const leader = views.find((v) => v.server === leaderName);
  if (!leader || (leader.clusterSize ?? 0) >= views.length) return [];
  return views.filter((v) => v !== leader && !leader.peers.includes(v.server)).map((v) => v.server);
}

/**
 * The JetStream servers a meta group is stuck on: with no leader all servers agree on, every
 * server; with one, those its leader does not see as current (a left-out server among them).
 * After a restart of every server, nats-server 2.10 sometimes stays there: each server votes
 * for itself in every election and none is elected, or the leader never sees one peer current,
 * although every route is up (2 of 7 restarts of a cluster with R3 stores on this loaded
 * machine, each stuck for the whole 60 s wait). Restarting one server gets the group going: the
 * same loop then formed 15 of 15 cluster and 8 of 8 leaf restarts, three after such a restart.
 */
export function stuckInMetaGroup(views: MetaView[], seenCurrent: ReadonlySet<string>): string[] {
  if (views.length <= 1) return [];
  const leaderName = views[0]?.leader;
  const leader = views.find((v) => v.server === leaderName);
  if (!leaderName || !leader || views.some((v) => v.leader !== leaderName))
    return views.map((v) => v.server);
  return views
    .filter(
      (v) => v !== leader && !leader.currentPeers.includes(v.server) && !seenCurrent.has(v.server),
    )
    .map((v) => v.server);
}

/** How long a server must stay left out of a settled meta group before it is restarted. */
export const LEFT_OUT_GRACE_MS = 5_000;
/**
 * How long the group may stay stuck on a server before one is restarted: an election round
 * takes 4 to 9 s in nats-server 2.10, so this is two or more rounds without a result.
 */
const STUCK_GRACE_MS = 20_000;
/** Restarts of one server within one wait, for either reason. */
const MAX_RESTARTS = 2;

/**
 * Waits until the JetStream meta group spans every JetStream server of the topology. Given
 * `restart`, a server left out of a settled group (leftOutOfMetaGroup) for LEFT_OUT_GRACE_MS, or
 * the first server the group is stuck on (stuckInMetaGroup) for STUCK_GRACE_MS, is restarted,
 * at most MAX_RESTARTS times per server; the restarted server replaces the old one in `servers`.
 */
export async function waitMetaGroup(
  servers: RunningServer[],
  opts: {
    timeoutMs?: number;
    restart?: (server: RunningServer) => Promise<RunningServer>;
    log?: (line: string) => void;
  } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let problem: string | undefined = "no answer";
  const seenCurrent = new Map<string, Set<string>>(); // leader → peers it has seen current
  const leftOutSince = new Map<string, number>();
  const stuckSince = new Map<string, number>();
  const restarts = new Map<string, number>();
  /** Restarts `name` when the grace since `since` is over and it has restarts left. */
  const restartIf = async (name: string, since: number, graceMs: number, why: string) => {
    const i = servers.findIndex((s) => s.spec.name === name);
    const times = restarts.get(name) ?? 0;
    if (!opts.restart || i < 0 || times >= MAX_RESTARTS || Date.now() - since < graceMs)
      return false;
    opts.log?.(`${name} ${why}; restarting it`);
    restarts.set(name, times + 1);
    servers[i] = await opts.restart(servers[i] as RunningServer);
    return true;
  };
  const track = (since: Map<string, number>, names: Set<string>) => {
    for (const name of since.keys()) if (!names.has(name)) since.delete(name);
    for (const name of names) if (!since.has(name)) since.set(name, Date.now());
  };
  while (Date.now() < deadline) {
    try {
      const views = await metaViews(servers);
      const leader = views.find((v) => v.server === v.leader);
      let seen = new Set<string>();
      if (leader) {
        seen = seenCurrent.get(leader.server) ?? seen;
        for (const p of leader.currentPeers) seen.add(p);
        seenCurrent.set(leader.server, seen);
      }
      problem = metaGroupProblem(views, seen);
      if (problem === undefined) return;
      track(leftOutSince, new Set(leftOutOfMetaGroup(views)));
      track(stuckSince, new Set(stuckInMetaGroup(views, seen)));
      for (const [name, since] of leftOutSince) {
        const why = `was left out of the JetStream meta group (${leader?.server} leads ${leader?.clusterSize} of ${views.length})`;
        if (await restartIf(name, since, LEFT_OUT_GRACE_MS, why)) leftOutSince.delete(name);
      }
      // one at a time: a restart changes what the others see, so the clocks start again
      for (const [name, since] of stuckSince) {
        const why = `kept the JetStream meta group from forming for ${STUCK_GRACE_MS / 1000} s (${problem})`;
        if (await restartIf(name, since, STUCK_GRACE_MS, why)) {
          stuckSince.clear();
          break;
        }
      }
    } catch (err) {
      problem = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ServerLayerError(
    "JETSTREAM_NOT_READY",
    `JetStream meta group not formed after ${timeoutMs} ms: ${problem}`,
  );
}
