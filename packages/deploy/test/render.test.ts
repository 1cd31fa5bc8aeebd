// The Kubernetes render, validated offline: every nats config (the chart's effective one per pod,
// and ours from the same specs) passes `nats-server -t`; manifests parse and validate against the
// Kubernetes schemas (kubernetes-models); the Helm values use only keys of the chart's values.yaml
// (deploy/test-data); no seed, creds or private key appears outside the Secrets' files.
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Certificate, Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import {
  allPodSpecs,
  chartConfigDoc,
  type DeployOptions,
  generatedSecrets,
  names,
  POD_PATHS,
  type Rendered,
  renderToDir,
  resolveDeployOptions,
  type Values,
} from "@natschat/deploy";
import { ensureNatsServer, renderServerConfig, serverSettings } from "@natschat/server";
import { initTrust, loadTrust, resolverTrust } from "@natschat/trust";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);
const KEYS_FILE = new URL("../../../deploy/test-data/nats-chart-values-keys.txt", import.meta.url);

let dir: string;
let out: string;
let rendered: Rendered;
let o: DeployOptions;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "natschat-deploy-"));
  await initTrust({ dir: join(dir, "data") });
  out = join(dir, "out");
  ({ rendered } = await renderToDir({ dir: join(dir, "data"), out }));
  o = rendered.options;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (path: string) => readFile(join(out, path), "utf8");

/** Stands the pod's filesystem in for this machine: mounted files become the render's files. */
async function podPathMap(release: string, region: string): Promise<[string, string][]> {
  const scratch = join(dir, "pods", release);
  await mkdir(join(scratch, "data", "resolver"), { recursive: true });
  const secrets = join(out, "k8s", "secrets");
  const protocols = ["nats", "cluster", "gateway", "leafnodes", "websocket"] as const;
  return [
    ...protocols.flatMap((p): [string, string][] => [
      [`${POD_PATHS.tlsDir(p)}/tls.crt`, join(secrets, `${region}-tls.crt`)],
      [`${POD_PATHS.tlsDir(p)}/tls.key`, join(secrets, `${region}-tls.key`)],
    ]),
    [POD_PATHS.ca, join(secrets, "ca.crt")],
    [`${POD_PATHS.leafCredsDir}/leaf.creds`, join(secrets, "leaf.creds")],
    [`${POD_PATHS.leafCredsDir}/sys.creds`, join(secrets, "sys.creds")],
    [POD_PATHS.resolver, join(scratch, "data", "resolver")],
    ['"/data"', `"${join(scratch, "data")}"`],
    ["/var/run/nats/nats.pid", join(scratch, "nats.pid")],
  ];
}

function mapPaths(text: string, map: [string, string][]): string {
  let t = text;
  for (const [from, to] of map) t = t.split(from).join(to);
  return t;
}

