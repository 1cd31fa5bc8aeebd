// The JetStream part of `natschat status`: the meta group (leader, each peer current or
// lagging), every stream's placement and replicas (as its leader sees them), and each account's
// JetStream usage against the limits in the account JWT the servers hold. One
// $SYS.REQ.SERVER.PING.JSZ (with accounts and streams) answers the first two, and
// $SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP the limits; both are the push role's.
import { type Account, decode } from "@nats-io/jwt";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  type JszMetaCluster,
  leftOutOfMetaGroup,
  type MetaView,
  metaGroupProblem,
  metaViewOf,
} from "@natschat/server";
import { formatBytes, lookupAccountJwt, reservedBytes } from "@natschat/trust";

/** One replica of a raft group (the meta group or a stream), as its leader sees it. */
export interface PeerHealth {
  name: string;
  current: boolean;
  offline?: boolean;
  /** ms since the leader last heard from it. */
  seenMsAgo?: number;
  /** entries behind the leader. */
  lag?: number;
}

export interface MetaHealth {
  /** every JetStream server's view (none on a single server). */
  views: MetaView[];
  leader?: string;
  /** the other members, from the leader's view. */
  peers: PeerHealth[];
  problem?: string;
  leftOut: string[];
}

export interface StreamHealth {
  account: string;
  name: string;
  /** configured replicas. */
  replicas: number;
  cluster?: string;
  leader?: string;
  peers: PeerHealth[];
  messages: number;
  bytes: number;
  /** max_bytes; -1 unbounded. */
  maxBytes: number;
  consumers: number;
}

export interface AccountHealth {
  name: string;
  id: string;
  /** file storage in use, summed over every replica on every server (what the limit counts). */
  storage: number;
  memory: number;
  /** what the streams reserve: max_bytes × replicas each. */
  reserved: number;
  streams: number;
  consumers: number;
  /** from the account JWT the servers hold; -1 unlimited; undefined when the lookup failed. */
  limits?: { storage: number; memory: number; streams: number; consumers: number };
}

export interface JetStreamHealth {
  meta: MetaHealth;
  streams: StreamHealth[];
  accounts: AccountHealth[];
}

interface JszPeer {
  name: string;
  current?: boolean;
  offline?: boolean;
  active?: number;
  lag?: number;
}
interface JszStream {
  name: string;
  cluster?: { name?: string; leader?: string; replicas?: JszPeer[] };
  config?: { num_replicas?: number; max_bytes?: number };
  state?: { messages?: number; bytes?: number; consumer_count?: number };
}
interface JszAccount {
  name?: string;
  id: string;
  memory?: number;
  storage?: number;
  stream_detail?: JszStream[];
}
interface JszReply {
  server?: { name?: string };
  data?: { meta_cluster?: JszMetaCluster; account_details?: JszAccount[] };
}

function peerOf(p: JszPeer): PeerHealth {
  return {
    name: p.name,
    current: p.current === true,
    ...(p.offline ? { offline: true } : {}),
    ...(p.active !== undefined ? { seenMsAgo: Math.round(p.active / 1e6) } : {}),
    ...(p.lag ? { lag: p.lag } : {}),
  };
}

