// The web app inside `natschat up`: builds it if needed and serves it with its runtime config
// (websocket URLs of every server, the CHAT account and signing keys, the ADMIN account, the
// public bootstrap creds), on `up --host`, over https with `up --tls`.
import { readFile } from "node:fs/promises";
import { DEFAULT_CHANNELS } from "@natschat/protocol";
import type { LoadedTrust } from "@natschat/trust";
import { type RunningWebServer, startWebServer, WebServerError } from "@natschat/web";

/** Default port of the web app. */
export const DEFAULT_WEB_PORT = 8080;

export interface WebPartOptions {
  /** Bind address (`up --host`). */
  host: string;
  /** The development TLS: the web app is then served over https. */
  tls?: { cert: string; key: string };
  port: number;
  strictPort: boolean;
  websocketUrls: string[];
  trust: LoadedTrust;
  bootstrapCredsPath: string;
  log: (line: string) => void;
}

/**
 * Starts the web server. A failed build does not stop the chat system: it returns the reason,
 * which `up` prints and records. A busy port under --strict-ports still throws.
 */
export async function startWebPart(
  opts: WebPartOptions,
): Promise<{ server: RunningWebServer } | { failed: string }> {
  const chat = opts.trust.summary.accounts.CHAT;
  const tls = opts.tls
    ? {
        certPem: await readFile(opts.tls.cert, "utf8"),
        keyPem: await readFile(opts.tls.key, "utf8"),
      }
    : undefined;
  const bootstrapCreds = await readFile(opts.bootstrapCredsPath, "utf8");
  const config = {
    websocketUrls: opts.websocketUrls,
    bootstrapCreds,
    chatAccount: chat.publicKey,
    chatSigningKeys: chat.signingKeys,
    channels: [...DEFAULT_CHANNELS],
    adminAccount: opts.trust.summary.accounts.ADMIN.publicKey,
  };
  try {
    const server = await startWebServer({
      host: opts.host,
      ...(tls ? { tls } : {}),
      port: opts.port,
      strictPort: opts.strictPort,
      config: async () => config,
      log: opts.log,
    });
    return { server };
  } catch (err) {
    if (
      err instanceof WebServerError &&
      (err.code === "WEB_BUILD_FAILED" || err.code === "WEB_BUILD_LOCKED")
    ) {
      return { failed: `[${err.code}] ${err.message}` };
    }
    throw err;
  }
}
