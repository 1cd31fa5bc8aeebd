// `natschat up`: the whole local system in one command. Builds the trust tree if needed, starts
// nats-server, pushes the account JWTs, starts the services, writes DIR/up.json, and stops it
// all cleanly on Ctrl-C or SIGTERM.
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  dialHost,
  ensureDevCerts,
  ensureNatsServer,
  isHostLike,
  isLoopbackHost,
  parseTopology,
  planTopology,
  reachableHosts,
  startTopology,
  type TlsFiles,
} from "@natschat/server";
import {
  connectRole,
  discoverServers,
  edgeLeafCreds,
  ensurePrivateDir,
  initTrust,
  layout,
  loadTrust,
  pushAll,
  ROLES,
  resolverTrust,
} from "@natschat/trust";
import { parsePort, parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";
import { startAccessPart } from "./up-access.ts";
import { guardProcess } from "./up-guard.ts";
import { startHistoryPart } from "./up-history.ts";
import { isAlive, type UpState, upJsonPath, writeUpState } from "./up-state.ts";
import { DEFAULT_WEB_PORT, startWebPart } from "./up-web.ts";
import { describeMigration, upgradeHistoryStores } from "./upgrade.ts";

const USAGE =
  "natschat up [--dir DIR] [--topology single|cluster|supercluster|leaf] [--regions A,B] " +
  "[--host ADDR] [--tls] [--port N] [--ws-port N] [--http-port N] [--web-port N] [--strict-ports]";

/** A part of the running system that must be stopped on exit. */
interface Part {
  name: string;
  stop(): Promise<void>;
}

/** Takes DIR/up.lock for this process; refuses when a live `up` holds it. */
async function lock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, "up.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, "wx", 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (pid && isAlive(pid)) {
        throw new UsageError(
          `natschat up is already running on ${dir} (pid ${pid}); stop it with Ctrl-C or \`kill ${pid}\``,
        );
      }
      await rm(path, { force: true }); // stale lock from a process that died
    }
  }
  throw new UsageError(`cannot take the lock ${path}`);
}