async function serverTest(conf: string, path: string, serverName: string): Promise<void> {
  const bin = await ensureNatsServer();
  await writeFile(path, conf);
  try {
    await run(bin.path, ["-t", "-c", path], {
      env: { ...process.env, SERVER_NAME: serverName },
      timeout: 20_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`nats-server -t rejected ${path}: ${(e.stderr || e.message).trim()}`);
  }
}

const regionOf = (release: string) => release.replace(/^nats-/, "");

describe("deploy render: nats configs", () => {
  it("renders values for two regions and an edge, and the chart's effective config of each", () => {
    const paths = rendered.files.map((f) => f.path);
    for (const r of ["nats-east", "nats-west", "nats-edge"]) {
      expect(paths).toContain(`helm/${r}.values.yaml`);
      expect(paths).toContain(`helm/effective/${r}.conf`);
    }
    expect(paths).toEqual(
      expect.arrayContaining([
        "k8s/access.yaml",
        "k8s/history.yaml",
        "k8s/web.yaml",
        "Dockerfile",
        "README.md",
      ]),
    );
  });

  it("every pod's effective chart config passes nats-server -t", async () => {
    for (const release of Object.keys(rendered.values)) {
      const region = regionOf(release);
      const text = await file(`helm/effective/${release}.conf`);
      const mapped = mapPaths(text, await podPathMap(release, region));
      const pods = region === o.edge ? 1 : 3;
      for (let i = 0; i < pods; i++) {
        await serverTest(mapped, join(dir, `${release}-${i}.conf`), names(o).pod(region, i));
      }
    }
  });

  it("our own config of every pod spec (the local renderer, same source) passes nats-server -t", async () => {
    const trust = await loadTrust(join(dir, "data"));
    const accounts = {
      chat: trust.summary.accounts.CHAT.publicKey,
      admin: trust.summary.accounts.ADMIN.publicKey,
      sys: trust.summary.accounts.SYS.publicKey,
    };
    for (const spec of allPodSpecs(o, accounts)) {
      const release = names(o).release(spec.region);
      const text = renderServerConfig(spec, resolverTrust(trust));
      const mapped = mapPaths(text, await podPathMap(release, spec.region)).replace(
        /store_dir: "\/data"/,
        `store_dir: "${join(dir, "pods", release, "data")}"`,
      );
      await serverTest(mapped, join(dir, `own-${spec.name}.conf`), spec.name);
    }
  });

  it("the chart's config carries what the local renderer puts in the same pod's config", async () => {
    const trust = await loadTrust(join(dir, "data"));
    const accounts = {
      chat: trust.summary.accounts.CHAT.publicKey,
      admin: trust.summary.accounts.ADMIN.publicKey,
      sys: trust.summary.accounts.SYS.publicKey,
    };
    for (const spec of allPodSpecs(o, accounts)) {
      const ours = serverSettings(spec, resolverTrust(trust)) as Record<string, unknown>;
      const chart = chartConfigDoc(rendered.values[names(o).release(spec.region)] as Values, {
        namespace: o.namespace,
      });
      for (const key of ["operator", "system_account", "resolver_preload", "max_payload"])
        expect(chart[key], `${spec.name} ${key}`).toEqual(ours[key]);
      const pick = (doc: Record<string, unknown>, path: string) =>
        path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], doc);
      for (const path of [
        "cluster.name",
        "cluster.routes",
        "gateway.name",
        "gateway.gateways",
        "jetstream.domain",
        "resolver.type",
        "resolver.allow_delete",
        "websocket.compression",
      ]) {
        expect(pick(chart, path), `${spec.name} ${path}`).toEqual(pick(ours, path));
      }
      const remotes = (doc: Record<string, unknown>) =>
        (pick(doc, "leafnodes.remotes") as { account: string; urls: string[] }[] | undefined)?.map(
          (r) => `${r.account}@${r.urls.join(",")}`,
        );
      expect(remotes(chart), `${spec.name} leaf remotes`).toEqual(remotes(ours));
      expect(chart.jetstream === undefined, spec.name).toBe(spec.jetstream === "none");
    }
  });
});

describe("deploy render: TLS material", () => {
  it("each release's certificate covers its pods and services, and is signed by the CA", async () => {
    const ca = new X509Certificate(await file("k8s/secrets/ca.crt"));
    const n = names(o);
    for (const r of [...o.regions, o.edge]) {
      const cert = new X509Certificate(await file(`k8s/secrets/${r}-tls.crt`));
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkHost(n.serviceFqdn(r))).toBeDefined();
      expect(cert.checkHost(n.service(r))).toBeDefined();
      expect(cert.subjectAltName).toContain(`DNS:*.${n.headless(r)}`);
      expect(cert.subjectAltName).toContain(
        `DNS:*.${n.headless(r)}.${o.namespace}.svc.${o.clusterDomain}`,
      );
    }
  });
});

