// The admin's endpoints on the registry: chat.req.provisioned answers one page (cursor + limit,
// default and maximum in protocol's registry-wire), and chat.req.revoke answers the revoked user
// and each server's answer. Neither reply grows with the registry. Changes are broadcast on
// chat.req.provisioned.updates, once, by the replica that made them.
import type { NatsConnection } from "@nats-io/nats-core";
import type { ServiceMsg } from "@nats-io/services";
import {
  AccessError,
  encodeRegistryChange,
  encodeRegistryPage,
  encodeRevokeResult,
  PROVISIONED_UPDATES_SUBJECT,
  parseRegistryQuery,
  type RegistryChange,
  type RegistryUser,
} from "@natschat/protocol";
import type { RevocationCatchUp } from "./catch-up.ts";
import type { Reply } from "./endpoint.ts";
import type { Logger } from "./log.ts";
import type { PresenceTracker } from "./presence.ts";
import type { Registry, RegistryRecord } from "./registry.ts";
import { parseRevokeRequest, type Revoker } from "./revoke.ts";

/** A record as the admin sees it (no JWT, no jti). */
export function wireUser(
  record: RegistryRecord,
  revision: number,
  lastSeen?: number,
): RegistryUser {
  const u: RegistryUser = { name: record.name, key: record.key, issued: record.issued, revision };
  if (record.expires) u.expires = record.expires;
  if (record.revoked) u.revoked = true;
  if (record.revokedAt) u.revokedAt = record.revokedAt;
  const seen = lastSeen ?? (record.lastSeen ? Date.parse(record.lastSeen) : undefined);
  if (seen !== undefined) u.lastSeen = new Date(seen).toISOString();
  return u;
}

/** Publishes a change on the updates subject (best effort: a broadcast has no reply). */
export function announce(nc: NatsConnection, change: RegistryChange, log: Logger): void {
  try {
    nc.publish(PROVISIONED_UPDATES_SUBJECT, encodeRegistryChange(change));
  } catch (err) {
    // a closed connection: the admin re-reads the pages on reconnect
    log.warn("registry change not broadcast", { err });
  }
}

export class RegistryEndpoints {
  constructor(
    readonly nc: NatsConnection,
    readonly registry: Registry,
    readonly presence: PresenceTracker,
    readonly revoker: Revoker | undefined,
    readonly catchUp: RevocationCatchUp | undefined,
    readonly log: Logger,
  ) {}

  provisioned = async (msg: ServiceMsg): Promise<Reply> => {
    const q = parseRegistryQuery(msg.string());
    const { items, more } = this.registry.page(q.after, q.limit);
    const users = items.map((s) =>
      wireUser(s.record, s.revision, this.presence.lastSeen(s.record.name)),
    );
    const last = users.at(-1);
    return {
      ok: true,
      body: encodeRegistryPage({
        users,
        total: this.registry.size,
        limit: q.limit,
        revision: this.registry.revision,
        ...(more && last ? { next: last.name } : {}),
      }),
    };
  };

  revoke = async (msg: ServiceMsg): Promise<Reply> => {
    if (!this.revoker) {
      throw new AccessError(
        "INTERNAL",
        "this replica cannot revoke: start it with the push creds and the operator signing key",
      );
    }
    const req = parseRevokeRequest(msg.string());
    const outcome = await this.revoker.revoke(req);
    this.catchUp?.pushedTo(outcome.replies);
    const user = wireUser(outcome.record, outcome.revision);
    announce(this.nc, { op: "revoked", user }, this.log);
    if (outcome.releasedRevision !== undefined) {
      announce(
        this.nc,
        {
          op: "released",
          name: outcome.name,
          key: outcome.key,
          reason: "revoked",
          revision: outcome.releasedRevision,
        },
        this.log,
      );
    }
    return {
      ok: true,
      body: encodeRevokeResult({
        revoked: { name: outcome.name, key: outcome.key, released: outcome.released },
        servers: outcome.replies.map((r) => ({
          server: r.server,
          ok: r.ok,
          ...(r.ok ? {} : { message: r.message }),
        })),
      }),
    };
  };
}
