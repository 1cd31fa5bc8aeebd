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

export interface LeafRemote {
  url: string;
  account: string;
  credentials: string;
}

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
  /** JetStream domain, set for leaf servers so their JetStream stays local to the edge. */
  jetstreamDomain?: string;
  tls?: TlsFiles;
}

function tlsBlock(
  tls: TlsFiles | undefined,
  extra: Record<string, ConfValue> = {},
): ConfValue | undefined {
  return tls ? { cert_file: tls.cert, key_file: tls.key, ca_file: tls.ca, ...extra } : undefined;
}

/** Renders the config file text for one server. */
export function renderServerConfig(spec: ServerSpec, trust: ResolverTrust): string {
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
    jetstream: {
      store_dir: spec.storeDir,
      max_memory_store: 268435456,
      max_file_store: 2147483648,
      domain: spec.jetstreamDomain,
    },
    operator: trust.operatorJwt,
    system_account: trust.systemAccount,
    resolver: {
      type: "full",
      dir: spec.resolverDir,
      allow_delete: false,
      interval: "2m",
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
        url: r.url,
        account: r.account,
        credentials: r.credentials,
        tls: tls ? { ca_file: tls.ca } : undefined,
      })),
    };
  }
  return renderConf(settings, `natschat: ${spec.name} (${spec.region})`);
}
