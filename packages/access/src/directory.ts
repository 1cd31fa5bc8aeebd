// The directory (issue 10's protocol v3): chat users ask, through CHAT's import of
// chat.svc.directory.> (share: true), which name the access service issued for a key, with the
// issued JWT so the asker can check the CHAT account's signature itself, and which keys are
// online now. Both replies are bounded: a lookup takes at most 100 keys, the online list is paged.
// Bootstrap and role users are not in the registry, so they are never found.
import type { ServiceMsg } from "@nats-io/services";
import {
  type DirectoryEntry,
  encodeLookupReply,
  encodeOnlineReply,
  parseLookupRequest,
  parseOnlineQuery,
} from "@natschat/protocol";
import type { Reply } from "./endpoint.ts";
import type { PresenceTracker } from "./presence.ts";
import type { Registry } from "./registry.ts";

export class DirectoryEndpoints {
  constructor(
    readonly registry: Registry,
    readonly presence: PresenceTracker,
  ) {}

  lookup = async (msg: ServiceMsg): Promise<Reply> => {
    const keys = parseLookupRequest(msg.string());
    const users: Record<string, DirectoryEntry> = {};
    for (const key of keys) {
      const claim = this.registry.claimOf(key)?.claim;
      const name = this.registry.nameOf(key) ?? claim?.name;
      const record = name === undefined ? undefined : this.registry.get(name)?.record;
      if (name === undefined || (record && record.key !== key)) continue;
      const revoked = Boolean(claim?.revoked || record?.revoked);
      if (!record && !revoked) continue;
      users[key] = {
        name,
        ...(record?.jwt && record.key === key ? { jwt: record.jwt } : {}),
        ...(revoked ? { revoked: true as const } : {}),
      };
    }
    return { ok: true, body: encodeLookupReply({ users }) };
  };

  online = async (msg: ServiceMsg): Promise<Reply> => {
    const q = parseOnlineQuery(msg.string());
    const keys = this.presence.onlineKeys().filter((k) => k > q.after);
    const page = keys.slice(0, q.limit);
    const last = page.at(-1);
    return {
      ok: true,
      body: encodeOnlineReply({
        online: page.map((k): [string, string] => [k, this.registry.nameOf(k) ?? ""]),
        rev: 0,
        ...(keys.length > q.limit && last ? { next: last } : {}),
      }),
    };
  };
}