export async function upVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    {
      topology: { type: "string" },
      regions: { type: "string" },
      port: { type: "string" },
      "ws-port": { type: "string" },
      "http-port": { type: "string" },
      "web-port": { type: "string" },
      "strict-ports": { type: "boolean" },
      tls: { type: "boolean" },
      host: { type: "string" },
    },
    USAGE,
  );
  // every listener binds here (nats client, websocket, monitoring, web); teammates on the LAN
  // need a LAN address (or 0.0.0.0) and --tls: a browser has WebCrypto only over https
  const host = flags.host ?? "127.0.0.1";
  if (!isHostLike(host)) {
    throw new UsageError(
      `--host "${host}" is neither an IP address nor a host name; use e.g. 0.0.0.0 or 192.168.1.20`,
    );
  }
  const topology = parseTopology(flags.topology ?? "single");
  const preferred = {
    client: parsePort(flags.port, "port") ?? 4222,
    websocket: parsePort(flags["ws-port"], "ws-port") ?? 9222,
    http: parsePort(flags["http-port"], "http-port") ?? 8222,
  };
  const webPort = parsePort(flags["web-port"], "web-port") ?? DEFAULT_WEB_PORT;
  const dir = flags.dir;
  await ensurePrivateDir(dir);
  const unlock = await lock(dir);
  const parts: Part[] = [];
  // Safe to call more than once, also while start-up is still adding parts.
  let stoppingAll = false;
  const stopAll = async () => {
    stoppingAll = true;
    const stopOne = (part: Part) =>
      part.stop().catch((err) => console.error(`stopping ${part.name}: ${(err as Error).message}`));
    // the services and the web drain side by side (each bounds its own steps, which run their
    // full time when the servers are gone); the servers stop last, once nothing needs them
    const clients = parts.splice(0).reverse();
    const servers = clients.filter((p) => p.name === "nats-server");
    await Promise.all(clients.filter((p) => p.name !== "nats-server").map(stopOne));
    for (const part of servers) await stopOne(part);
    await rm(upJsonPath(dir), { force: true });
    await unlock();
  };
  // A crash of any part must not orphan the servers: an uncaught exception stops everything.
  const guard = guardProcess({ log: (line) => console.error(`natschat up: ${line}`), stopAll });
  // Handlers go in first: without them a signal during start-up would kill us and orphan the servers.
  let signalled: string | undefined;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      signalled = sig;
      console.log(`\n${sig}: stopping…`);
      void stopAll().then(resolve);
    };
    // SIGHUP too: a closed terminal (or tmux kill-server) must not orphan the servers
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
      process.once(sig, () => onSignal(sig));
  });
  try {
    const report = await initTrust({ dir });
    console.log(report.treeExists ? `trust tree in ${dir} reused` : `trust tree created in ${dir}`);
    if (report.updated.length)
      console.log(`upgraded in place (same keys): ${report.updated.join(", ")}`);
    const trust = await loadTrust(dir);
    const binary = await ensureNatsServer(undefined, (line) => console.log(line));
    console.log(`nats-server ${binary.version} (${binary.path})`);
    const paths = layout(dir);
    const tls = flags.tls ? await ensureTls(dir, reachableHosts(host)) : undefined;
    if (!tls && !isLoopbackHost(host)) {
      console.log(
        `note: --host ${host} without --tls: terminals can connect, but a browser on another machine cannot register (no WebCrypto over plain http); add --tls`,
      );
    }
    const plan = await planTopology({
      topology,
      host,
      dir: paths.server,
      regions: flags.regions?.split(","),
      tls,
      preferred,
      onBusyPort: flags["strict-ports"] ? "fail" : "fallback",
      leafCreds: edgeLeafCreds(trust),
    });
    for (const note of plan.notes) console.log(`note: ${note}`);
    const running = await startTopology({
      binary: binary.path,
      plan,
      trust: resolverTrust(trust),
      dir: paths.server,
      log: (line) => console.log(`note: ${line}`),
    });
    parts.push({ name: "nats-server", stop: running.stop });
    for (const server of running.servers) {
      // a server that dies is reported; the others and the services keep running (they
      // reconnect), and Ctrl-C still stops what is left
      void server.exited.then((code) => {
        if (!signalled && !stoppingAll) {
          console.error(`natschat up: nats-server ${server.spec.name} exited (${code})`);
        }
      });
    }
    const first = running.servers[0] as (typeof running.servers)[0];

    const nc = await connectRole({
      servers: first.url,
      credsPath: paths.creds("push"),
      inboxOwner: "push",
      tlsCaFile: tls?.ca,
    });
    const pushed = await pushToAll(
      nc,
      Object.values(trust.accountJwts),
      plan.servers.length,
      paths.server,
    );
    await nc.close();
    const failures = pushed.replies.flat().filter((r) => !r.ok);
    if (failures.length)
      throw new UsageError(
        `pushing account JWTs failed: ${failures.map((f) => `${f.server}: ${f.message}`).join("; ")}`,
      );
    console.log(
      `pushed ${Object.keys(trust.accountJwts).length} account JWTs to ${pushed.servers.length} server(s)`,
    );

    // the hub region's servers: the streams and buckets the services create are placed where the
    // request comes in, so they live in the hub; the edge has no JetStream and no ADMIN remote
    const hub = running.servers.filter((s) => s.spec.region === plan.regions[0]).map((s) => s.url);
    const access = await startAccessPart(dir, hub, topology === "single" ? 1 : 3, tls?.ca);
    parts.push({ name: "access service", stop: access.stop });
    void access.service.stopped.then(() => {
      if (!signalled && !stoppingAll) return guard.fatal("the access service stopped");
    });
    console.log(`access service started (id ${access.service.id}, log ${access.logPath})`);
    // a data dir of protocol v2: its history moves to the v3 layout before the writer stores
    for (const line of describeMigration(
      await upgradeHistoryStores(dir, hub, topology === "single" ? 1 : 3, tls?.ca),
    ))
      console.log(`upgraded in place: ${line}`);
    const history = await startHistoryPart(dir, hub, topology === "single" ? 1 : 3, tls?.ca);
    parts.push({ name: "history service", stop: history.stop });
    void history.service.stopped.then(() => {
      if (!signalled && !stoppingAll) return guard.fatal("the history service stopped");
    });
    console.log(`history service started (id ${history.service.id}, log ${history.logPath})`);

    const web = await startWebPart({
      host,
      ...(tls ? { tls } : {}),
      port: webPort,
      strictPort: Boolean(flags["strict-ports"]),
      // the hub's servers: the web app reads history with the plain $JS.API, which an edge
      // server (no JetStream of its own) does not forward
      websocketUrls: running.servers
        .filter((s) => s.spec.jetstream === "server")
        .map((s) => s.websocketUrl),
      trust,
      bootstrapCredsPath: paths.creds("bootstrap"),
      log: (line) => console.log(line),
    });
    if ("server" in web) {
      parts.push({ name: "web", stop: web.server.stop });
      if (web.server.note) {
        console.log(`note: ${web.server.note}`);
        plan.notes.push(web.server.note);
      }
    } else {
      console.error(`web: not started: ${web.failed}`);
      plan.notes.push(`web app not started: ${web.failed}`);
    }

    const state: UpState = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      topology,
      dir,
      client: first.url,
      websocket: first.websocketUrl,
      monitoring: first.monitorUrl,
      // a wildcard bind is opened at loopback here
      ...("server" in web ? { web: lanUrl(web.server.url, dialHost(host)) } : {}),
      ...("server" in web && !isLoopbackHost(host)
        ? { lan: reachableHosts(host).map((h) => lanUrl(web.server.url, h)) }
        : {}),
      access: {
        service: "natschat-access",
        id: access.service.id,
        replica: access.service.replicaId,
        log: access.logPath,
      },
      history: {
        service: "natschat-history",
        id: history.service.id,
        replica: history.service.replicaId,
        log: history.logPath,
      },
      storage: plan.storage,
      ...(tls ? { tlsCa: tls.ca } : {}),
      servers: running.servers.map((s) => ({
        name: s.spec.name,
        region: s.spec.region,
        jetstream: s.spec.jetstream === "server",
        url: s.url,
        websocket: s.websocketUrl,
        monitoring: s.monitorUrl,
        pid: s.pid,
      })),
      creds: Object.fromEntries(ROLES.map((r) => [r, paths.creds(r)])),
      pids: {
        up: process.pid,
        servers: running.servers.map((s) => s.pid),
        // The services and the web server run inside this process.
        access: process.pid,
        history: process.pid,
        ...("server" in web ? { web: process.pid } : {}),
      },
      notes: plan.notes,
    };
    if (signalled) {
      await stopAll(); // parts started after the signal
      return 0;
    }
    await writeUpState(state);
    printNextSteps(state);
  } catch (err) {
    await stopAll();
    throw err;
  }
  await stopped;
  guard.uninstall();
  console.log("stopped");
  return 0;
}

