// `natschat deploy render`: everything needed to run the chat on Kubernetes, from the data dir's
// trust tree (and its development CA): Helm values for two regions and an edge, the chart's
// effective nats.conf of each release, manifests for the Node parts, the Secrets' files, and a
// Dockerfile. Secret material goes only to k8s/secrets (0600, in a 0700 folder).
import { chmod, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ensureDevCerts, issueServerCert, type ResolverTrust, tlsLayout } from "@natschat/server";
import { ensureDir, layout, loadTrust, resolverTrust } from "@natschat/trust";
import { stringify } from "yaml";
import { certManagerResources } from "./cert-manager.ts";
import { chartConfigText } from "./chart-config.ts";
import { DOCKERFILE, DOCKERIGNORE } from "./dockerfile.ts";
import { DeployError } from "./errors.ts";
import { edgeValues, NATS_CHART_VERSION, regionValues, type Values } from "./helm-values.ts";
import {
  accessDeployment,
  historyDeployment,
  kustomization,
  namespaceManifest,
  type PublicTrust,
  secretSpecs,
  webDeployment,
  webService,
} from "./manifests.ts";
import { metaCheckJob } from "./meta-check-job.ts";
import { certificateHosts, type DeployOptions, names, resolveDeployOptions } from "./options.ts";
import type { EdgeAccounts } from "./specs.ts";

/** One file of the render: its path under the output dir, content and mode. */
export interface RenderedFile {
  path: string;
  content: string | Buffer;
  mode: number;
  secret: boolean;
}

/** A whole render, before it is written. */
export interface Rendered {
  options: DeployOptions;
  files: RenderedFile[];
  /** Helm release → values (also in the files, as YAML). */
  values: Record<string, Values>;
}

const yamlDoc = (header: string, doc: unknown) =>
  `${header
    .split("\n")
    .map((l) => `# ${l}`.trimEnd())
    .join("\n")}\n${stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })}`;

const yamlDocs = (header: string, docs: unknown[]) =>
  yamlDoc(header, docs[0]) +
  docs
    .slice(1)
    .map((d) => `---\n${stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })}`)
    .join("");

/** The inputs a render reads from a data dir. */
export interface RenderInputs {
  trust: ResolverTrust;
  accounts: EdgeAccounts;
  pub: PublicTrust;
  /** secret file name (under k8s/secrets) → content. */
  secrets: Record<string, string>;
}

/** Reads the trust tree (and makes or reuses the development CA) of a data dir. */
export async function readRenderInputs(dir: string, o: DeployOptions): Promise<RenderInputs> {
  const trust = await loadTrust(dir);
  const paths = layout(dir);
  const read = async (path: string) => {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      throw new DeployError(
        "INPUT_MISSING",
        `cannot read ${path} (${(err as NodeJS.ErrnoException).code}); run \`natschat init --dir ${dir}\``,
      );
    }
  };
  const secrets: Record<string, string> = {
    "access.creds": await read(paths.creds("access")),
    "push.creds": await read(paths.creds("push")),
    "history.creds": await read(paths.creds("history")),
    "history-api.creds": await read(paths.creds("history-api")),
    "chat-signing.nk": await read(paths.key("CHAT-signing")),
    "operator-signing.nk": await read(paths.key("operator-signing")),
    "bootstrap.creds": await read(paths.creds("bootstrap")),
    "leaf.creds": await read(paths.creds("leaf")),
    "leaf-admin.creds": await read(paths.creds("leaf-admin")),
    "sys.creds": await read(paths.creds("sys")),
  };
  if (o.tls && !o.certManager) {
    await ensureDevCerts({ dir });
    const t = tlsLayout(dir);
    const ca = { certPem: await read(t.ca), keyPem: await read(t.caKey) };
    secrets["ca.crt"] = ca.certPem;
    for (const r of [...o.regions, o.edge]) {
      const cert = issueServerCert(ca, certificateHosts(o, r), {
        commonName: names(o).serviceFqdn(r),
        validDays: 365,
      });
      secrets[`${r}-tls.crt`] = cert.certPem;
      secrets[`${r}-tls.key`] = cert.keyPem;
    }
  }
  const chat = trust.summary.accounts.CHAT;
  return {
    trust: resolverTrust(trust),
    accounts: {
      chat: chat.publicKey,
      admin: trust.summary.accounts.ADMIN.publicKey,
      sys: trust.summary.accounts.SYS.publicKey,
    },
    pub: { chatAccount: chat.publicKey, chatSigningKeys: chat.signingKeys },
    secrets,
  };
}

