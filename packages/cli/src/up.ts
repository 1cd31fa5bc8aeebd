// `natschat up`: the whole local system in one command. Builds the trust tree if needed, starts
// nats-server, pushes the account JWTs, starts the services, writes DIR/up.json, and stops it
// all cleanly on Ctrl-C or SIGTERM.
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { ensureNatsServer, parseTopology, planTopology, startTopology } from "@natschat/server";
import {
  connectRole,
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
import { isAlive, type UpState, upJsonPath, writeUpState } from "./up-state.ts";

const USAGE =
  "natschat up [--dir DIR] [--topology single|cluster|supercluster|leaf] [--regions A,B] " +
  "[--port N] [--ws-port N] [--http-port N] [--strict-ports]";

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
      "strict-ports": { type: "boolean" },
    },
    USAGE,
  );
  const topology = parseTopology(flags.topology ?? "single");
  const preferred = {
    client: parsePort(flags.port, "port") ?? 4222,
    websocket: parsePort(flags["ws-port"], "ws-port") ?? 9222,
    http: parsePort(flags["http-port"], "http-port") ?? 8222,
  };
  const dir = flags.dir;
  await ensurePrivateDir(dir);
  const unlock = await lock(dir);
  const parts: Part[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= (async () => {
      for (const part of parts.reverse()) {
        await part
          .stop()
          .catch((err) => console.error(`stopping ${part.name}: ${(err as Error).message}`));
      }
      await rm(upJsonPath(dir), { force: true });
      await unlock();
    })();
    return stopping;
  };
  try {
    const report = await initTrust({ dir });
    console.log(
      report.created.length ? `trust tree created in ${dir}` : `trust tree in ${dir} reused`,
    );
    const trust = await loadTrust(dir);
    const binary = await ensureNatsServer(undefined, (line) => console.log(line));
    console.log(`nats-server ${binary.version} (${binary.path})`);
    const paths = layout(dir);
    const plan = await planTopology({
      topology,
      dir: paths.server,
      regions: flags.regions?.split(","),
      preferred,
      onBusyPort: flags["strict-ports"] ? "fail" : "fallback",
      leafCreds: {
        chat: { account: trust.summary.accounts.CHAT.publicKey, credentials: paths.creds("leaf") },
        sys: { account: trust.summary.accounts.SYS.publicKey, credentials: paths.creds("sys") },
      },
    });
    for (const note of plan.notes) console.log(`note: ${note}`);
    const running = await startTopology({
      binary: binary.path,
      plan,
      trust: resolverTrust(trust),
      dir: paths.server,
    });
    parts.push({ name: "nats-server", stop: running.stop });
    const first = running.servers[0] as (typeof running.servers)[0];

    const nc = await connectRole({
      servers: first.url,
      credsPath: paths.creds("push"),
      inboxOwner: "push",
    });
    const pushed = await pushAll(nc, Object.values(trust.accountJwts));
    await nc.close();
    const failures = pushed.replies.flat().filter((r) => !r.ok);
    if (failures.length)
      throw new UsageError(
        `pushing account JWTs failed: ${failures.map((f) => `${f.server}: ${f.message}`).join("; ")}`,
      );
    console.log(
      `pushed ${Object.keys(trust.accountJwts).length} account JWTs to ${pushed.servers.length} server(s)`,
    );

    const state: UpState = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      topology,
      dir,
      client: first.url,
      websocket: first.websocketUrl,
      monitoring: first.monitorUrl,
      servers: running.servers.map((s) => ({
        name: s.spec.name,
        region: s.spec.region,
        url: s.url,
        websocket: s.websocketUrl,
        monitoring: s.monitorUrl,
        pid: s.pid,
      })),
      creds: Object.fromEntries(ROLES.map((r) => [r, paths.creds(r)])),
      pids: { up: process.pid, servers: running.servers.map((s) => s.pid) },
      notes: plan.notes,
    };
    await writeUpState(state);
    printNextSteps(state);
  } catch (err) {
    await stopAll();
    throw err;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      console.log(`\n${sig}: stopping…`);
      void stopAll().then(resolve);
    };
    process.once("SIGINT", () => onSignal("SIGINT"));
    process.once("SIGTERM", () => onSignal("SIGTERM"));
  });
  console.log("stopped");
  return 0;
}

function printNextSteps(s: UpState): void {
  const lines = [
    "",
    `natschat is up (${s.topology}, ${s.servers.length} server${s.servers.length > 1 ? "s" : ""})`,
    `  client      ${s.client}`,
    `  websocket   ${s.websocket}`,
    `  monitoring  ${s.monitoring}`,
    ...(s.web ? [`  web         ${s.web}`] : []),
    `  state       ${upJsonPath(s.dir)}`,
    "",
    "next, in another terminal:",
    "  npx natschat describe .natschat/creds/admin.creds   # see a role's permissions",
    "  npx natschat sub 'chat.KUBECON.online' --role admin  # watch presence",
    "",
    "Ctrl-C stops everything.",
  ];
  console.log(lines.join("\n"));
}
