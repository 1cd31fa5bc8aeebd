// DIR/up.json: what `natschat up` started (URLs, creds by role, pids); other verbs read defaults from it.

import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connectRole, layout, type Role, readOptional, writePublic } from "@natschat/trust";

export interface UpServer {
  name: string;
  region: string;
  url: string;
  websocket: string;
  monitoring: string;
  pid: number;
  /** false for an edge server: no JetStream there, its clients use the hub's domain. */
  jetstream?: boolean;
}

export interface UpState {
  pid: number;
  startedAt: string;
  topology: string;
  dir: string;
  client: string;
  websocket: string;
  monitoring: string;
  web?: string;
  /** The web URLs teammates open, when `up --host` binds more than loopback. */
  lan?: string[];
  /** The in-process access-service replica (natschat-access on $SRV). */
  access?: { service: string; id: string; replica: string; log: string };
  /** The in-process history-service replica (natschat-history on $SRV). */
  history?: { service: string; id: string; replica: string; log: string };
  /** where JetStream state lives: clients use this domain (required at the edge). */
  storage?: { domain: string; replicas: number; cluster?: string };
  /** the development CA, when the servers run TLS. */
  tlsCa?: string;
  servers: UpServer[];
  creds: Record<string, string>;
  pids: { up: number; servers: number[]; access?: number; history?: number; web?: number };
  notes: string[];
}

export const upJsonPath = (dir: string) => join(dir, "up.json");

/** Reads up.json, or undefined when there is none or it is unreadable. */
export async function readUpState(dir: string): Promise<UpState | undefined> {
  const text = await readOptional(upJsonPath(dir));
  if (!text) return undefined;
  try {
    return JSON.parse(text) as UpState;
  } catch {
    return undefined;
  }
}

export async function writeUpState(state: UpState): Promise<void> {
  await writePublic(upJsonPath(state.dir), `${JSON.stringify(state, null, 2)}\n`);
}

/** True when a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The CA to trust: $NATSCHAT_TLS_CA, then up.json's (set by `natschat up --tls`); none for plain servers. */
export async function defaultTlsCa(dir: string): Promise<string | undefined> {
  return process.env.NATSCHAT_TLS_CA || (await readUpState(dir))?.tlsCa;
}

/** The client URL for verbs: --server, then up.json, then the NATS default. */
export async function defaultServer(dir: string, flag?: string): Promise<string> {
  if (flag) return flag;
  return (await readUpState(dir))?.client ?? "nats://127.0.0.1:4222";
}

/**
 * Connects a verb as one role: server from --server or up.json, creds from --creds or the data
 * dir's role creds, the role's inbox prefix, and up.json's CA when the servers run TLS.
 */
export async function connectVerbRole(
  flags: { dir: string; server?: string; creds?: string },
  role: Role,
): Promise<NatsConnection> {
  return connectRole({
    servers: await defaultServer(flags.dir, flags.server),
    credsPath: flags.creds ?? layout(flags.dir).creds(role),
    inboxOwner: role,
    tlsCaFile: await defaultTlsCa(flags.dir),
  });
}
