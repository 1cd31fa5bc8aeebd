// The NATS servers of the Kubernetes deployment as the server layer's ServerSpecs, one per pod:
// the same specs `natschat up` renders local configs from, with in-cluster names, the chart's
// standard ports and the paths where the chart and our patches mount files in the pod.
import { JETSTREAM_DOMAIN, type ServerSpec } from "@natschat/server";
import { type DeployOptions, names } from "./options.ts";

/** The chart's default ports. */
export const PORTS = {
  client: 4222,
  http: 8222,
  websocket: 8080,
  cluster: 6222,
  gateway: 7222,
  leafnode: 7422,
} as const;

/** Where files live inside a NATS pod (the chart's mount points, and ours for leaf creds). */
export const POD_PATHS = {
  store: "/data",
  resolver: "/data/resolver",
  ca: "/etc/nats-ca-cert/ca.crt",
  tlsDir: (protocol: "nats" | "cluster" | "gateway" | "leafnodes" | "websocket") =>
    `/etc/nats-certs/${protocol}`,
  leafCredsDir: "/etc/natschat-leaf",
} as const;

export const REGION_SIZE = 3;

/** What the edge's remotes bind: the CHAT and SYS account public keys. */
export interface EdgeAccounts {
  chat: string;
  /** With it, the edge gets an ADMIN remote and CHAT's imported services apply at the edge. */
  admin?: string;
  sys: string;
}

/** The service subjects CHAT imports from ADMIN: over the ADMIN remote only, never over CHAT's. */
const CHAT_IMPORTED_SERVICES = ["chat.req.access", "chat.svc.history.>", "chat.svc.directory.>"];

/** The spec of pod i of a region (0-based, as StatefulSet pods are numbered). */
export function regionPodSpec(o: DeployOptions, region: string, i: number): ServerSpec {
  const n = names(o);
  const [hub, second] = o.regions;
  const isHub = region === hub;
  const podsOf = (_region: string) => Array.from({ length: REGION_SIZE }, (_, k) => k);
  return {
    name: n.pod(region, i),
    region,
    host: "0.0.0.0",
    ports: {
      client: PORTS.client,
      http: PORTS.http,
      websocket: PORTS.websocket,
      cluster: PORTS.cluster,
      gateway: PORTS.gateway,
      leafnode: isHub ? PORTS.leafnode : undefined,
    },
    storeDir: POD_PATHS.store,
    resolverDir: POD_PATHS.resolver,
    // as the chart writes them: every pod of the region, itself included
    routes: podsOf(region).map(
      (k) =>
        `${o.tls ? "tls" : "nats"}://${n.pod(region, k)}.${n.headless(region)}:${PORTS.cluster}`,
    ),
    // one URL per pod, so that a new meta group counts every server of the other region
    gateways: [hub, second].map((r) => ({
      name: n.statefulSet(r),
      urls: podsOf(r).map((k) => `nats://${n.podFqdn(r, k)}:${PORTS.gateway}`),
    })),
    jetstream: "server",
    tls: o.tls
      ? {
          cert: `${POD_PATHS.tlsDir("nats")}/tls.crt`,
          key: `${POD_PATHS.tlsDir("nats")}/tls.key`,
          ca: POD_PATHS.ca,
        }
      : undefined,
  };
}

/** The spec of the edge server: no JetStream, CHAT, ADMIN and SYS leafnode remotes to the hub. */
export function edgePodSpec(o: DeployOptions, accounts: EdgeAccounts): ServerSpec {
  const n = names(o);
  const [hub] = o.regions;
  const urls = [`nats-leaf://${n.serviceFqdn(hub)}:${PORTS.leafnode}`];
  return {
    name: n.pod(o.edge, 0),
    region: o.edge,
    host: "0.0.0.0",
    ports: { client: PORTS.client, http: PORTS.http, websocket: PORTS.websocket },
    storeDir: POD_PATHS.store,
    resolverDir: POD_PATHS.resolver,
    leafRemotes: [
      {
        urls,
        account: accounts.chat,
        credentials: `${POD_PATHS.leafCredsDir}/leaf.creds`,
        ...(accounts.admin ? { denyExports: CHAT_IMPORTED_SERVICES } : {}),
      },
      ...(accounts.admin
        ? [
            {
              urls,
              account: accounts.admin,
              credentials: `${POD_PATHS.leafCredsDir}/leaf-admin.creds`,
            },
          ]
        : []),
      { urls, account: accounts.sys, credentials: `${POD_PATHS.leafCredsDir}/sys.creds` },
    ],
    jetstream: "none",
    tls: o.tls
      ? {
          cert: `${POD_PATHS.tlsDir("nats")}/tls.crt`,
          key: `${POD_PATHS.tlsDir("nats")}/tls.key`,
          ca: POD_PATHS.ca,
        }
      : undefined,
  };
}

/** Every pod spec: the hub's 3, the second region's 3, and the edge. */
export function allPodSpecs(o: DeployOptions, accounts: EdgeAccounts): ServerSpec[] {
  return [
    ...o.regions.flatMap((r) =>
      Array.from({ length: REGION_SIZE }, (_, i) => regionPodSpec(o, r, i)),
    ),
    edgePodSpec(o, accounts),
  ];
}

export { JETSTREAM_DOMAIN };
