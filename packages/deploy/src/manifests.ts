// Kubernetes manifests of the Node parts: the access and history services (Deployments of 2
// replicas each) and the web app (a Deployment and a Service), and the Secrets they and the NATS releases mount. Secrets
// are made by kustomize's secretGenerator from files the render writes (0600) under k8s/secrets:
// no seed, creds or private key is ever written into a manifest, a ConfigMap or Helm values.
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { ISecret } from "kubernetes-models/v1/Secret";
import type { IService } from "kubernetes-models/v1/Service";
import { type DeployOptions, names } from "./options.ts";

/** One Secret of the render: its name, type and the files (key → file under k8s/secrets). */
export interface SecretSpec {
  name: string;
  type: "Opaque" | "kubernetes.io/tls";
  files: Record<string, string>;
}

/** Where the access and web containers find their mounted secrets. */
export const APP_PATHS = {
  access: "/etc/natschat/access",
  history: "/etc/natschat/history",
  web: "/etc/natschat/web",
  ca: "/etc/natschat/ca",
} as const;

/** The chat's public identifiers the Node parts need (no secret in here). */
export interface PublicTrust {
  chatAccount: string;
  chatSigningKeys: string[];
}

/** The Secrets: creds and signing keys of the Node parts, leaf creds of the edge, TLS. */
export function secretSpecs(o: DeployOptions): SecretSpec[] {
  const n = names(o);
  const specs: SecretSpec[] = [
    {
      name: n.accessSecret,
      type: "Opaque",
      files: {
        "access.creds": "access.creds",
        "push.creds": "push.creds",
        "chat-signing.nk": "chat-signing.nk",
        "operator-signing.nk": "operator-signing.nk",
      },
    },
    // the history service's two role users (CHAT writer, ADMIN readers); no signing key
    {
      name: n.historySecret,
      type: "Opaque",
      files: { "history.creds": "history.creds", "history-api.creds": "history-api.creds" },
    },
    // the bootstrap creds are public by design (they may only request access), but they hold a
    // seed, and seeds live in Secrets
    { name: n.webSecret, type: "Opaque", files: { "bootstrap.creds": "bootstrap.creds" } },
    {
      name: n.leafSecret,
      type: "Opaque",
      files: {
        "leaf.creds": "leaf.creds",
        "leaf-admin.creds": "leaf-admin.creds",
        "sys.creds": "sys.creds",
      },
    },
  ];
  if (o.tls && !o.certManager) {
    specs.push({ name: n.caSecret, type: "Opaque", files: { "ca.crt": "ca.crt" } });
    for (const r of [...o.regions, o.edge]) {
      specs.push({
        name: n.tlsSecret(r),
        type: "kubernetes.io/tls",
        files: { "tls.crt": `${r}-tls.crt`, "tls.key": `${r}-tls.key` },
      });
    }
  }
  return specs;
}

const labels = (app: string) => ({
  "app.kubernetes.io/name": app,
  "app.kubernetes.io/part-of": "natschat",
});

export function namespaceManifest(o: DeployOptions): INamespace {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: o.namespace, labels: labels("natschat") },
  };
}

const securityContext = {
  runAsNonRoot: true,
  runAsUser: 1000,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
};

/** What differs between the service Deployments (access, history). */
interface ServiceSpec {
  name: string;
  /** the `natschat` verb the container runs. */
  verb: string;
  replicas: number;
  /** NATSCHAT_* variables beyond the server URL, the replica id, the replicas and the CA. */
  env: { name: string; value: string }[];
  secretName: string;
  secretPath: string;
  resources: { requests: { cpu: string; memory: string }; limits: { memory: string } };
}

/**
 * A service replica set: a queue group connected to the hub region, its creds from a Secret
 * mounted read-only, R3 for the state it creates (created through the hub, so placed there).
 */
function serviceDeployment(o: DeployOptions, s: ServiceSpec): IDeployment {
  const n = names(o);
  const [hub] = o.regions;
  const scheme = o.tls ? "tls" : "nats";
  const env = [
    { name: "NATSCHAT_SERVER", value: `${scheme}://${n.serviceFqdn(hub)}:4222` },
    { name: "NATSCHAT_REPLICA_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ...s.env,
    { name: "NATSCHAT_REPLICAS", value: "3" },
    ...(o.tls ? [{ name: "NATSCHAT_TLS_CA", value: `${APP_PATHS.ca}/ca.crt` }] : []),
  ];
  const volume = `${s.verb}-secrets`;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: s.name, namespace: o.namespace, labels: labels(s.name) },
    spec: {
      replicas: s.replicas,
      selector: { matchLabels: labels(s.name) },
      template: {
        metadata: { labels: labels(s.name) },
        spec: {
          containers: [
            {
              name: s.verb,
              image: o.image,
              args: [s.verb],
              env,
              volumeMounts: [
                { name: volume, mountPath: s.secretPath, readOnly: true },
                ...(o.tls ? [{ name: "ca", mountPath: APP_PATHS.ca, readOnly: true }] : []),
              ],
              resources: s.resources,
              securityContext,
            },
          ],
          volumes: [
            // 0440: owned by root, readable through fsGroup by the node user (uid 1000)
            { name: volume, secret: { secretName: s.secretName, defaultMode: 0o440 } },
            ...(o.tls ? [{ name: "ca", secret: caSecretSource(o) }] : []),
          ],
          securityContext: { fsGroup: 1000 },
        },
      },
    },
  };
}