/** Renders every file (pure: no I/O). */
export function renderDeployment(o: DeployOptions, inputs: RenderInputs): Rendered {
  const n = names(o);
  const [hub, second] = o.regions;
  const values: Record<string, Values> = {
    [n.release(hub)]: regionValues(o, inputs.trust, hub),
    [n.release(second)]: regionValues(o, inputs.trust, second),
    [n.release(o.edge)]: edgeValues(o, inputs.trust, inputs.accounts),
  };
  const files: RenderedFile[] = [];
  const add = (path: string, content: string, secret = false) =>
    files.push({ path, content, mode: secret ? 0o600 : 0o644, secret });
  const order = [n.release(hub), n.release(second), n.release(o.edge)];
  for (const [i, release] of order.entries()) {
    add(
      `helm/${release}.values.yaml`,
      yamlDoc(
        [
          `values for the NATS Helm chart ${NATS_CHART_VERSION} (nats/nats), release ${release}; step ${i + 1} of 3:`,
          `  helm upgrade --install ${release} nats/nats --version ${NATS_CHART_VERSION} -n ${o.namespace} -f helm/${release}.values.yaml`,
          "rendered by `natschat deploy render`; public material only (JWTs, keys, names): secrets are in k8s/secrets",
        ].join("\n"),
        values[release],
      ),
    );
    add(
      `helm/effective/${release}.conf`,
      `# the nats.conf the chart renders for ${release} (every pod; SERVER_NAME is the pod name)\n${chartConfigText(values[release] as Values, { namespace: o.namespace })}`,
    );
  }
  const header = (what: string) =>
    `${what}; rendered by \`natschat deploy render\`\napply with: kubectl apply -k k8s/`;
  add("k8s/namespace.yaml", yamlDoc(header("the namespace"), namespaceManifest(o)));
  if (o.certManager)
    add(
      "k8s/cert-manager.yaml",
      yamlDocs(
        header("the NATS servers' certificates, issued by cert-manager (install it first)"),
        certManagerResources(o),
      ),
    );
  add(
    "k8s/access.yaml",
    yamlDoc(
      header(`the access service (${o.accessReplicas} replicas)`),
      accessDeployment(o, inputs.pub),
    ),
  );
  add(
    "k8s/history.yaml",
    yamlDoc(
      header(`the history service (${o.historyReplicas} replicas)`),
      historyDeployment(o, inputs.pub),
    ),
  );
  add(
    "k8s/web.yaml",
    yamlDocs(header("the web app"), [webDeployment(o, inputs.pub), webService(o)]),
  );
  add(
    "k8s/kustomization.yaml",
    yamlDoc(
      "the manifests, and the Secrets generated from the files in k8s/secrets (never inlined)",
      kustomization(o),
    ),
  );
  for (const spec of secretSpecs(o)) {
    for (const file of Object.values(spec.files)) {
      const content = inputs.secrets[file];
      if (content === undefined)
        throw new DeployError("INPUT_MISSING", `no content for the secret file ${file}`);
      add(`k8s/secrets/${file}`, content, true);
    }
  }
  add("k8s/secrets/.gitignore", "# private keys, seeds and creds: never commit them\n*\n");
  add("Dockerfile", DOCKERFILE);
  add("Dockerfile.dockerignore", DOCKERIGNORE);
  add("README.md", renderReadme(o));
  return { options: o, files, values };
}

function renderReadme(o: DeployOptions): string {
  const n = names(o);
  const [hub, second] = o.regions;
  const byHand = (r: string) =>
    `kubectl -n ${o.namespace} run natschat-meta-check --rm -i --restart=Never --image=${o.image} -- ${(metaCheckJob(o, r).spec?.template.spec?.containers[0]?.args ?? []).join(" ")}`;
  return `# natschat on Kubernetes (rendered)

Apply in this order (see deploy/README.md in the repository for the whole walk-through):

\`\`\`sh
docker build -f Dockerfile -t ${o.image} <repository root>   # then push or load it into the cluster
kubectl apply -k k8s/                                         # namespace, Secrets, access service, web app
helm repo add nats https://nats-io.github.io/k8s/helm/charts/
helm upgrade --install ${n.release(hub)} nats/nats --version ${NATS_CHART_VERSION} -n ${o.namespace} -f helm/${n.release(hub)}.values.yaml --wait
helm upgrade --install ${n.release(second)} nats/nats --version ${NATS_CHART_VERSION} -n ${o.namespace} -f helm/${n.release(second)}.values.yaml --wait
helm upgrade --install ${n.release(o.edge)} nats/nats --version ${NATS_CHART_VERSION} -n ${o.namespace} -f helm/${n.release(o.edge)}.values.yaml --wait
\`\`\`

- Each region's release runs a hook Job, \`natschat-meta-check-<region>\`, that \`--wait\` waits
  for: it passes once the JetStream meta group spans every server. If helm fails on it,
  \`kubectl -n ${o.namespace} logs job/natschat-meta-check-<region>\` names the pod to restart.
  If \`--wait\` times out instead (a pod left out of the group is never ready, so the Job does
  not run), run the same check by hand:

  \`\`\`sh
  ${byHand(hub)}
  ${byHand(second)}
  \`\`\`
${o.certManager ? "- `k8s/cert-manager.yaml` needs cert-manager in the cluster; wait for the Certificates to be Ready before helm.\n" : ""}- \`helm/\`: values per release, and \`helm/effective/\` the nats.conf each release's pods run.
- \`k8s/\`: manifests; \`k8s/secrets/\` holds seeds, creds and private keys (0600). Keep it out
  of version control and delete it once applied.
`;
}

/** Writes a render to outDir: secrets 0600 in a 0700 folder, the rest 0644. */
export async function writeRendered(outDir: string, r: Rendered): Promise<string[]> {
  const written: string[] = [];
  for (const f of r.files) {
    const path = join(outDir, f.path);
    const folder = dirname(path);
    await ensureDir(folder, f.secret ? 0o700 : 0o755);
    if (f.secret) await chmod(folder, 0o700);
    await writeFile(path, f.content, { mode: f.mode });
    await chmod(path, f.mode);
    written.push(f.path);
  }
  return written;
}

/** Reads a data dir, renders, and writes to outDir. */
export async function renderToDir(opts: {
  dir: string;
  out: string;
  options?: Partial<DeployOptions>;
}): Promise<{ rendered: Rendered; written: string[] }> {
  const o = resolveDeployOptions(opts.options);
  const inputs = await readRenderInputs(opts.dir, o);
  const rendered = renderDeployment(o, inputs);
  return { rendered, written: await writeRendered(opts.out, rendered) };
}
