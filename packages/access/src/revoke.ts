// Revocation on chat.req.revoke (only the admin role may publish it). The order matters:
//   1. mark the name revoked in the registry (revision-checked), so no replica renews it any more;
//   2. look up the CHAT account JWT the servers hold, add the revocation (and any other revoked
//      key of the registry that is missing from it), re-sign it with the operator signing key;
//   3. push it with $SYS.REQ.CLAIMS.UPDATE and collect every server's reply;
//   4. look it up again: if a concurrent revoke on another replica overwrote ours, go again.
// A user JWT issued before the revocation time is refused by every server from then on, and
// the server closes the revoked user's live connections. Renewal signs the JWT before its
// registry write, so any JWT a renewal issued is older than the revocation mark.
import { decode } from "@nats-io/jwt";
import type { NatsConnection } from "@nats-io/nats-core";
import type { KeyPair } from "@nats-io/nkeys";
import { AccessError, InvalidNameError, normalizeName } from "@natschat/protocol";
import {
  discoverServers,
  lookupAccountJwt,
  type PushReply,
  pushAccountJwt,
  revocationsOf,
  revokeInAccountJwt,
  writePublic,
} from "@natschat/trust";
import type { Logger } from "./log.ts";
import type { Registry, RegistryRecord } from "./registry.ts";

/** A parsed revoke request: `name`, or JSON `{"name": "x", "release": true}`. */
export interface RevokeRequest {
  name: string;
  release: boolean;
}

/** Parses a revoke request body; throws AccessError with what is wrong. */
export function parseRevokeRequest(body: string): RevokeRequest {
  const text = body.trim();
  let name: unknown = text;
  let release: unknown = false;
  if (text.startsWith("{")) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new AccessError(
        "BAD_REQUEST",
        'revoke request is not valid JSON: send NAME or {"name":"NAME","release":true}',
      );
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new AccessError("BAD_REQUEST", 'revoke request must be a JSON object {"name":"NAME"}');
    }
    name = (v as Record<string, unknown>).name;
    release = (v as Record<string, unknown>).release ?? false;
    if (typeof release !== "boolean") {
      throw new AccessError("BAD_REQUEST", 'revoke request "release" must be true or false');
    }
  }
  if (typeof name !== "string") {
    throw new AccessError("BAD_REQUEST", 'revoke request needs "name", a string');
  }
  try {
    return { name: normalizeName(name), release: release as boolean };
  } catch (err) {
    if (!(err instanceof InvalidNameError)) throw err;
    throw new AccessError("NAME_INVALID", err.message, "name");
  }
}

/** What a revocation did. */
export interface RevokeOutcome {
  name: string;
  key: string;
  released: boolean;
  /** Registry revision of the revoked mark. */
  revision: number;
  /** The record as revoked. */
  record: RegistryRecord;
  /** Registry revision of the release, when released. */
  releasedRevision?: number;
  servers: string[];
  replies: PushReply[];
}

export interface RevokerOptions {
  registry: Registry;
  /** A SYS connection with the push role: lookups, server pings, claim updates. */
  sys: NatsConnection;
  chatAccount: string;
  operatorSigner: KeyPair;
  /** Where to write the new CHAT JWT so the next `natschat up` preloads it. */
  chatJwtPath?: string;
  log: Logger;
}

const MAX_ROUNDS = 4;

/**
 * The account JWT with `keys` revoked (the same string when it already revokes them all),
 * re-signed by `signer`. The re-signed one is issued in a later second than `jwt`: a server
 * keeps the JWT with the later `iat` and lets an equal one replace it, so a revocation signed in
 * the same second could be undone by a restart that preloads the older one.
 */
export async function withRevocations(
  jwt: string,
  keys: Iterable<string>,
  signer: KeyPair,
): Promise<string> {
  const have = revocationsOf(jwt);
  const missing = [...new Set(keys)].filter((k) => !(k in have));
  if (missing.length === 0) return jwt;
  const wait = ((decode(jwt).iat ?? 0) + 1) * 1000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  let next = jwt;
  for (const key of missing) next = await revokeInAccountJwt(next, key, signer);
  return next;
}