/** Where the service pods read the CA: the development CA's Secret, or ca.crt of the hub's certificate. */
function caSecretSource(o: DeployOptions): {
  secretName: string;
  items?: { key: string; path: string }[];
} {
  const n = names(o);
  if (!o.certManager) return { secretName: n.caSecret };
  // only the CA certificate of that Secret, never its private key
  return { secretName: n.tlsSecret(o.regions[0]), items: [{ key: "ca.crt", path: "ca.crt" }] };
}

/** The access service: 2 replicas (a queue group), connected to the hub region. */
export function accessDeployment(o: DeployOptions, pub: PublicTrust): IDeployment {
  const n = names(o);
  return serviceDeployment(o, {
    name: n.access,
    verb: "access",
    replicas: o.accessReplicas,
    env: [
      { name: "NATSCHAT_ACCESS_CREDS", value: `${APP_PATHS.access}/access.creds` },
      { name: "NATSCHAT_PUSH_CREDS", value: `${APP_PATHS.access}/push.creds` },
      { name: "NATSCHAT_CHAT_SIGNING_KEY", value: `${APP_PATHS.access}/chat-signing.nk` },
      { name: "NATSCHAT_OPERATOR_SIGNING_KEY", value: `${APP_PATHS.access}/operator-signing.nk` },
      { name: "NATSCHAT_CHAT_ACCOUNT", value: pub.chatAccount },
    ],
    secretName: n.accessSecret,
    secretPath: APP_PATHS.access,
    resources: { requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "256Mi" } },
  });
}

/** The history service: a queue group of replicas connected to the hub region (R3 stores). */
export function historyDeployment(o: DeployOptions, pub: PublicTrust): IDeployment {
  const n = names(o);
  return serviceDeployment(o, {
    name: n.history,
    verb: "history",
    replicas: o.historyReplicas,
    env: [
      { name: "NATSCHAT_HISTORY_CREDS", value: `${APP_PATHS.history}/history.creds` },
      { name: "NATSCHAT_HISTORY_API_CREDS", value: `${APP_PATHS.history}/history-api.creds` },
      { name: "NATSCHAT_CHAT_ACCOUNT", value: pub.chatAccount },
    ],
    secretName: n.historySecret,
    secretPath: APP_PATHS.history,
    // the index holds a few numbers per stored message
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
  });
}

/** The web app: static files and /config.json, served by `natschat web`. */
export function webDeployment(o: DeployOptions, pub: PublicTrust): IDeployment {
  const n = names(o);
  const env = [
    { name: "NATSCHAT_WEB_WS_URLS", value: o.publicWebsocketUrls.join(",") },
    { name: "NATSCHAT_BOOTSTRAP_CREDS", value: `${APP_PATHS.web}/bootstrap.creds` },
    { name: "NATSCHAT_CHAT_ACCOUNT", value: pub.chatAccount },
    { name: "NATSCHAT_CHAT_SIGNING_KEYS", value: pub.chatSigningKeys.join(",") },
  ];
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: n.web, namespace: o.namespace, labels: labels(n.web) },
    spec: {
      replicas: o.webReplicas,
      selector: { matchLabels: labels(n.web) },
      template: {
        metadata: { labels: labels(n.web) },
        spec: {
          containers: [
            {
              name: "web",
              image: o.image,
              args: ["web", "--host", "0.0.0.0", "--port", "8080"],
              env,
              ports: [{ name: "http", containerPort: 8080 }],
              readinessProbe: { httpGet: { path: "/config.json", port: "http" } },
              volumeMounts: [{ name: "web-secrets", mountPath: APP_PATHS.web, readOnly: true }],
              resources: {
                requests: { cpu: "20m", memory: "64Mi" },
                limits: { memory: "192Mi" },
              },
              securityContext,
            },
          ],
          volumes: [
            { name: "web-secrets", secret: { secretName: n.webSecret, defaultMode: 0o440 } },
          ],
          securityContext: { fsGroup: 1000 },
        },
      },
    },
  };
}

export function webService(o: DeployOptions): IService {
  const n = names(o);
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: n.web, namespace: o.namespace, labels: labels(n.web) },
    spec: {
      selector: labels(n.web),
      ports: [{ name: "http", port: 80, targetPort: "http" }],
    },
  };
}

/** The kustomization that applies the manifests and generates the Secrets from files. */
export function kustomization(o: DeployOptions): Record<string, unknown> {
  return {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    namespace: o.namespace,
    resources: [
      "namespace.yaml",
      ...(o.certManager ? ["cert-manager.yaml"] : []),
      "access.yaml",
      "history.yaml",
      "web.yaml",
    ],
    // fixed names: the Helm values and the Deployments refer to them
    generatorOptions: { disableNameSuffixHash: true },
    secretGenerator: secretSpecs(o).map((s) => ({
      name: s.name,
      type: s.type,
      files: Object.entries(s.files).map(([key, file]) => `${key}=secrets/${file}`),
    })),
  };
}

/** The Secret objects kustomize generates (for validation; never written to disk). */
export function generatedSecrets(o: DeployOptions, read: (file: string) => Buffer): ISecret[] {
  return secretSpecs(o).map((s) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: s.name, namespace: o.namespace },
    type: s.type,
    data: Object.fromEntries(
      Object.entries(s.files).map(([key, file]) => [key, read(file).toString("base64")]),
    ),
  }));
}
