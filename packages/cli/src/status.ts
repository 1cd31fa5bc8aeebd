// `natschat status`: every server ($SYS.REQ.SERVER.PING with the push role), JetStream health
// (the meta group, stream placement and replicas, each account's usage against its limits:
// status-jetstream.ts), and every NATS micro service ($SRV.INFO and $SRV.STATS with the admin
// role), with their figures, one line per item. Exits 1 when no server or no access service
// answers.
import type { NatsConnection } from "@nats-io/nats-core";
import { type ServiceInfo, type ServiceStats, Svcm } from "@nats-io/services";
import { parseVerb } from "./args.ts";
import {
  type AccountHealth,
  collectJetStream,
  formatJetStream,
  type MetaHealth,
  type StreamHealth,
} from "./status-jetstream.ts";
import { connectVerbRole } from "./up-state.ts";

const USAGE = "natschat status [--json] [--dir DIR] [--server URL] [--wait MS]";

interface Statsz {
  server?: { name?: string; id?: string; ver?: string; cluster?: string; host?: string };
  statsz?: {
    start?: string;
    cpu?: number;
    mem?: number;
    connections?: number;
    subscriptions?: number;
    slow_consumers?: number;
    sent?: { msgs?: number };
    received?: { msgs?: number };
    routes?: unknown[];
    gateways?: unknown[];
  };
}

export interface StatusReport {
  servers: Statsz[];
  /** The meta group as each clustered JetStream server sees it (no views on a single server). */
  jetstream: MetaHealth;
  streams: StreamHealth[];
  accounts: AccountHealth[];
  services: { info: ServiceInfo; stats?: ServiceStats }[];
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function servers(nc: NatsConnection, waitMs: number): Promise<Statsz[]> {
  const replies = await nc.requestMany("$SYS.REQ.SERVER.PING", "", {
    strategy: "stall",
    stall: 300,
    maxWait: waitMs,
  });
  const out: Statsz[] = [];
  for await (const m of replies) out.push(m.json<Statsz>());
  return out.sort((a, b) => String(a.server?.name).localeCompare(String(b.server?.name)));
}

async function services(nc: NatsConnection, waitMs: number): Promise<StatusReport["services"]> {
  const client = new Svcm(nc).client({ strategy: "stall", stall: 300, maxWait: waitMs });
  const [infos, stats] = await Promise.all([
    collect(await client.info()),
    collect(await client.stats()),
  ]);
  return infos
    .sort((a, b) => `${a.name} ${a.id}`.localeCompare(`${b.name} ${b.id}`))
    .map((info) => {
      const s = stats.find((x) => x.id === info.id);
      return s ? { info, stats: s } : { info };
    });
}

const mb = (n?: number) => (n === undefined ? "-" : `${Math.round(n / 1024 / 1024)} MB`);

function print(r: StatusReport): void {
  console.log(`servers (${r.servers.length}):`);
  for (const s of r.servers) {
    const z = s.statsz ?? {};
    console.log(
      `  ${s.server?.name ?? s.server?.id}  v${s.server?.ver ?? "?"}${s.server?.cluster ? `  cluster ${s.server.cluster}` : ""}` +
        `  conns ${z.connections ?? 0}  subs ${z.subscriptions ?? 0}  cpu ${z.cpu ?? 0}%  mem ${mb(z.mem)}` +
        `  msgs in ${z.received?.msgs ?? 0} out ${z.sent?.msgs ?? 0}  routes ${z.routes?.length ?? 0}` +
        `  gateways ${z.gateways?.length ?? 0}  slow consumers ${z.slow_consumers ?? 0}`,
    );
  }
  for (const line of formatJetStream({
    meta: r.jetstream,
    streams: r.streams,
    accounts: r.accounts,
  }))
    console.log(line);
  console.log(`services (${r.services.length}):`);
  for (const { info, stats } of r.services) {
    const meta = Object.entries(info.metadata ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    console.log(
      `  ${info.name} ${info.version}  id ${info.id}${meta ? `  ${meta}` : ""}${stats ? `  since ${stats.started}` : ""}`,
    );
    for (const ep of stats?.endpoints ?? []) {
      const figures = scalarFigures(ep.data);
      console.log(
        `    ${ep.name.padEnd(12)} ${ep.subject.padEnd(24)} queue ${ep.queue_group ?? "-"}  requests ${ep.num_requests}  errors ${ep.num_errors}${figures ? `  ${figures}` : ""}`,
      );
      for (const line of accessSummary(ep.name, ep.data)) console.log(`      ${line}`);
    }
  }
}

/** An endpoint's own top-level figures (numbers only), as `name value` pairs; --json has all. */
export function scalarFigures(data: unknown): string {
  if (typeof data !== "object" || data === null) return "";
  return Object.entries(data)
    .filter((e): e is [string, number] => typeof e[1] === "number")
    .map(([k, v]) => `${k} ${v}`)
    .join("  ");
}

/** The access service's registry size against its limit, and its refusals by reason. */
export function accessSummary(endpoint: string, data: unknown): string[] {
  if (endpoint !== "access" || typeof data !== "object" || data === null) return [];
  const d = data as {
    registry?: {
      names?: number;
      maxNames?: number;
      storageBytes?: number;
      storageLimit?: number;
      full?: boolean;
    };
    refused?: Record<string, number>;
    unexpected_errors?: number;
  };
  const out: string[] = [];
  const r = d.registry;
  if (r) {
    const storage =
      r.storageLimit && r.storageLimit > 0
        ? `, storage ${mb(r.storageBytes)} of ${mb(r.storageLimit)}`
        : "";
    out.push(
      `registry: ${r.names ?? "?"} names of ${r.maxNames ?? "?"}${storage}${r.full ? " — FULL: new names refused" : ""}`,
    );
  }
  if (d.refused) {
    const parts = Object.entries(d.refused)
      .filter(([, n]) => n > 0)
      .map(([why, n]) => `${why} ${n}`);
    out.push(`refused: ${parts.length ? parts.join(", ") : "none"}`);
  }
  if (d.unexpected_errors) out.push(`unexpected errors: ${d.unexpected_errors}`);
  return out;
}

export async function statusVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    { json: { type: "boolean" }, server: { type: "string" }, wait: { type: "string" } },
    USAGE,
  );
  const waitMs = flags.wait === undefined ? 2000 : Number(flags.wait);
  const sys = await connectVerbRole(flags, "push");
  const admin = await connectVerbRole(flags, "admin").catch(async (err) => {
    await sys.close();
    throw err;
  });
  try {
    const js = await collectJetStream(sys, waitMs);
    const report: StatusReport = {
      servers: await servers(sys, waitMs),
      jetstream: js.meta,
      streams: js.streams,
      accounts: js.accounts,
      services: await services(admin, waitMs),
    };
    if (flags.json) console.log(JSON.stringify(report, null, 2));
    else print(report);
    const access = report.services.filter((s) => s.info.name === "natschat-access");
    if (!flags.json && access.length === 0) console.log("no natschat-access replica answered");
    return report.servers.length > 0 && access.length > 0 ? 0 : 1;
  } finally {
    await sys.close();
    await admin.close();
  }
}
