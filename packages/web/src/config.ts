// The runtime config of the web app, served as GET /config.json by the server that serves the
// app (never baked in at build time). Shared by the Node server that writes it and the browser
// that parses it at the edge.

/** What the browser needs to know to register, chat and verify identities. */
export interface WebRuntimeConfig {
  /** Websocket URLs of the NATS servers, e.g. ["ws://127.0.0.1:9222"]. */
  websocketUrls: string[];
  /** The public bootstrap creds: they may only request access (public by design). */
  bootstrapCreds: string;
  /** The CHAT account public key ('A...'). */
  chatAccount: string;
  /** The CHAT account's signing keys: the only keys that may issue chat users. */
  chatSigningKeys: string[];
  /** Channels every chat starts with. */
  channels: string[];
  /** The ADMIN account public key: the admin page checks that loaded creds are its users. */
  adminAccount?: string;
  /**
   * JetStream domain of the history streams ("hub" in every natschat topology). Needed when the
   * websocket URLs are edge (leaf) servers, which have no JetStream of their own.
   */
}

/** A config that does not have the expected shape. */
export class RuntimeConfigError extends Error {
  override name = "RuntimeConfigError";
  readonly code = "WEB_CONFIG_INVALID";
}

function strings(value: unknown, field: string, min = 1): string[] {
  if (
    !Array.isArray(value) ||
    value.length < min ||
    !value.every((v) => typeof v === "string" && v.length > 0)
  ) {
    throw new RuntimeConfigError(`config.json: "${field}" must be a list of non-empty strings`);
  }
  return value as string[];
}

/** Parses the JSON of /config.json into a typed config; throws RuntimeConfigError naming the field. */
export function parseRuntimeConfig(json: unknown): WebRuntimeConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new RuntimeConfigError("config.json is not a JSON object");
  }
  const o = json as Record<string, unknown>;
  const websocketUrls = strings(o.websocketUrls, "websocketUrls");
  for (const url of websocketUrls) {
    if (!/^wss?:\/\//.test(url)) {
      throw new RuntimeConfigError(
        `config.json: websocket URL "${url}" must start with ws:// or wss://`,
      );
    }
  }
  if (typeof o.bootstrapCreds !== "string" || !o.bootstrapCreds.includes("NATS USER JWT")) {
    throw new RuntimeConfigError('config.json: "bootstrapCreds" must hold a creds file');
  }
  if (typeof o.chatAccount !== "string" || !/^A[A-Z2-7]{55}$/.test(o.chatAccount)) {
    throw new RuntimeConfigError('config.json: "chatAccount" must be an account public key');
  }
  const chatSigningKeys = strings(o.chatSigningKeys, "chatSigningKeys");
  const channels = strings(o.channels, "channels");
  if (
    o.adminAccount !== undefined &&
    (typeof o.adminAccount !== "string" || !/^A[A-Z2-7]{55}$/.test(o.adminAccount))
  ) {
    throw new RuntimeConfigError('config.json: "adminAccount" must be an account public key');
  }
  return {
    websocketUrls,
    bootstrapCreds: o.bootstrapCreds,
    chatAccount: o.chatAccount,
    chatSigningKeys,
    channels,
    ...(o.adminAccount !== undefined ? { adminAccount: o.adminAccount } : {}),
  };
}
