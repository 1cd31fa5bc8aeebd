// The directory (issue 10's protocol v3): chat users ask, through CHAT's import of
// chat.svc.directory.> (share: true), which name the access service issued for a key, with the
// issued JWT so the asker can check the CHAT account's signature itself, and which keys are
// online now, with their issued names (a page of the online set, online-set.ts: what a client
// loads on joining before it follows the presence feed). Both replies are bounded: a lookup takes
// at most 100 keys, the online list is paged.
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
import type { OnlineSet } from "./online-set.ts";
import type { Registry } from "./registry.ts";

export class DirectoryEndpoints {
  constructor(
    readonly registry: Registry,
    readonly online: OnlineSet,
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

  page = async (msg: ServiceMsg): Promise<Reply> => {
    const q = parseOnlineQuery(msg.string());
    return { ok: true, body: encodeOnlineReply(this.online.page(q.after, q.limit)) };
  };
}
