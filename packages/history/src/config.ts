// Configuration of a history replica: from a data dir (what `natschat up` runs), or from flags
// and NATSCHAT_* variables with explicit files (what `natschat history` runs in a Kubernetes
// Deployment, where the creds are mounted Secrets). Bad values are refused here with a message
// that names the flag.
import { layout, loadTrust } from "@natschat/trust";
import { HistoryServiceError } from "./errors.ts";
import { createLogger, type Logger } from "./log.ts";
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

/** The command-line flags of `natschat history`, each also a NATSCHAT_* variable. */
export interface HistoryCliFlags {
  server?: string;
  "replica-id"?: string;
  creds?: string;
  "api-creds"?: string;
  "chat-account"?: string;
  replicas?: string;
  quota?: string;
  "log-level"?: string;
  "tls-ca"?: string;
}

/** Each flag's environment variable. */
export const HISTORY_ENV: Record<keyof HistoryCliFlags, string> = {
  server: "NATSCHAT_SERVER",
  "replica-id": "NATSCHAT_REPLICA_ID",
  creds: "NATSCHAT_HISTORY_CREDS",
  "api-creds": "NATSCHAT_HISTORY_API_CREDS",
  "chat-account": "NATSCHAT_CHAT_ACCOUNT",
  replicas: "NATSCHAT_REPLICAS",
  quota: "NATSCHAT_HISTORY_QUOTA",
  "log-level": "NATSCHAT_LOG_LEVEL",
  "tls-ca": "NATSCHAT_TLS_CA",
};

function invalid(message: string): HistoryServiceError {
  return new HistoryServiceError("CONFIG_INVALID", message);
}

/** Parses "8MiB", "512KiB", "1GiB" or plain bytes. */
export function parseBytes(text: string, what: string): number {
  const m = /^\s*(\d+)\s*(KiB|MiB|GiB)?\s*$/.exec(text);
  if (!m) throw invalid(`${what} "${text}" is not a size: use bytes, or e.g. 512KiB, 8MiB, 1GiB`);
  const unit = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] ?? ""] ?? 1;
  const n = Number(m[1]) * unit;
  if (n < 16 * 1024) throw invalid(`${what} ${text} is below 16KiB: one message would not fit`);
  return n;
}

/** Options of `natschat history`: flags, then variables, then the data dir's files. */
export async function resolveHistoryCli(opts: {
  flags: HistoryCliFlags;
  env: Record<string, string | undefined>;
  dir: string;
  defaultServer: string;
}): Promise<HistoryServiceOptions> {
  const pick = (k: keyof HistoryCliFlags) => opts.flags[k] ?? opts.env[HISTORY_ENV[k]];
  const paths = layout(opts.dir);
  let chatAccount = pick("chat-account");
  if (!chatAccount) {
    try {
      chatAccount = (await loadTrust(opts.dir)).summary.accounts.CHAT.publicKey;
    } catch (err) {
      throw new HistoryServiceError(
        "CONFIG_INVALID",
        `no --chat-account and no trust tree in ${opts.dir}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  if (!/^A[A-Z2-7]{55}$/.test(chatAccount))
    throw invalid(`--chat-account "${chatAccount}" is not an account public key`);
  const replicasText = pick("replicas") ?? "1";
  const replicas = Number(replicasText);
  if (![1, 3, 5].includes(replicas)) throw invalid(`--replicas ${replicasText}: use 1, 3 or 5`);
  const replicaId = pick("replica-id");
  if (replicaId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(replicaId))
    throw invalid(`--replica-id "${replicaId}" must be 1 to 64 letters, digits, '-' or '_'`);
  const levelText = (pick("log-level") ?? "info").toLowerCase();
  if (!["debug", "info", "warn", "error"].includes(levelText))
    throw invalid(`--log-level "${levelText}": use debug, info, warn or error`);
  const quota = pick("quota");
  const tlsCa = pick("tls-ca");
  return {
    servers: (pick("server") ?? opts.defaultServer).split(",").map((s) => s.trim()),
    chatCreds: { path: pick("creds") ?? paths.creds("history") },
    adminCreds: { path: pick("api-creds") ?? paths.creds("history-api") },
    chatAccount,
    replicas,
    ...(quota ? { dailyQuotaBytes: parseBytes(quota, "--quota") } : {}),
    ...(replicaId ? { replicaId } : {}),
    ...(tlsCa ? { tlsCaFile: tlsCa } : {}),
    log: createLogger({ level: levelText as "debug" | "info" | "warn" | "error" }),
  };
}
