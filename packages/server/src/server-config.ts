// Renders one nats-server config: operator mode, full nats-resolver with preload, JetStream,
// client/websocket/monitoring listeners, and optional cluster, gateway, leafnode and TLS blocks.
import { type ConfValue, renderConf } from "./conf.ts";

/** The trust material every server needs (produced by the trust layer). */
export interface ResolverTrust {
  operatorJwt: string;
  systemAccount: string;
  /** account public key → account JWT, preloaded into the resolver. */
  preload: Record<string, string>;
}

export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

/** One leafnode remote of an edge server: the hub URLs, the local account it binds, its creds. */
export interface LeafRemote {
  urls: string[];
  account: string;
  credentials: string;
  /** Subjects this edge does not send to the hub over this remote (nats-server deny_exports). */
  denyExports?: string[];
}

/**
 * The JetStream domain of the hub (every JetStream server of a topology). Clients anywhere may
 * address it as `$JS.hub.API`; clients at the edge must.
 */
export const JETSTREAM_DOMAIN = "hub";

/** Everything that distinguishes one server of a topology. */
export interface ServerSpec {
  name: string;
  /** region (cluster name); single servers use "local". */
  region: string;
  host: string;
  ports: {
    client: number;
    http: number;
    websocket: number;
    cluster?: number;
    gateway?: number;
    leafnode?: number;
  };
  storeDir: string;
  resolverDir: string;
  routes?: string[];
  gateways?: { name: string; urls: string[] }[];
  leafRemotes?: LeafRemote[];
  /**
   * "server": this server stores streams, in domain JETSTREAM_DOMAIN (every hub server).
   * "none": no JetStream here (the edge). Its clients reach the hub's streams through the CHAT
   * leafnode with the domain prefix ($JS.hub.API.>, `jetstream(nc, {domain: "hub"})`): the
   * server blocks the plain $JS.API.> on leafnode connections.
   */
  jetstream: "server" | "none";
  tls?: TlsFiles;
}

/** JetStream memory and file limits of each server: above the sum of the account limits. */
export const JETSTREAM_LIMITS = { maxMemory: 1024 * 1024 * 1024, maxFile: 8 * 1024 * 1024 * 1024 };

function tlsBlock(
  tls: TlsFiles | undefined,
  extra: Record<string, ConfValue> = {},
): ConfValue | undefined {
  return tls ? { cert_file: tls.cert, key_file: tls.key, ca_file: tls.ca, ...extra } : undefined;
}

/** Renders the config file text for one server. */
export function renderServerConfig(
  spec: ServerSpec,
  trust: ResolverTrust,
  adjust: (spec: ServerSpec, settings: ServerSettings) => ServerSettings = (_, s) => s,
): string {
  return renderConf(
    adjust(spec, serverSettings(spec, trust)),
    `natschat: ${spec.name} (${spec.region})`,
  );
}

/** A server's settings before rendering: the top-level blocks of its config file. */
export type ServerSettings = Record<string, ConfValue | undefined>;

/**
 * The settings of one server as a plain object: the one source that the local config files and
 * the Kubernetes (Helm) values are both rendered from.
 */
export function serverSettings(spec: ServerSpec, trust: ResolverTrust): ServerSettings {
  const { ports, tls } = spec;
  const settings: Record<string, ConfValue | undefined> = {
    server_name: spec.name,
    listen: `${spec.host}:${ports.client}`,
    http: `${spec.host}:${ports.http}`,
    max_payload: 1048576,
    tls: tlsBlock(tls, { timeout: 2 }),
    websocket: {
      listen: `${spec.host}:${ports.websocket}`,
      no_tls: tls ? undefined : true,
      tls: tlsBlock(tls),
      compression: false,
    },
    jetstream:
      spec.jetstream === "server"
        ? {
            store_dir: spec.storeDir,
            max_memory_store: JETSTREAM_LIMITS.maxMemory,
            max_file_store: JETSTREAM_LIMITS.maxFile,
            domain: JETSTREAM_DOMAIN,
          }
        : undefined,
    operator: trust.operatorJwt,
    system_account: trust.systemAccount,
    resolver: {
      type: "full",
      dir: spec.resolverDir,
      allow_delete: false,
      // How often full resolvers compare and exchange account JWTs. A server cut off while a
      // revocation was pushed (an edge, another region) gets it at the next sync after the link
      // returns, so this bounds that window (packages/e2e/test/fault-leaf-link.test.ts).
      interval: "10s",
      timeout: "2s",
    },
    resolver_preload: trust.preload,
  };
  if (ports.cluster !== undefined) {
    settings.cluster = {
      name: spec.region,
      listen: `${spec.host}:${ports.cluster}`,
      routes: spec.routes ?? [],
      tls: tlsBlock(tls, { timeout: 2 }),
    };
  }
  if (ports.gateway !== undefined) {
    settings.gateway = {
      name: spec.region,
      listen: `${spec.host}:${ports.gateway}`,
      gateways: (spec.gateways ?? []).map((g) => ({ name: g.name, urls: g.urls })),
      tls: tlsBlock(tls, { timeout: 2 }),
    };
  }
  if (ports.leafnode !== undefined || spec.leafRemotes) {
    settings.leafnodes = {
      listen: ports.leafnode !== undefined ? `${spec.host}:${ports.leafnode}` : undefined,
      tls: ports.leafnode !== undefined ? tlsBlock(tls, { timeout: 2 }) : undefined,
      remotes: spec.leafRemotes?.map((r) => ({
        urls: r.urls,
        account: r.account,
        credentials: r.credentials,
        deny_exports: r.denyExports?.length ? r.denyExports : undefined,
        tls: tls ? { ca_file: tls.ca } : undefined,
      })),
    };
  }
  return settings;
}
