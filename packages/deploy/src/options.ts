// What a Kubernetes render is made of: namespace, the two regions (hub first) and the edge, the
// image of the Node parts, TLS, and the names every other file derives from.
import { parseRegions } from "@natschat/server";
import { DeployError } from "./errors.ts";

export interface DeployOptions {
  namespace: string;
  /** [hub, second]: two clusters of 3 joined by gateways; the hub holds the JetStream state. */
  regions: [string, string];
  /** the edge server's name: one leaf server with CHAT and SYS remotes to the hub. */
  edge: string;
  /** image of the Node parts (access service, web app), built from deploy/Dockerfile. */
  image: string;
  /** TLS on every NATS listener (client, websocket, route, gateway, leafnode). */
  tls: boolean;
  /** Server certificates from cert-manager (Certificate resources) instead of the development CA. */
  certManager: boolean;
  /** The cert-manager issuer to use; without it, the render bootstraps a CA Issuer of its own. */
  certIssuer?: { kind: "Issuer" | "ClusterIssuer"; name: string };
  /** extra names and addresses the NATS certificates cover (public DNS names, load balancers). */
  publicHosts: string[];
  /** websocket URLs the browser uses (through an ingress, a load balancer or a port-forward). */
  publicWebsocketUrls: string[];
  clusterDomain: string;
  accessReplicas: number;
  /** history-service replicas (one queue group; each keeps its own index). */
  historyReplicas: number;
  webReplicas: number;
}

export const DEFAULT_DEPLOY_OPTIONS: DeployOptions = {
  namespace: "natschat",
  regions: ["east", "west"],
  edge: "edge",
  image: "natschat:0.1.0",
  tls: true,
  certManager: false,
  publicHosts: [],
  publicWebsocketUrls: ["wss://localhost:8443"],
  clusterDomain: "cluster.local",
  accessReplicas: 2,
  historyReplicas: 2,
  webReplicas: 1,
};

const DNS_LABEL = /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/;

/** Fills defaults and checks names: every name becomes part of Kubernetes object names. */
export function resolveDeployOptions(partial: Partial<DeployOptions> = {}): DeployOptions {
  const o: DeployOptions = { ...DEFAULT_DEPLOY_OPTIONS, ...partial };
  const [hub, second] = parseRegions("supercluster", o.regions) as [string, string];
  for (const [what, name] of [
    ["namespace", o.namespace],
    ["region", hub],
    ["region", second],
    ["edge", o.edge],
  ] as const) {
    if (!DNS_LABEL.test(name))
      throw new DeployError(
        "BAD_NAME",
        `${what} "${name}" is not a Kubernetes name: use lower-case letters, digits and '-', starting with a letter (at most 32)`,
      );
  }
  if (o.edge === hub || o.edge === second)
    throw new DeployError("BAD_NAME", `the edge "${o.edge}" must differ from the regions`);
  for (const [what, n] of [
    ["access replicas", o.accessReplicas],
    ["history replicas", o.historyReplicas],
    ["web replicas", o.webReplicas],
  ] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 20)
      throw new DeployError("BAD_NUMBER", `${what} must be a whole number from 1 to 20, got ${n}`);
  }
  for (const url of o.publicWebsocketUrls) {
    if (!/^wss?:\/\/[^/\s]+/.test(url))
      throw new DeployError("BAD_URL", `"${url}" is not a websocket URL: use wss://host:port`);
  }
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(o.clusterDomain))
    throw new DeployError("BAD_NAME", `cluster domain "${o.clusterDomain}" is not a DNS name`);
  if (o.certManager && !o.tls)
    throw new DeployError("BAD_OPTIONS", "cert-manager issues TLS certificates: drop --no-tls");
  if (o.certIssuer && !DNS_LABEL.test(o.certIssuer.name))
    throw new DeployError("BAD_NAME", `issuer "${o.certIssuer.name}" is not a Kubernetes name`);
  if (!/^[^\s]+$/.test(o.image))
    throw new DeployError("BAD_IMAGE", `image "${o.image}" has spaces`);
  return { ...o, regions: [hub, second] };
}

/** Names derived from the options, in one place. */
export function names(o: DeployOptions) {
  const svcSuffix = `${o.namespace}.svc.${o.clusterDomain}`;
  return {
    /** Helm release (and fullname) of a region or the edge. */
    release: (r: string) => `nats-${r}`,
    /** StatefulSet name = NATS cluster and gateway name = region. */
    statefulSet: (r: string) => r,
    headless: (r: string) => `nats-${r}-headless`,
    service: (r: string) => `nats-${r}`,
    serviceFqdn: (r: string) => `nats-${r}.${svcSuffix}`,
    pod: (r: string, i: number) => `${r}-${i}`,
    podFqdn: (r: string, i: number) => `${r}-${i}.nats-${r}-headless.${svcSuffix}`,
    tlsSecret: (r: string) => `nats-${r}-tls`,
    caSecret: "natschat-ca",
    accessSecret: "natschat-access",
    historySecret: "natschat-history",
    webSecret: "natschat-web",
    leafSecret: "natschat-leaf",
    access: "natschat-access",
    history: "natschat-history",
    web: "natschat-web",
  };
}

/** Every DNS name a region's (or the edge's) NATS certificate must cover. */
export function certificateHosts(o: DeployOptions, r: string): string[] {
  const n = names(o);
  const svc = n.service(r);
  const headless = n.headless(r);
  return [
    svc,
    `${svc}.${o.namespace}`,
    `${svc}.${o.namespace}.svc`,
    n.serviceFqdn(r),
    `*.${headless}`,
    `*.${headless}.${o.namespace}`,
    `*.${headless}.${o.namespace}.svc`,
    `*.${headless}.${o.namespace}.svc.${o.clusterDomain}`,
    "localhost",
    "127.0.0.1",
    ...o.publicHosts,
  ];
}
