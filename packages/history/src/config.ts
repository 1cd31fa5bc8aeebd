// Configuration of a history replica from a data dir (what `natschat up` runs): the two role
// creds and the CHAT account's key come from the trust tree.
import { layout, loadTrust } from "@natschat/trust";
import type { Logger } from "./log.ts";
import type { HistoryServiceOptions } from "./service.ts";

/** Settings a caller may override. */
export interface HistoryFlags {
  replicas?: number;
  dailyQuotaBytes?: number;
  staleSeconds?: number;
  replicaId?: string;
  tlsCaFile?: string;
  log?: Logger;
}

/** The options of a replica serving `servers` from the trust tree in `dir`. */
export async function resolveHistoryConfig(
  dir: string,
  servers: string[],
  flags: HistoryFlags = {},
): Promise<HistoryServiceOptions> {
  const trust = await loadTrust(dir);
  const paths = layout(dir);
  return {
    servers,
    chatCreds: { path: paths.creds("history") },
    adminCreds: { path: paths.creds("history-api") },
    chatAccount: trust.summary.accounts.CHAT.publicKey,
    ...flags,
  };
}