/** Asks every server for its JetStream report and the accounts' JWTs for their limits. */
export async function collectJetStream(
  sys: NatsConnection,
  waitMs: number,
): Promise<JetStreamHealth> {
  const replies: { server: string; data: NonNullable<JszReply["data"]> }[] = [];
  const it = await sys.requestMany(
    "$SYS.REQ.SERVER.PING.JSZ",
    JSON.stringify({ accounts: true, streams: true, config: true }),
    { strategy: "stall", stall: 300, maxWait: waitMs },
  );
  for await (const m of it) {
    const r = m.json<JszReply>();
    if (r.server?.name && r.data) replies.push({ server: r.server.name, data: r.data });
  }
  replies.sort((a, b) => a.server.localeCompare(b.server));

  // no meta_cluster: no JetStream there, or a single server
  const views = replies
    .filter((r) => r.data.meta_cluster)
    .map((r) => metaViewOf(r.server, r.data.meta_cluster));
  const leaderName = views[0]?.leader;
  const leaderMeta = replies.find((r) => r.server === leaderName)?.data.meta_cluster;
  const peers = (leaderMeta?.replicas ?? [])
    .map(peerOf)
    .sort((a, b) => a.name.localeCompare(b.name));
  // a member that is down does not answer the ping: name it, rather than a group size mismatch
  const silent = peers.filter((p) => !views.some((v) => v.server === p.name)).map((p) => p.name);
  const problem = silent.length
    ? `${silent.join(", ")} ${silent.length === 1 ? "does" : "do"} not answer`
    : views.length
      ? metaGroupProblem(views)
      : undefined;
  const meta: MetaHealth = {
    views,
    ...(leaderName ? { leader: leaderName } : {}),
    peers,
    ...(problem ? { problem } : {}),
    leftOut: leftOutOfMetaGroup(views),
  };

  // every server lists the streams it holds a replica of; the leader's entry is the one to read
  const streams = new Map<string, StreamHealth>();
  const accounts = new Map<string, AccountHealth>();
  for (const { server, data } of replies) {
    for (const a of data.account_details ?? []) {
      const acc = accounts.get(a.id) ?? {
        name: a.name && a.name !== a.id ? a.name : a.id,
        id: a.id,
        storage: 0,
        memory: 0,
        reserved: 0,
        streams: 0,
        consumers: 0,
      };
      acc.storage += a.storage ?? 0;
      acc.memory += a.memory ?? 0;
      accounts.set(a.id, acc);
      for (const s of a.stream_detail ?? []) {
        const key = `${a.id} ${s.name}`;
        const leader = s.cluster?.leader ?? server;
        if (streams.has(key) && leader !== server) continue;
        streams.set(key, {
          account: acc.name,
          name: s.name,
          replicas: s.config?.num_replicas ?? 1,
          ...(s.cluster?.name ? { cluster: s.cluster.name } : {}),
          ...(s.cluster?.leader || !s.cluster ? { leader } : {}),
          peers: (s.cluster?.replicas ?? [])
            .map(peerOf)
            .sort((x, y) => x.name.localeCompare(y.name)),
          messages: s.state?.messages ?? 0,
          bytes: s.state?.bytes ?? 0,
          maxBytes: s.config?.max_bytes ?? -1,
          consumers: s.state?.consumer_count ?? 0,
        });
      }
    }
  }
  for (const s of streams.values()) {
    const acc = [...accounts.values()].find((a) => a.name === s.account);
    if (!acc) continue;
    acc.streams++;
    acc.consumers += s.consumers;
    acc.reserved += reservedBytes({ stream: s.name, maxBytes: s.maxBytes, replicas: s.replicas });
  }
  await Promise.all(
    [...accounts.values()].map(async (acc) => {
      try {
        const l = decode<Account>(await lookupAccountJwt(sys, acc.id)).nats.limits ?? {};
        acc.limits = {
          storage: l.disk_storage ?? -1,
          memory: l.mem_storage ?? -1,
          streams: l.streams ?? -1,
          consumers: l.consumer ?? -1,
        };
      } catch {
        // shown as "limits unknown": status reports what it can reach
      }
    }),
  );
  return {
    meta,
    streams: [...streams.values()].sort((a, b) =>
      `${a.account} ${a.name}`.localeCompare(`${b.account} ${b.name}`),
    ),
    accounts: [...accounts.values()].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** "current", "offline" or "lagging (seen 4.1 s ago, 5 behind)". */
function peerState(p: PeerHealth): string {
  if (p.offline) return "offline";
  if (p.current) return "current";
  const why = [
    p.seenMsAgo !== undefined ? `seen ${(p.seenMsAgo / 1000).toFixed(1)} s ago` : "",
    p.lag ? `${p.lag} behind` : "",
  ].filter(Boolean);
  return `lagging${why.length ? ` (${why.join(", ")})` : ""}`;
}

const of = (used: number, limit: number | undefined, fmt: (n: number) => string) =>
  limit === undefined
    ? `${fmt(used)} (limit unknown)`
    : `${fmt(used)} of ${limit < 0 ? "unlimited" : fmt(limit)}`;

/** The report as lines, one item each. */
export function formatJetStream(js: JetStreamHealth): string[] {
  const out: string[] = [];
  const m = js.meta;
  if (m.views.length) {
    const lagging = m.peers.filter((p) => !p.current).length;
    out.push(
      `jetstream meta group: leader ${m.leader ?? "none"}, size ${m.views[0]?.clusterSize ?? "?"}, ` +
        `${m.views.length} servers answer` +
        (m.problem ? `; ${m.problem}` : `; formed${lagging ? `, ${lagging} lagging` : ""}`),
    );
    const names = [...new Set([...m.views.map((v) => v.server), ...m.peers.map((p) => p.name)])];
    for (const name of names.sort()) {
      const peer = m.peers.find((p) => p.name === name);
      const answers = m.views.some((v) => v.server === name);
      const role =
        name === m.leader
          ? "leader"
          : peer
            ? `follower, ${peerState(peer)}`
            : "not in the leader's view";
      out.push(`  ${name.padEnd(10)} ${role}${answers ? "" : ", does not answer"}`);
    }
    if (m.leftOut.length)
      out.push(
        `  left out of the group: ${m.leftOut.join(", ")} (restart them; see docs/operations.md)`,
      );
  } else if (js.streams.length) out.push("jetstream meta group: none (one JetStream server)");
  out.push(`streams (${js.streams.length}):`);
  const w = Math.max(4, ...js.streams.map((s) => s.name.length));
  for (const s of js.streams) {
    const place = `R${s.replicas}${s.cluster ? ` in ${s.cluster}` : ""}`;
    const peers = s.peers.length
      ? `  ${s.peers.map((p) => `${p.name} ${peerState(p)}`).join(", ")}`
      : "";
    const size =
      s.maxBytes > 0
        ? `${formatBytes(s.bytes)} of ${formatBytes(s.maxBytes)}`
        : formatBytes(s.bytes);
    out.push(
      `  ${s.account.padEnd(6)} ${s.name.padEnd(w)}  ${place}  leader ${s.leader ?? "none"}${peers}` +
        `  ${s.messages} msgs  ${size}  consumers ${s.consumers}`,
    );
  }
  out.push("jetstream accounts (usage counts every replica, as the limits do):");
  for (const a of js.accounts) {
    const l = a.limits;
    const warn: string[] = [];
    if (l && l.storage >= 0 && a.reserved > l.storage)
      warn.push("streams reserve more than the limit");
    if (l && l.storage > 0 && a.storage > 0.8 * l.storage)
      warn.push("storage above 80% of the limit");
    out.push(
      `  ${a.name.padEnd(6)} storage ${of(a.storage, l?.storage, formatBytes)} (streams reserve ${formatBytes(a.reserved)})` +
        `  memory ${of(a.memory, l?.memory, formatBytes)}` +
        `  streams ${of(a.streams, l?.streams, String)}  consumers ${of(a.consumers, l?.consumers, String)}` +
        (warn.length ? `  — ${warn.join("; ")}` : ""),
    );
  }
  return out;
}
