// Values for the official NATS Helm chart (nats-io/k8s, chart 2.x): one release per region and
// one for the edge. Everything a server needs beyond the chart's own keys is taken from
// serverSettings() of the pod specs (the source of the local configs too) and handed to the
// chart's merge keys: operator, system_account and resolver_preload in config.merge, the gateway
// list in config.gateway.merge, the JetStream domain in config.jetstream.merge, the edge's
// leafnode remotes in config.merge.leafnodes.
import { type ConfValue, type ResolverTrust, serverSettings } from "@natschat/server";
import { metaCheckJob } from "./meta-check-job.ts";
import { type DeployOptions, names } from "./options.ts";
import {
  type EdgeAccounts,
  edgePodSpec,
  POD_PATHS,
  PORTS,
  REGION_SIZE,
  regionPodSpec,
} from "./specs.ts";

/** A values document (YAML-serializable). */
export type Values = { [key: string]: unknown };

/** The chart version whose values keys these are checked against (deploy/test-data). */
export const NATS_CHART_VERSION = "2.14.2";

/**
 * The nats-server version every test runs (the project's .cache binary): the image is pinned to
 * it, not left to the chart's default (chart 2.14.2 would deploy nats:2.14.2-alpine).
 */
export const NATS_SERVER_VERSION = "2.10.27";

type Protocol = "nats" | "cluster" | "gateway" | "leafnodes" | "websocket";

function block(
  settings: Record<string, ConfValue | undefined>,
  key: string,
): Record<string, ConfValue> {
  const v = settings[key];
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, ConfValue>) : {};
}

function tlsValues(o: DeployOptions, region: string, protocol: Protocol): Values {
  if (!o.tls) return { enabled: false };
  return {
    enabled: true,
    secretName: names(o).tlsSecret(region),
    dir: POD_PATHS.tlsDir(protocol),
    ...(protocol === "websocket" ? {} : { merge: { timeout: 2 } }),
  };
}

/** The settings every server shares: trust (operator mode, full resolver with preload). */
function trustMerge(settings: Record<string, ConfValue | undefined>): Values {
  return {
    operator: settings.operator,
    system_account: settings.system_account,
    resolver_preload: settings.resolver_preload,
    max_payload: settings.max_payload,
  };
}

function resolverValues(settings: Record<string, ConfValue | undefined>): Values {
  const { dir: _dir, ...rest } = block(settings, "resolver");
  return {
    enabled: true,
    dir: POD_PATHS.resolver,
    pvc: { enabled: true, size: "1Gi" },
    merge: rest,
  };
}

const NATS_IMAGE = { repository: "nats", tag: `${NATS_SERVER_VERSION}-alpine` };

function common(o: DeployOptions, region: string): Values {
  const n = names(o);
  return {
    fullnameOverride: n.release(region),
    statefulSet: { name: n.statefulSet(region) },
    container: { image: NATS_IMAGE },
    tlsCA: o.tls
      ? {
          enabled: true,
          // cert-manager puts the issuing CA into each certificate's Secret as ca.crt
          secretName: o.certManager ? n.tlsSecret(region) : n.caSecret,
          dir: "/etc/nats-ca-cert",
          key: "ca.crt",
        }
      : { enabled: false },
    // nats-box would need creds of its own in operator mode; `natschat` verbs do its job
    natsBox: { enabled: false },
  };
}

/** Values of one region's release: a cluster of 3 with gateways, JetStream in the hub domain. */
export function regionValues(o: DeployOptions, trust: ResolverTrust, region: string): Values {
  const settings = serverSettings(regionPodSpec(o, region, 0), trust);
  const isHub = region === o.regions[0];
  const jetstream = block(settings, "jetstream");
  const gateway = block(settings, "gateway");
  const websocket = block(settings, "websocket");
  return {
    ...common(o, region),
    config: {
      nats: { port: PORTS.client, tls: tlsValues(o, region, "nats") },
      cluster: {
        enabled: true,
        port: PORTS.cluster,
        replicas: REGION_SIZE,
        tls: tlsValues(o, region, "cluster"),
      },
      gateway: {
        enabled: true,
        port: PORTS.gateway,
        tls: tlsValues(o, region, "gateway"),
        merge: { gateways: gateway.gateways },
      },
      // only the hub accepts leafnodes: the edge's remotes point at it
      leafnodes: isHub
        ? { enabled: true, port: PORTS.leafnode, tls: tlsValues(o, region, "leafnodes") }
        : { enabled: false },
      websocket: {
        enabled: true,
        port: PORTS.websocket,
        tls: tlsValues(o, region, "websocket"),
        merge: { compression: websocket.compression },
      },
      monitor: { enabled: true, port: PORTS.http },
      jetstream: {
        enabled: true,
        fileStore: { enabled: true, dir: POD_PATHS.store, pvc: { enabled: true, size: "10Gi" } },
        memoryStore: { enabled: true, maxSize: "1Gi" },
        merge: { domain: jetstream.domain },
      },
      resolver: resolverValues(settings),
      merge: trustMerge(settings),
    },
    extraResources: [metaCheckJob(o, region)],
  };
}

/** Values of the edge's release: one server, no JetStream, CHAT and SYS remotes to the hub. */
export function edgeValues(o: DeployOptions, trust: ResolverTrust, accounts: EdgeAccounts): Values {
  const n = names(o);
  const settings = serverSettings(edgePodSpec(o, accounts), trust);
  const websocket = block(settings, "websocket");
  const leafnodes = block(settings, "leafnodes");
  const volume = "natschat-leaf";
  return {
    ...common(o, o.edge),
    config: {
      nats: { port: PORTS.client, tls: tlsValues(o, o.edge, "nats") },
      cluster: { enabled: false },
      gateway: { enabled: false },
      // no leafnode listener: the remotes (in merge) dial the hub
      leafnodes: { enabled: false },
      websocket: {
        enabled: true,
        port: PORTS.websocket,
        tls: tlsValues(o, o.edge, "websocket"),
        merge: { compression: websocket.compression },
      },
      monitor: { enabled: true, port: PORTS.http },
      jetstream: { enabled: false },
      resolver: resolverValues(settings),
      merge: { ...trustMerge(settings), leafnodes: { remotes: leafnodes.remotes } },
    },
    // the leaf and sys creds come from a Secret, mounted read-only where the remotes expect them
    podTemplate: {
      patch: [
        {
          op: "add",
          path: "/spec/volumes/-",
          value: { name: volume, secret: { secretName: n.leafSecret, defaultMode: 0o400 } },
        },
      ],
    },
    container: {
      image: NATS_IMAGE,
      patch: [
        {
          op: "add",
          path: "/volumeMounts/-",
          value: { name: volume, mountPath: POD_PATHS.leafCredsDir, readOnly: true },
        },
      ],
    },
  };
}
