// The NATS servers of the Kubernetes deployment as the server layer's ServerSpecs, one per pod:
// the server layer's layout (layoutServers, which `natschat up` plans from too) resolved to
// in-cluster names, the chart's standard ports and the paths where the chart and our patches
// mount files in the pod.
import {
  JETSTREAM_DOMAIN,
  type LayoutServer,
  type LayoutShape,
  layoutServers,
  type ServerSpec,
} from "@natschat/server";
import { DeployError } from "./errors.ts";
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

/** The deployment's layout: the two regions of 3 joined by gateways, and the edge. */
export function deploymentShape(o: DeployOptions): LayoutShape {
  return {
    regions: o.regions.map((name) => ({ name, size: REGION_SIZE })),
    gateways: true,
    edge: o.edge,
  };
}

/** A layout server as a pod: in-cluster names, the chart's ports, the pod's mount points. */
function podSpec(o: DeployOptions, s: LayoutServer, accounts?: EdgeAccounts): ServerSpec {
  const n = names(o);
  const spec: ServerSpec = {
    name: n.pod(s.region, s.index),
    region: s.region,
    host: "0.0.0.0",
    ports: {
      client: PORTS.client,
      http: PORTS.http,
      websocket: PORTS.websocket,
      ...(s.listeners.cluster ? { cluster: PORTS.cluster } : {}),
      ...(s.listeners.gateway ? { gateway: PORTS.gateway } : {}),
      ...(s.listeners.leafnode ? { leafnode: PORTS.leafnode } : {}),
    },
    storeDir: POD_PATHS.store,
    resolverDir: POD_PATHS.resolver,
    jetstream: s.jetstream,
    tls: o.tls
      ? {
          cert: `${POD_PATHS.tlsDir("nats")}/tls.crt`,
          key: `${POD_PATHS.tlsDir("nats")}/tls.key`,
          ca: POD_PATHS.ca,
        }
      : undefined,
  };
  // as the chart writes them: short headless names
  if (s.routes)
    spec.routes = s.routes.map(
      (p) =>
        `${o.tls ? "tls" : "nats"}://${n.pod(p.region, p.index)}.${n.headless(p.region)}:${PORTS.cluster}`,
    );
  // one URL per pod, so that a new meta group counts every server of the other region
  if (s.gateways)
    spec.gateways = s.gateways.map((g) => ({
      name: n.statefulSet(g.region),
      urls: g.servers.map((p) => `nats://${n.podFqdn(p.region, p.index)}:${PORTS.gateway}`),
    }));
  if (s.leafTo) {
    if (!accounts)
      throw new DeployError("INPUT_MISSING", "the edge's pod spec needs the accounts it binds");
    // the hub's Service stands for its pods: it reaches a ready one
    const urls = [
      ...new Set(s.leafTo.map((p) => `nats-leaf://${n.serviceFqdn(p.region)}:${PORTS.leafnode}`)),
    ];
    spec.leafRemotes = [
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
    ];
  }
  return spec;
}

/** Every pod spec: the hub's 3, the second region's 3, and the edge. */
export function allPodSpecs(o: DeployOptions, accounts: EdgeAccounts): ServerSpec[] {
  return layoutServers(deploymentShape(o)).map((s) => podSpec(o, s, accounts));
}

/** The spec of pod i of a region (0-based, as StatefulSet pods are numbered). */
export function regionPodSpec(o: DeployOptions, region: string, i: number): ServerSpec {
  const s = layoutServers(deploymentShape(o)).find((x) => x.region === region && x.index === i);
  if (!s || s.jetstream === "none")
    throw new DeployError("BAD_NAME", `no pod ${i} in region "${region}"`);
  return podSpec(o, s);
}

/** The spec of the edge server: no JetStream, CHAT, ADMIN and SYS leafnode remotes to the hub. */
export function edgePodSpec(o: DeployOptions, accounts: EdgeAccounts): ServerSpec {
  const s = layoutServers(deploymentShape(o)).find((x) => x.leafTo);
  if (!s) throw new DeployError("BAD_NAME", "the deployment has no edge");
  return podSpec(o, s, accounts);
}

export { JETSTREAM_DOMAIN };