describe("deploy render: Kubernetes manifests", () => {
  it("parse, and validate against the Kubernetes schemas", async () => {
    const models: Record<string, new (data: never) => { validate(): void }> = {
      Deployment,
      Service,
      Namespace,
    };
    let count = 0;
    for (const path of [
      "k8s/namespace.yaml",
      "k8s/access.yaml",
      "k8s/history.yaml",
      "k8s/web.yaml",
    ]) {
      for (const doc of parseAllDocuments(await file(path))) {
        expect(doc.errors, path).toEqual([]);
        const obj = doc.toJS() as { kind: string; metadata: { namespace?: string } };
        const Model = models[obj.kind];
        expect(Model, `${path}: kind ${obj.kind}`).toBeDefined();
        expect(() =>
          new (Model as new (d: unknown) => { validate(): void })(obj).validate(),
        ).not.toThrow();
        if (obj.kind !== "Namespace") expect(obj.metadata.namespace).toBe(o.namespace);
        count++;
      }
    }
    expect(count).toBe(5);
  });

  it("a broken manifest fails the schema validation (the check is real)", () => {
    const bad = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: { replicas: "two" },
    };
    expect(() => new Deployment(bad as never).validate()).toThrow(/replicas/);
  });

  it("the access and history services run 2 replicas; every Deployment mounts Secrets that exist", async () => {
    const secrets = generatedSecrets(o, () => Buffer.from("x"));
    const secretNames = new Set(secrets.map((s) => s.metadata?.name));
    const deployments = [
      ...parseAllDocuments(await file("k8s/access.yaml")),
      ...parseAllDocuments(await file("k8s/history.yaml")),
      ...parseAllDocuments(await file("k8s/web.yaml")),
    ]
      .map((d) => d.toJS())
      .filter((d) => d.kind === "Deployment");
    expect(deployments.map((d) => [d.metadata.name, d.spec.replicas])).toEqual([
      ["natschat-access", 2],
      ["natschat-history", 2],
      ["natschat-web", 1],
    ]);
    for (const d of deployments)
      for (const v of d.spec.template.spec.volumes)
        expect(secretNames.has(v.secret?.secretName), `${d.metadata.name} ${v.name}`).toBe(true);
  });

  it("the Secrets kustomize generates from the files validate too, and reference only rendered files", async () => {
    const kustomization = parseAllDocuments(await file("k8s/kustomization.yaml"))[0]?.toJS();
    for (const g of kustomization.secretGenerator)
      for (const entry of g.files as string[]) {
        const [, path] = entry.split("=");
        expect((await stat(join(out, "k8s", path as string))).isFile(), entry).toBe(true);
      }
    const secrets = generatedSecrets(o, (f) => Buffer.from(f));
    for (const s of secrets) expect(() => new Secret(s).validate()).not.toThrow();
    const tls = secrets.filter((s) => s.type === "kubernetes.io/tls");
    expect(tls.map((s) => Object.keys(s.data ?? {}).sort())).toEqual(
      Array(3).fill(["tls.crt", "tls.key"]),
    );
  });
});

describe("deploy render: Helm values", () => {
  it("use only keys of the chart's values.yaml (free-form maps excepted)", async () => {
    const lines = (await readFile(KEYS_FILE, "utf8"))
      .split("\n")
      .filter((l) => l && !l.startsWith("#"));
    const leaves = new Set(lines.map((l) => l.split(" ")[0] as string));
    const freeForm = lines.filter((l) => / (\{\}|\[\])$/.test(l)).map((l) => l.split(" ")[0]);
    const paths = (v: unknown, prefix: string): string[] =>
      v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0
        ? Object.entries(v).flatMap(([k, x]) => paths(x, prefix ? `${prefix}.${k}` : k))
        : [prefix];
    for (const [release, values] of Object.entries(rendered.values)) {
      const onDisk = parseAllDocuments(await file(`helm/${release}.values.yaml`))[0]?.toJS();
      expect(onDisk, release).toEqual(values);
      for (const p of paths(values, "")) {
        const known = leaves.has(p) || freeForm.some((f) => p === f || p.startsWith(`${f}.`));
        expect(known, `${release}: ${p} is not a key of the chart`).toBe(true);
      }
    }
  });

  it("pin the nats image to the server version every test runs", async () => {
    const tested = (await ensureNatsServer()).version.replace(/^v/, "");
    expect(tested).toMatch(/^\d+\.\d+\.\d+$/);
    for (const [release, values] of Object.entries(rendered.values)) {
      const image = (values.container as { image?: { repository?: string; tag?: string } })?.image;
      expect(image, release).toEqual({ repository: "nats", tag: `${tested}-alpine` });
    }
  });

  it("each region's release runs the meta-group check as a post-install/upgrade hook Job", async () => {
    const n = names(o);
    const [hub, second] = o.regions;
    const monitor = (r: string) => [0, 1, 2].map((i) => `http://${n.podFqdn(r, i)}:8222`).join(",");
    const jobOf = (release: string) =>
      ((rendered.values[release]?.extraResources ?? []) as { kind: string }[]).filter(
        (x) => x.kind === "Job",
      );
    expect(jobOf(n.release(o.edge))).toEqual([]);
    for (const [region, args] of [
      [hub, ["--monitor", monitor(hub), "--optional", monitor(second)]],
      [second, ["--monitor", `${monitor(hub)},${monitor(second)}`]],
    ] as const) {
      const jobs = jobOf(n.release(region));
      expect(jobs, region).toHaveLength(1);
      const job = new Job(jobs[0] as never);
      expect(() => job.validate()).not.toThrow();
      expect(job.metadata?.annotations?.["helm.sh/hook"]).toBe("post-install,post-upgrade");
      expect(job.spec?.backoffLimit).toBe(0);
      const c = job.spec?.template.spec?.containers[0];
      expect(c?.image).toBe(o.image);
      expect(c?.args?.slice(0, 1)).toEqual(["meta-check"]);
      expect(c?.args?.join(" ")).toContain(args.join(" "));
      expect(c?.args?.join(" ")).toContain(`--namespace ${o.namespace}`);
    }
    // the rendered README gives the same check to run by hand, for a --wait that timed out
    const readme = await file("README.md");
    for (const region of [hub, second])
      expect(readme).toContain(
        `--image=${o.image} -- ${jobOf(n.release(region))[0] ? new Job(jobOf(n.release(region))[0] as never).spec?.template.spec?.containers[0]?.args?.join(" ") : "?"}`,
      );
    // the values file on disk carries the Job: helm renders extraResources as they are
    const onDisk = parseAllDocuments(await file(`helm/${n.release(hub)}.values.yaml`))[0]?.toJS();
    expect(onDisk.extraResources[0].kind).toBe("Job");
  });

  it("a misspelt key would be caught", async () => {
    const lines = await readFile(KEYS_FILE, "utf8");
    expect(lines).toContain("\nconfig.jetstream.enabled\n");
    expect(lines).not.toContain("\nconfig.jetstream.enable\n");
    expect(lines).toContain("\nconfig.merge {}\n");
  });
});

