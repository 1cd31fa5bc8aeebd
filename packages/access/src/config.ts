// Configuration of the access service from flags, then NATSCHAT_* environment variables, then the
// data directory. Each secret can come from its own file, so the service runs as well from a
// data dir (`natschat up`) as from Kubernetes Secrets mounted as files (no data dir at all).
import { readFile } from "node:fs/promises";
import { isPublicKey } from "@natschat/protocol";
import { layout, loadTrust, readOptional } from "@natschat/trust";
import { AccessServiceError } from "./errors.ts";
import { DEFAULT_USER_EXPIRY_SECONDS } from "./issuer.ts";
import { createLogger, parseLogLevel } from "./log.ts";
import {
  type BucketRule,
  DEFAULT_RATE_LIMITS,
  parseBucketRule,
  type RateLimits,
} from "./rate-limit.ts";
import { DEFAULT_RESERVED_NAMES, parseReservedNames } from "./reserved.ts";
import type { AccessServiceOptions } from "./service.ts";

/** The flags of `natschat access` (names as on the command line). */
export interface AccessFlags {
  server?: string;
  "replica-id"?: string;
  creds?: string;
  "push-creds"?: string;
  "chat-signing-key"?: string;
  "operator-signing-key"?: string;
  "chat-account"?: string;
  "legacy-plaintext"?: boolean;
  "user-expiry"?: string;
  "rate-global"?: string;
  "rate-name"?: string;
  "rate-key"?: string;
  "rate-address"?: string;
  "quota-address"?: string;
  "reserved-names"?: string;
  "unused-expiry"?: string;
  "presence-period"?: string;
  "expiry-grace"?: string;
  "max-names"?: string;
  replicas?: string;
  "log-level"?: string;
  "tls-ca"?: string;
}

/** Each flag's environment variable. */
export const ACCESS_ENV: Record<keyof AccessFlags, string> = {
  server: "NATSCHAT_SERVER",
  "replica-id": "NATSCHAT_REPLICA_ID",
  creds: "NATSCHAT_ACCESS_CREDS",
  "push-creds": "NATSCHAT_PUSH_CREDS",
  "chat-signing-key": "NATSCHAT_CHAT_SIGNING_KEY",
  "operator-signing-key": "NATSCHAT_OPERATOR_SIGNING_KEY",
  "chat-account": "NATSCHAT_CHAT_ACCOUNT",
  "legacy-plaintext": "NATSCHAT_LEGACY_PLAINTEXT",
  "user-expiry": "NATSCHAT_USER_EXPIRY",
  "rate-global": "NATSCHAT_RATE_GLOBAL",
  "rate-name": "NATSCHAT_RATE_NAME",
  "rate-key": "NATSCHAT_RATE_KEY",
  "rate-address": "NATSCHAT_RATE_ADDRESS",
  "quota-address": "NATSCHAT_QUOTA_ADDRESS",
  "reserved-names": "NATSCHAT_RESERVED_NAMES",
  "unused-expiry": "NATSCHAT_UNUSED_EXPIRY",
  "presence-period": "NATSCHAT_PRESENCE_PERIOD",
  "expiry-grace": "NATSCHAT_EXPIRY_GRACE",
  "max-names": "NATSCHAT_MAX_NAMES",
  replicas: "NATSCHAT_REPLICAS",
  "log-level": "NATSCHAT_LOG_LEVEL",
  "tls-ca": "NATSCHAT_TLS_CA",
};

function invalid(message: string): AccessServiceError {
  return new AccessServiceError("CONFIG_INVALID", message);
}

/** Parses "30d", "12h", "90m", "45s" or plain seconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(text);
  if (!m) throw invalid(`${what} "${text}" is not a duration: write e.g. 30d, 12h, 90m or 3600`);
  const n = Number(m[1]);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? ""] ?? 1;
  if (n <= 0) throw invalid(`${what} must be more than 0`);
  return n * unit;
}

function parseBool(text: string, what: string): boolean {
  const t = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(t)) return true;
  if (["0", "false", "no", "off", ""].includes(t)) return false;
  throw invalid(`${what} "${text}" is not a boolean: use true or false`);
}

async function readSeedFile(path: string, kind: "A" | "O", what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new AccessServiceError(
      "KEY_UNREADABLE",
      `cannot read the ${what} ${path} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  const seed = text.trim();
  if (!new RegExp(`^S${kind}[A-Z2-7]{56}$`).test(seed)) {
    throw invalid(`${path} does not hold the ${what} (an 'S${kind}...' nkey seed)`);
  }
  return seed;
}

/** Inputs of resolveAccessConfig. */
export interface ResolveInput {
  flags: AccessFlags;
  env: Record<string, string | undefined>;
  /** The data dir; used for whatever flags and env leave open, when it is initialized. */
  dir?: string;
  /** Server URL(s) when neither --server nor NATSCHAT_SERVER is set (e.g. from up.json). */
  defaultServer?: string;
}

