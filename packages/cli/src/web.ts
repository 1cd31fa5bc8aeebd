// `natschat web`: serves the web app and its runtime config on its own, as the Kubernetes web
// Deployment runs it (`natschat up` serves it in-process). Everything comes from flags, then
// NATSCHAT_* variables (mounted Secrets in Kubernetes), then the data dir and up.json.
import { readFile } from "node:fs/promises";
import { DEFAULT_CHANNELS } from "@natschat/protocol";
import { layout, loadTrust, readOptional } from "@natschat/trust";
import { parseRuntimeConfig, startWebServer, type WebRuntimeConfig } from "@natschat/web";
import { parsePort, parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";
import { readUpState } from "./up-state.ts";

const ENV = {
  "ws-url": "NATSCHAT_WEB_WS_URLS",
  "bootstrap-creds": "NATSCHAT_BOOTSTRAP_CREDS",
  "chat-account": "NATSCHAT_CHAT_ACCOUNT",
  "chat-signing-keys": "NATSCHAT_CHAT_SIGNING_KEYS",
} as const;

const USAGE = [
  "natschat web [--dir DIR] [--host ADDR] [--port N] [--ws-url URL[,URL]]",
  "  [--bootstrap-creds FILE] [--chat-account KEY] [--chat-signing-keys KEY[,KEY]]",
  `  env: ${Object.values(ENV).join(", ")}`,
].join("\n");

const list = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** The runtime config from flags, env, then the data dir; says what is missing. */
async function runtimeConfig(
  dir: string,
  flags: Partial<Record<keyof typeof ENV, string>>,
): Promise<WebRuntimeConfig> {
  const pick = (k: keyof typeof ENV) => flags[k] ?? (process.env[ENV[k]] || undefined);
  const paths = layout(dir);
  const haveDir = (await readOptional(paths.trust)) !== undefined;
  const trust = haveDir ? await loadTrust(dir) : undefined;
  const need = (what: string, k: keyof typeof ENV): never => {
    throw new UsageError(
      `no ${what}: pass --${k} or set ${ENV[k]} (or run in an initialized --dir)`,
    );
  };
  const wsUrls = list(pick("ws-url"));
  if (wsUrls.length === 0) {
    const up = await readUpState(dir);
    if (up) wsUrls.push(...up.servers.map((s) => s.websocket));
  }
  if (wsUrls.length === 0) need("websocket URL", "ws-url");
  const credsPath = pick("bootstrap-creds") ?? (trust ? paths.creds("bootstrap") : undefined);
  if (!credsPath) need("bootstrap creds", "bootstrap-creds");
  let bootstrapCreds: string;
  try {
    bootstrapCreds = await readFile(credsPath as string, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read the bootstrap creds ${credsPath} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  const chatAccount = pick("chat-account") ?? trust?.summary.accounts.CHAT.publicKey;
  if (!chatAccount) need("CHAT account public key", "chat-account");
  const keys = list(pick("chat-signing-keys"));
  const chatSigningKeys = keys.length ? keys : (trust?.summary.accounts.CHAT.signingKeys ?? []);
  if (chatSigningKeys.length === 0) need("CHAT signing keys", "chat-signing-keys");
  // the same checks the browser makes: a bad value fails here, at start-up
  return parseRuntimeConfig({
    websocketUrls: wsUrls,
    bootstrapCreds,
    chatAccount,
    chatSigningKeys,
    channels: [...DEFAULT_CHANNELS],
  });
}

export async function webVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    {
      host: { type: "string" },
      port: { type: "string" },
      "ws-url": { type: "string" },
      "bootstrap-creds": { type: "string" },
      "chat-account": { type: "string" },
      "chat-signing-keys": { type: "string" },
    },
    USAGE,
  );
  const config = await runtimeConfig(flags.dir, flags);
  const server = await startWebServer({
    host: flags.host ?? "127.0.0.1",
    port: parsePort(flags.port, "port") ?? 8080,
    strictPort: true,
    config: async () => config,
    log: (line) => console.log(line),
  });
  console.log(`web app on ${server.url} (websockets: ${config.websocketUrls.join(", ")})`);
  await new Promise<void>((resolve) => {
    const onSignal = () => void server.stop().then(resolve);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  });
  return 0;
}
