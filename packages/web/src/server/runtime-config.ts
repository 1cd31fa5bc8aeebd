// Builds the web runtime config (GET /config.json) from a data directory: the websocket URLs and
// the JetStream domain from DIR/up.json, the CHAT account and its signing keys from DIR/trust.json, and the public
// bootstrap creds from DIR/creds/bootstrap.creds. Nothing secret: no seed but the bootstrap one,
// which is public by design (it may only request access).
import { readFile } from "node:fs/promises";
import { DEFAULT_CHANNELS } from "@natschat/protocol";
import { layout } from "@natschat/trust";
import type { WebRuntimeConfig } from "../config.ts";
import { WebServerError } from "./errors.ts";

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "EUNKNOWN";
    throw new WebServerError(
      "WEB_CONFIG_MISSING",
      `cannot read ${what} ${path} (${code}); run \`natschat up\` for this data directory first`,
    );
  }
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  const text = await readText(path, what);
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null) return value as Record<string, unknown>;
  } catch {
    // reported below with the file's name
  }
  throw new WebServerError("WEB_CONFIG_MISSING", `${what} ${path} is not a JSON object`);
}

/** The CHAT account and its signing keys, from a trust.json summary. */
export function chatTrustFromSummary(summary: Record<string, unknown>): {
  chatAccount: string;
  chatSigningKeys: string[];
  adminAccount?: string;
} {
  const accounts = summary.accounts as Record<string, unknown> | undefined;
  const chat = accounts?.CHAT as { publicKey?: unknown; signingKeys?: unknown } | undefined;
  if (
    typeof chat?.publicKey !== "string" ||
    !Array.isArray(chat.signingKeys) ||
    !chat.signingKeys.every((k) => typeof k === "string")
  ) {
    throw new WebServerError(
      "WEB_CONFIG_MISSING",
      "trust.json has no CHAT account with signing keys; run `natschat init`",
    );
  }
  const admin = accounts?.ADMIN as { publicKey?: unknown } | undefined;
  return {
    chatAccount: chat.publicKey,
    chatSigningKeys: chat.signingKeys as string[],
    ...(typeof admin?.publicKey === "string" ? { adminAccount: admin.publicKey } : {}),
  };
}

/** Reads the runtime config from the data directory of a running `natschat up`. */
export async function runtimeConfigFromDir(
  dir: string,
  opts: { channels?: readonly string[] } = {},
): Promise<WebRuntimeConfig> {
  const paths = layout(dir);
  const up = await readJson(paths.upJson, "the up state");
  const servers = Array.isArray(up.servers) ? (up.servers as { websocket?: unknown }[]) : [];
  const websocketUrls = servers
    .map((s) => s.websocket)
    .filter((u): u is string => typeof u === "string");
  if (websocketUrls.length === 0 && typeof up.websocket === "string")
    websocketUrls.push(up.websocket);
  if (websocketUrls.length === 0) {
    throw new WebServerError("WEB_CONFIG_MISSING", `${paths.upJson} names no websocket URL`);
  }
  return {
    websocketUrls,
    bootstrapCreds: await readText(paths.creds("bootstrap"), "the bootstrap creds"),
    ...chatTrustFromSummary(await readJson(paths.trust, "the trust summary")),
    channels: [...(opts.channels ?? DEFAULT_CHANNELS)],
  };
}
