// Access-service replicas as child processes (`node bin/natschat.js access`), as a Kubernetes
// Deployment runs them, so a fault test can kill one for real (SIGKILL: no drain, no goodbye).
// Readiness is the replica answering $SRV.PING with its replica id, not a log line.
import { type ChildProcess, spawn } from "node:child_process";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { SERVICE_NAME } from "@natschat/access";
import { eventually, NATSCHAT_BIN } from "@natschat/testing";

/** A replica running in its own process. */
export interface ReplicaProcess {
  replicaId: string;
  pid: number;
  child: ChildProcess;
  /** The last 64 KB of its stdout and stderr. */
  output(): string;
  /** Resolves with the exit code (or the signal name) once it has exited. */
  exited: Promise<number | string>;
  /** SIGKILL: the process dies at once, mid-request. */
  kill9(): Promise<number | string>;
  /** SIGTERM: the replica drains and exits. */
  stop(): Promise<number | string>;
}

/** Options of startReplica. */
export interface ReplicaOptions {
  dir: string;
  servers: string[];
  replicaId: string;
  /** Extra flags, e.g. ["--rate-global", "100000/1"]. */
  args?: string[];
}

/** Spawns `natschat access` for the data dir and waits until $SRV.PING lists it. */
export async function startReplica(
  opts: ReplicaOptions,
  admin: NatsConnection,
  timeoutMs = 60_000,
): Promise<ReplicaProcess> {
  const child = spawn(
    process.execPath,
    [
      NATSCHAT_BIN,
      "access",
      "--dir",
      opts.dir,
      "--server",
      opts.servers.join(","),
      "--replica-id",
      opts.replicaId,
      ...(opts.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-65_536);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  if (child.pid === undefined) throw new Error(`could not start natschat access: ${out}`);
  const signal = (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    return exited;
  };
  const replica: ReplicaProcess = {
    replicaId: opts.replicaId,
    pid: child.pid,
    child,
    output: () => out,
    exited,
    kill9: () => signal("SIGKILL"),
    stop: () => signal("SIGTERM"),
  };
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  try {
    await eventually(
      async () => {
        if (dead) throw new Error(`natschat access exited during start-up:\n${out.slice(-2000)}`);
        return (await pingReplicas(admin)).includes(opts.replicaId);
      },
      `replica ${opts.replicaId} to answer $SRV.PING`,
      { timeoutMs, everyMs: 200, describe: () => out.slice(-500) },
    );
  } catch (err) {
    await replica.kill9();
    throw err;
  }
  return replica;
}

/** The replica ids that answer $SRV.PING for the access service right now. */
export async function pingReplicas(admin: NatsConnection): Promise<string[]> {
  const client = new Svcm(admin).client({ strategy: "stall", stall: 150, maxWait: 1500 });
  const ids: string[] = [];
  try {
    for await (const p of await client.ping(SERVICE_NAME)) {
      const id = p.metadata?.replica;
      if (id) ids.push(id);
    }
  } catch (err) {
    // no responders: nobody is serving yet, which is an answer (an empty list), not a failure
    if (!/no responders|503/i.test((err as Error).message)) throw err;
  }
  return ids;
}

/** Requests served by each replica so far (access endpoint), from $SRV.STATS. */
export async function servedByReplica(admin: NatsConnection): Promise<Record<string, number>> {
  const client = new Svcm(admin).client({ strategy: "stall", stall: 150, maxWait: 1500 });
  const out: Record<string, number> = {};
  for await (const s of await client.stats(SERVICE_NAME)) {
    const id = s.metadata?.replica ?? s.id;
    const access = s.endpoints?.find((e) => e.name === "access");
    out[id] = access?.num_requests ?? 0;
  }
  return out;
}