describe("deploy render: secrets stay in Secrets", () => {
  const SECRET_PATTERNS = [
    /\bS[OAU][A-Z2-7]{56}\b/, // nkey seeds: operator, account, user
    /NKEY SEED/,
    /PRIVATE KEY/,
  ];

  it("no seed, creds or private key appears outside k8s/secrets", async () => {
    for (const f of rendered.files.filter((x) => !x.secret)) {
      const text = await file(f.path);
      for (const p of SECRET_PATTERNS) expect(p.test(text), `${f.path} matches ${p}`).toBe(false);
    }
  });

  it("the check would catch one: the secret files do hold seeds and keys", async () => {
    expect(SECRET_PATTERNS[0]?.test(await file("k8s/secrets/access.creds"))).toBe(true);
    expect(SECRET_PATTERNS[2]?.test(await file("k8s/secrets/east-tls.key"))).toBe(true);
  });

  it("secret files are 0600 in a 0700 folder that git ignores", async () => {
    const folder = join(out, "k8s", "secrets");
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    for (const name of await readdir(folder)) {
      const mode = (await stat(join(folder, name))).mode & 0o777;
      expect(mode, name).toBe(name === ".gitignore" ? 0o644 : 0o600);
    }
    expect(await file("k8s/secrets/.gitignore")).toMatch(/^\*$/m);
  });
});

describe("deploy options", () => {
  it("refuse names Kubernetes would refuse, with a clear message", () => {
    expect(() => resolveDeployOptions({ namespace: "Chat_NS" })).toThrow(/not a Kubernetes name/);
    expect(() => resolveDeployOptions({ regions: ["east", "east"] })).toThrow(/must differ/);
    expect(() => resolveDeployOptions({ edge: "east" })).toThrow(/must differ/);
    expect(() => resolveDeployOptions({ accessReplicas: 0 })).toThrow(/1 to 20/);
    expect(() => resolveDeployOptions({ publicWebsocketUrls: ["http://x"] })).toThrow(
      /websocket URL/,
    );
  });

  it("renders without TLS when asked: no certificates, websocket no_tls", async () => {
    const plain = join(dir, "plain");
    const { rendered: r } = await renderToDir({
      dir: join(dir, "data"),
      out: plain,
      options: { tls: false },
    });
    expect(r.files.some((f) => f.path.endsWith("-tls.key"))).toBe(false);
    const conf = await readFile(join(plain, "helm/effective/nats-east.conf"), "utf8");
    expect(conf).toContain('"no_tls": true');
    expect(conf).toContain('"nats://east-0.nats-east-headless:6222"');
    const mapped = mapPaths(conf, await podPathMap("nats-east-plain", "east"));
    await serverTest(mapped, join(dir, "plain-east-0.conf"), "east-0");
  });
});

