// Checks the JetStream meta group of servers this process did not start (a Kubernetes release,
// from a Job after `helm install`), through their monitoring endpoints, with the detection
// `natschat up` uses (metaGroupProblem, leftOutOfMetaGroup). `up` restarts a server left out of
// a settled group; from here the check cannot, so it fails, naming the server and the fix.
import { lookup } from "node:dns/promises";
import { ServerLayerError } from "./errors.ts";
import {
  type JszMetaCluster,
  LEFT_OUT_GRACE_MS,
  leftOutOfMetaGroup,
  type MetaView,
  metaGroupProblem,
  metaViewOf,
  stuckInMetaGroup,
} from "./local.ts";

/** A JetStream server known by its monitoring URL (http://host:8222). */
export interface MonitoredServer {
  name: string;
  monitorUrl: string;
}

async function monitorJson<T>(url: string, endpoint: string): Promise<T> {
  const res = await fetch(`${url.replace(/\/$/, "")}/${endpoint}`, {
    signal: AbortSignal.timeout(2000),
  });
  if (!res.ok) throw new Error(`${url}/${endpoint}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function resolves(url: string): Promise<boolean> {
  try {
    await lookup(new URL(url).hostname);
    return true;
  } catch {
    return false; // not deployed (yet): a StatefulSet pod's name resolves once the pod exists
  }
}

/**
 * The servers behind monitoring URLs, named as they name themselves (/varz server_name).
 * `optional` URLs count only when their host name resolves (another region, not installed yet).
 * Waits up to timeoutMs for every counted server to answer.
 */
export async function monitoredServers(opts: {
  required: string[];
  optional?: string[];
  timeoutMs?: number;
  log?: (line: string) => void;
}): Promise<MonitoredServer[]> {
  const optional: string[] = [];
  for (const url of opts.optional ?? []) {
    if (await resolves(url)) optional.push(url);
    else opts.log?.(`${url}: its name does not resolve, so it is not counted (not deployed yet)`);
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  return Promise.all(
    [...opts.required, ...optional].map(async (url) => {
      for (;;) {
        try {
          const varz = await monitorJson<{ server_name?: string }>(url, "varz");
          return { name: varz.server_name ?? url, monitorUrl: url };
        } catch (err) {
          if (Date.now() > deadline)
            throw new ServerLayerError(
              "SERVER_UNREACHABLE",
              `${url} does not answer (${(err as Error).message}); is the server running and its monitoring port open?`,
            );
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }),
  );
}

/** Every server's view of the meta group, from its /jsz. */
export async function metaViewsAt(servers: MonitoredServer[]): Promise<MetaView[]> {
  return Promise.all(
    servers.map(async (s) =>
      metaViewOf(
        s.name,
        (await monitorJson<{ meta_cluster?: JszMetaCluster }>(s.monitorUrl, "jsz")).meta_cluster,
      ),
    ),
  );
}

/**
 * Waits until the meta group spans every server (one leader, the full size, every peer seen
 * current). Fails with META_GROUP_SHORT, naming the servers and `fix(names)`, as soon as one has
 * been left out of a settled group for graceMs; with JETSTREAM_NOT_READY after timeoutMs, with
 * `fix` for the first server the group is stuck on (stuckInMetaGroup), if any.
 */
export async function checkMetaGroup(opts: {
  servers: MonitoredServer[];
  timeoutMs?: number;
  graceMs?: number;
  fix: (leftOut: string[]) => string;
}): Promise<MetaView[]> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const graceMs = opts.graceMs ?? LEFT_OUT_GRACE_MS;
  const deadline = Date.now() + timeoutMs;
  const seenCurrent = new Map<string, Set<string>>(); // leader → peers it has seen current
  const leftOutSince = new Map<string, number>();
  let problem: string | undefined = "no answer";
  let stuck: string[] = [];
  while (Date.now() < deadline) {
    let views: MetaView[];
    try {
      views = await metaViewsAt(opts.servers);
    } catch (err) {
      problem = (err as Error).message;
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    const leader = views.find((v) => v.server === v.leader);
    const seen = (leader && seenCurrent.get(leader.server)) || new Set<string>();
    if (leader) {
      for (const p of leader.currentPeers) seen.add(p);
      seenCurrent.set(leader.server, seen);
    }
    problem = metaGroupProblem(views, seen);
    if (problem === undefined) return views;
    stuck = stuckInMetaGroup(views, seen);
    const leftOut = leftOutOfMetaGroup(views);
    for (const name of leftOutSince.keys()) if (!leftOut.includes(name)) leftOutSince.delete(name);
    for (const name of leftOut) if (!leftOutSince.has(name)) leftOutSince.set(name, Date.now());
    const settled = leftOut.filter((n) => Date.now() - (leftOutSince.get(n) ?? 0) >= graceMs);
    if (settled.length > 0)
      throw new ServerLayerError(
        "META_GROUP_SHORT",
        `${settled.join(", ")} ${settled.length > 1 ? "were" : "was"} left out of the JetStream meta group: ` +
          `${leader?.server} leads a group of ${leader?.clusterSize}, and ${views.length} JetStream servers answer; ` +
          `nats-server does not add a left-out server back by itself, and R${Math.min(3, views.length)} streams may not find their peers. ` +
          `Fix: ${opts.fix(settled)}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
  // a group that never formed: restarting one server it is stuck on gets it going (local.ts)
  const first = stuck[0];
  throw new ServerLayerError(
    "JETSTREAM_NOT_READY",
    `JetStream meta group not formed after ${timeoutMs} ms: ${problem}` +
      (first ? `. Fix: ${opts.fix([first])}` : ""),
  );
}