/** The web URL with `host` in place of the bind address (what a teammate opens). */
function lanUrl(webUrl: string, host: string): string {
  const url = new URL(webUrl);
  url.hostname = host.includes(":") ? `[${host}]` : host;
  return url.toString().replace(/\/$/, "");
}

/**
 * The development CA and server certificate in DIR/tls (made on first use), covering loopback
 * and the addresses teammates dial.
 */
async function ensureTls(dir: string, hosts: string[]): Promise<TlsFiles> {
  const report = await ensureDevCerts({ dir, hosts });
  console.log(
    `TLS on every listener; clients must trust ${report.files.ca}` +
      (report.created.length ? ` (created: ${report.created.join(", ")})` : ""),
  );
  return report.files;
}

/**
 * Pushes the account JWTs once every server of the plan answers $SYS.REQ.SERVER.PING: right after
 * start-up an edge's SYS leafnode may still be propagating interest, and a push that misses a
 * server would leave it on the preloaded JWTs.
 */
async function pushToAll(nc: NatsConnection, jwts: string[], expected: number, logs: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const servers = await discoverServers(nc);
    if (servers.length >= expected || Date.now() > deadline) {
      if (servers.length < expected)
        throw new UsageError(
          `only ${servers.length} of ${expected} servers answer (${servers.join(", ")}); see the logs under ${logs}`,
        );
      return pushAll(nc, jwts);
    }
  }
}

function printNextSteps(s: UpState): void {
  const lines = [
    "",
    `natschat is up (${s.topology}, ${s.servers.length} server${s.servers.length > 1 ? "s" : ""})`,
    `  client      ${s.client}`,
    `  websocket   ${s.websocket}`,
    `  monitoring  ${s.monitoring}`,
    ...(s.web ? [`  web         ${s.web}`] : []),
    ...(s.lan ?? []).map(
      (u) => `  teammates   ${u}   (on the LAN${s.tlsCa ? `; trust ${s.tlsCa}` : ""})`,
    ),
    `  state       ${upJsonPath(s.dir)}`,
    "",
    "next, in another terminal:",
    "  npx natschat join alice                              # register a user (key stays here)",
    "  npx natschat users --watch                           # the registry, live",
    "  npx natschat status                                  # servers and services",
    "  npx natschat describe .natschat/creds/admin.creds   # see a role's permissions",
    "  npx natschat sub 'chat.KUBECON.online.*' --role admin  # watch presence",
    "",
    "Ctrl-C stops everything.",
  ];
  console.log(lines.join("\n"));
}