describe("deploy render: certificates from cert-manager", () => {
  let cm: Rendered;
  let cmOut: string;
  beforeAll(async () => {
    cmOut = join(dir, "cert-manager");
    ({ rendered: cm } = await renderToDir({
      dir: join(dir, "data"),
      out: cmOut,
      options: { certManager: true },
    }));
  });

  it("renders Issuers and one Certificate per release that validate against cert-manager's schemas", async () => {
    const docs = parseAllDocuments(
      await readFile(join(cmOut, "k8s/cert-manager.yaml"), "utf8"),
    ).map(
      (d) =>
        d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> },
    );
    for (const d of docs) {
      const Model = d.kind === "Issuer" ? Issuer : Certificate;
      expect(() => new Model(d as never).validate(), `${d.kind} ${d.metadata.name}`).not.toThrow();
    }
    const n = names(o);
    const certs = docs.filter((d) => d.kind === "Certificate" && !d.spec.isCA);
    expect(certs.map((c) => c.spec.secretName)).toEqual(
      [...o.regions, o.edge].map((r) => n.tlsSecret(r)),
    );
    // each release's values mount that Secret for every listener, and take the CA from it
    for (const r of [...o.regions, o.edge]) {
      const values = cm.values[n.release(r)] as Values;
      const text = JSON.stringify(values);
      expect(text).toContain(`"secretName":"${n.tlsSecret(r)}"`);
      expect((values.tlsCA as { secretName: string }).secretName).toBe(n.tlsSecret(r));
      const cert = certs.find((c) => c.spec.secretName === n.tlsSecret(r));
      expect(cert?.spec.dnsNames).toContain(
        `*.${n.headless(r)}.${o.namespace}.svc.${o.clusterDomain}`,
      );
      expect(cert?.spec.ipAddresses).toEqual(["127.0.0.1"]);
      expect(cert?.spec.usages).toEqual(expect.arrayContaining(["server auth", "client auth"]));
    }
    expect(docs.filter((d) => d.kind === "Issuer").map((d) => d.metadata.name)).toEqual([
      "natschat-selfsigned",
      "natschat-ca",
    ]);
  });

  it("a broken Certificate fails the schema validation (the check is real)", () => {
    const bad = {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "x" },
      spec: { secretName: 3 },
    };
    expect(() => new Certificate(bad as never).validate()).toThrow();
  });

  it("writes no development CA, certificate or TLS key; service pods read only ca.crt of the hub's Secret", async () => {
    expect(cm.files.filter((f) => /tls\.(crt|key)$|ca\.crt$/.test(f.path))).toEqual([]);
    const kustomization = parseAllDocuments(
      await readFile(join(cmOut, "k8s/kustomization.yaml"), "utf8"),
    )[0]?.toJS();
    expect(kustomization.resources).toContain("cert-manager.yaml");
    expect(kustomization.secretGenerator.map((g: { name: string }) => g.name)).not.toContain(
      "natschat-ca",
    );
    const access = parseAllDocuments(
      await readFile(join(cmOut, "k8s/access.yaml"), "utf8"),
    )[0]?.toJS();
    const ca = access.spec.template.spec.volumes.find((v: { name: string }) => v.name === "ca");
    expect(ca.secret).toEqual({
      secretName: names(o).tlsSecret(o.regions[0]),
      items: [{ key: "ca.crt", path: "ca.crt" }],
    });
  });

  it("uses the operator's issuer when named, and refuses cert-manager without TLS", async () => {
    const { rendered: r } = await renderToDir({
      dir: join(dir, "data"),
      out: join(dir, "cert-manager-issuer"),
      options: { certManager: true, certIssuer: { kind: "ClusterIssuer", name: "letsencrypt" } },
    });
    const text = String(r.files.find((f) => f.path === "k8s/cert-manager.yaml")?.content);
    expect(text).not.toContain("kind: Issuer");
    expect(text).toContain("kind: ClusterIssuer");
    expect(text).toContain("name: letsencrypt");
    expect(() => resolveDeployOptions({ certManager: true, tls: false })).toThrow(/drop --no-tls/);
  });
});