export class Revoker {
  /** One revocation at a time per replica; replicas converge through step 4. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly opts: RevokerOptions) {}

  /** Revokes (and optionally releases) a name; serialized per replica. */
  revoke(req: RevokeRequest): Promise<RevokeOutcome> {
    return this.serialized(() => this.#revoke(req));
  }

  /** Runs `work` in this replica's revocation queue, never interleaved with a revoke. */
  serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    // The queue only orders work; each caller sees its own result or error through `run`.
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #markRevoked(name: string): Promise<{ record: RegistryRecord; revision: number }> {
    const { registry } = this.opts;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const stored = await registry.fetch(name);
      if (!stored) throw new AccessError("NOT_FOUND", `no user named "${name}" is registered`);
      if (stored.record.revoked) return stored;
      const record: RegistryRecord = {
        ...stored.record,
        revoked: true,
        revokedAt: new Date().toISOString(),
      };
      const rev = await registry.update(record, stored.revision);
      if (rev !== "conflict") return { record, revision: rev };
    }
    throw new AccessError("INTERNAL", `"${name}" kept changing while being revoked; try again`);
  }

  async #revoke(req: RevokeRequest): Promise<RevokeOutcome> {
    const { sys, chatAccount, operatorSigner, log } = this.opts;
    const { record, revision } = await this.#markRevoked(req.name);
    // the key's claim is marked for good: released or not, this key never gets a JWT again
    await this.opts.registry.revokeKey(record.key, record.name);
    let servers: string[] = [];
    let replies: PushReply[] = [];
    let confirmed = false;
    for (let round = 0; round < MAX_ROUNDS && !confirmed; round++) {
      const current = await lookupAccountJwt(sys, chatAccount);
      const next = await withRevocations(
        current,
        [record.key, ...this.#revokedKeys()],
        operatorSigner,
      );
      // Push at once and count the servers meanwhile: the revocation takes effect on every server
      // as the update arrives, without waiting out the discovery's stall first.
      [servers, replies] = await Promise.all([
        discoverServers(sys),
        next === current ? Promise.resolve([]) : pushAccountJwt(sys, next),
      ]);
      if (servers.length === 0) {
        throw new AccessError(
          "INTERNAL",
          "no server answered $SYS.REQ.SERVER.PING; revocation not pushed",
        );
      }
      if (next !== current && replies.length < servers.length) {
        // a server answered after the replies stalled: push again (idempotent) and wait for all
        replies = await pushAccountJwt(sys, next, servers.length);
      }
      const failed = replies.filter((r) => !r.ok);
      if (failed.length) {
        throw new AccessError(
          "INTERNAL",
          `revocation rejected by ${failed.map((f) => `${f.server} (${f.message})`).join(", ")}; retry`,
        );
      }
      if (next !== current && replies.length < servers.length) {
        throw new AccessError(
          "INTERNAL",
          `revocation reached ${replies.length} of ${servers.length} servers; retry the revoke`,
        );
      }
      const latest = await lookupAccountJwt(sys, chatAccount);
      confirmed = record.key in revocationsOf(latest);
      if (confirmed && this.opts.chatJwtPath) {
        await writePublic(this.opts.chatJwtPath, `${latest}\n`);
      }
    }
    if (!confirmed) {
      throw new AccessError("INTERNAL", "another revocation kept overwriting this one; retry");
    }
    let releasedRevision: number | undefined;
    if (req.release) {
      const r = await this.opts.registry.release(req.name, revision);
      if (r === "conflict") {
        const again = await this.opts.registry.fetch(req.name);
        if (again) {
          const second = await this.opts.registry.release(req.name, again.revision);
          if (second !== "conflict") releasedRevision = second;
        }
      } else releasedRevision = r;
    }
    const released = releasedRevision !== undefined;
    log.info("revoked", { name: req.name, key: record.key, released, servers: servers.length });
    return {
      name: req.name,
      key: record.key,
      released,
      revision,
      record,
      ...(released ? { releasedRevision } : {}),
      servers,
      replies,
    };
  }

  /** Keys the registry view marks revoked (so one replica's push never drops another's). */
  #revokedKeys(): string[] {
    return this.opts.registry.revokedKeys();
  }
}