/** Builds the service options; errors say which flag or variable to set. */
export async function resolveAccessConfig(input: ResolveInput): Promise<AccessServiceOptions> {
  const { flags, env } = input;
  const pick = <K extends keyof AccessFlags>(k: K): string | undefined => {
    const v = flags[k];
    if (typeof v === "string") return v;
    if (v === true) return "true";
    const e = env[ACCESS_ENV[k]];
    return e === undefined || e === "" ? undefined : e;
  };
  const dir = input.dir;
  const dirReady = dir !== undefined && (await readOptional(layout(dir).trust)) !== undefined;
  const trust = dirReady && dir ? await loadTrust(dir) : undefined;
  const paths = dir ? layout(dir) : undefined;
  const need = (what: string, flag: keyof AccessFlags): never => {
    throw new AccessServiceError(
      "CONFIG_MISSING",
      `no ${what}: pass --${flag} or set ${ACCESS_ENV[flag]}${dir ? `, or run \`natschat init --dir ${dir}\`` : ""}`,
    );
  };

  const servers = (pick("server") ?? input.defaultServer ?? "nats://127.0.0.1:4222")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const accessCredsPath = pick("creds") ?? (trust && paths ? paths.creds("access") : undefined);
  if (!accessCredsPath) need("access creds", "creds");
  const pushCredsPath = pick("push-creds") ?? (trust && paths ? paths.creds("push") : undefined);
  const chatKeyPath =
    pick("chat-signing-key") ?? (trust && paths ? paths.key("CHAT-signing") : undefined);
  if (!chatKeyPath) need("CHAT signing key", "chat-signing-key");
  const opKeyPath =
    pick("operator-signing-key") ?? (trust && paths ? paths.key("operator-signing") : undefined);
  const chatAccount = pick("chat-account") ?? trust?.summary.accounts.CHAT.publicKey;
  if (!chatAccount) need("CHAT account public key", "chat-account");
  if (!isPublicKey(chatAccount as string, "A")) {
    throw invalid(
      `chat account "${chatAccount}" is not an account public key ('A...', 56 characters)`,
    );
  }

  const rate = (
    k: "rate-global" | "rate-name" | "rate-key" | "rate-address" | "quota-address",
    fallback: BucketRule,
  ) => {
    const v = pick(k);
    if (v === undefined) return fallback;
    try {
      return parseBucketRule(v, `--${k}`);
    } catch (err) {
      throw invalid((err as Error).message);
    }
  };
  const rateLimits: RateLimits = {
    global: rate("rate-global", DEFAULT_RATE_LIMITS.global),
    perAddress: rate("rate-address", DEFAULT_RATE_LIMITS.perAddress as BucketRule),
    perAddressNames: rate("quota-address", DEFAULT_RATE_LIMITS.perAddressNames as BucketRule),
    perName: rate("rate-name", DEFAULT_RATE_LIMITS.perName),
    perKey: rate("rate-key", DEFAULT_RATE_LIMITS.perKey),
  };
  const replicasText = pick("replicas");
  const replicas = replicasText === undefined ? 1 : Number(replicasText);
  if (![1, 3, 5].includes(replicas)) {
    throw invalid(`--replicas "${replicasText}" must be 1, 3 or 5 (JetStream replicas)`);
  }
  let level: ReturnType<typeof parseLogLevel> = "info";
  const levelText = pick("log-level");
  if (levelText !== undefined) {
    try {
      level = parseLogLevel(levelText);
    } catch (err) {
      throw invalid((err as Error).message);
    }
  }
  const expiry = pick("user-expiry");
  const reservedText = pick("reserved-names");
  let reservedNames: string[] | undefined;
  if (reservedText !== undefined) {
    try {
      reservedNames = [...DEFAULT_RESERVED_NAMES, ...parseReservedNames(reservedText)];
    } catch (err) {
      throw invalid(`--reserved-names: ${(err as Error).message}`);
    }
  }
  const unused = pick("unused-expiry");
  const period = pick("presence-period");
  const grace = pick("expiry-grace");
  const maxNamesText = pick("max-names");
  const maxNames = maxNamesText === undefined ? undefined : Number(maxNamesText);
  if (maxNames !== undefined && (!Number.isInteger(maxNames) || maxNames < 1)) {
    throw invalid(`--max-names "${maxNamesText}" must be a whole number from 1`);
  }
  const tlsCa = pick("tls-ca");
  const replicaId = pick("replica-id");
  if (replicaId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(replicaId)) {
    throw invalid(`--replica-id "${replicaId}" must be 1 to 64 letters, digits, '-' or '_'`);
  }
  const opts: AccessServiceOptions = {
    servers,
    accessCreds: { path: accessCredsPath as string },
    chatAccount: chatAccount as string,
    chatSigningSeed: await readSeedFile(chatKeyPath as string, "A", "CHAT signing key"),
    userExpirySeconds: expiry
      ? parseDuration(expiry, "--user-expiry")
      : DEFAULT_USER_EXPIRY_SECONDS,
    legacyPlaintext: parseBool(pick("legacy-plaintext") ?? "false", "--legacy-plaintext"),
    rateLimits,
    registryReplicas: replicas,
    ...(period ? { presencePeriodMs: parseDuration(period, "--presence-period") * 1000 } : {}),
    log: createLogger({ level }),
  };
  if (replicaId) opts.replicaId = replicaId;
  if (reservedNames) opts.reservedNames = reservedNames;
  if (unused || grace) {
    opts.expiry = {
      ...(unused ? { unusedSeconds: parseDuration(unused, "--unused-expiry") } : {}),
      ...(grace ? { graceSeconds: parseDuration(grace, "--expiry-grace") } : {}),
    };
  }
  if (maxNames !== undefined) opts.quota = { maxNames };
  if (pushCredsPath) opts.pushCreds = { path: pushCredsPath };
  if (opKeyPath) {
    opts.operatorSigningSeed = await readSeedFile(opKeyPath, "O", "operator signing key");
  }
  if (trust && paths) opts.chatJwtPath = paths.jwt("CHAT");
  if (tlsCa) opts.tlsCaFile = tlsCa;
  return opts;
}
