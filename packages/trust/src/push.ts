// Pushes account JWTs to every server with $SYS.REQ.CLAIMS.UPDATE and collects each server's
// reply, as `nsc push` does; also looks up an account's current JWT.
import type { NatsConnection } from "@nats-io/nats-core";
import { TrustError } from "./errors.ts";

/** One server's answer to an update. */
export interface PushReply {
  server: string;
  ok: boolean;
  code: number;
  message: string;
}

interface ClaimsReply {
  server?: { name?: string; id?: string };
  data?: { code?: number; message?: string };
  error?: { code?: number; description?: string };
}

/** Counts the servers that answer $SYS.REQ.SERVER.PING (waits until answers stall). */
export async function discoverServers(nc: NatsConnection, maxWaitMs = 2000): Promise<string[]> {
  const names: string[] = [];
  const replies = await nc.requestMany("$SYS.REQ.SERVER.PING", "", {
    strategy: "stall",
    stall: 300,
    maxWait: maxWaitMs,
  });
  for await (const m of replies) {
    const r = m.json<ClaimsReply>();
    names.push(r.server?.name ?? r.server?.id ?? "?");
  }
  return names;
}

/**
 * Sends one account JWT to $SYS.REQ.CLAIMS.UPDATE and returns the reply of every server.
 * expected: how many servers must answer (from discoverServers); we stop waiting once all have.
 * Without it, replies are collected until they stall.
 */
export async function pushAccountJwt(
  nc: NatsConnection,
  jwt: string,
  expected?: number,
  maxWaitMs = 5000,
): Promise<PushReply[]> {
  const out: PushReply[] = [];
  // With a known server count, stop at the last reply; without one, stop when replies stall
  // (the update takes effect on each server as it arrives; only the report waits).
  const replies = await nc.requestMany(
    "$SYS.REQ.CLAIMS.UPDATE",
    jwt,
    expected === undefined
      ? { strategy: "stall", stall: 300, maxWait: maxWaitMs }
      : { strategy: "count", maxMessages: expected, maxWait: maxWaitMs },
  );
  for await (const m of replies) {
    const r = m.json<ClaimsReply>();
    const server = r.server?.name ?? r.server?.id ?? "?";
    if (r.error)
      out.push({
        server,
        ok: false,
        code: r.error.code ?? 500,
        message: r.error.description ?? "error",
      });
    else
      out.push({ server, ok: true, code: r.data?.code ?? 200, message: r.data?.message ?? "ok" });
  }
  return out;
}

/** Pushes every JWT to every server; fails if a server rejected one or did not answer. */
export async function pushAll(
  nc: NatsConnection,
  jwts: string[],
): Promise<{ servers: string[]; replies: PushReply[][] }> {
  const servers = await discoverServers(nc);
  if (servers.length === 0)
    throw new TrustError("PUSH_NO_SERVERS", "no server answered $SYS.REQ.SERVER.PING");
  const replies: PushReply[][] = [];
  for (const jwt of jwts) replies.push(await pushAccountJwt(nc, jwt, servers.length));
  return { servers, replies };
}

/** Looks up the account JWT the servers currently hold ($SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP). */
export async function lookupAccountJwt(nc: NatsConnection, account: string): Promise<string> {
  const m = await nc.request(`$SYS.REQ.ACCOUNT.${account}.CLAIMS.LOOKUP`, "", { timeout: 3000 });
  const text = m.string().trim();
  if (!text || text.startsWith("{")) {
    throw new TrustError(
      "LOOKUP_FAILED",
      `no JWT for account ${account}: ${text || "empty reply"}`,
    );
  }
  return text;
}
