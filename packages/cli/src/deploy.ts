// `natschat deploy render --out DIR`: Helm values (two regions and an edge), manifests for the
// access service and the web app, the Secrets' files and a Dockerfile, from the data dir's trust
// tree. See deploy/README.md for the steps from an empty cluster to a working chat.
import { resolve } from "node:path";
import { renderToDir } from "@natschat/deploy";
import { parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";

const USAGE = [
  "natschat deploy render --out DIR [--dir DATA_DIR] [--namespace NS] [--regions HUB,SECOND]",
  "  [--edge NAME] [--image IMAGE] [--no-tls] [--public-host NAME[,NAME]] [--ws-url URL[,URL]]",
  "  [--cluster-domain DOMAIN] [--access-replicas N]",
  "  [--cert-manager [--cert-issuer Issuer/NAME|ClusterIssuer/NAME]]",
].join("\n");

const list = (v: string | undefined) =>
  v
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export async function deployVerb(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  // without the sub-verb, the flags are still checked (and --help answered)
  const { flags } = parseVerb(
    sub === "render" ? rest : argv,
    {
      out: { type: "string" },
      namespace: { type: "string" },
      regions: { type: "string" },
      edge: { type: "string" },
      image: { type: "string" },
      "no-tls": { type: "boolean" },
      "public-host": { type: "string" },
      "ws-url": { type: "string" },
      "cluster-domain": { type: "string" },
      "access-replicas": { type: "string" },
      "cert-manager": { type: "boolean" },
      "cert-issuer": { type: "string" },
    },
    USAGE,
  );
  if (sub !== "render") throw new UsageError(`usage: ${USAGE}`);
  if (!flags.out) throw new UsageError(`--out DIR is required\nusage: ${USAGE}`);
  const out = resolve(flags.out);
  const replicas = flags["access-replicas"];
  const issuer = flags["cert-issuer"]?.split("/");
  if (issuer && (issuer.length !== 2 || !["Issuer", "ClusterIssuer"].includes(issuer[0] ?? "")))
    throw new UsageError(`--cert-issuer is Issuer/NAME or ClusterIssuer/NAME\nusage: ${USAGE}`);
  if (issuer && !flags["cert-manager"])
    throw new UsageError(`--cert-issuer needs --cert-manager\nusage: ${USAGE}`);
  const { rendered, written } = await renderToDir({
    dir: flags.dir,
    out,
    options: {
      ...(flags.namespace ? { namespace: flags.namespace } : {}),
      ...(flags.regions ? { regions: list(flags.regions) as [string, string] } : {}),
      ...(flags.edge ? { edge: flags.edge } : {}),
      ...(flags.image ? { image: flags.image } : {}),
      ...(flags["no-tls"] ? { tls: false } : {}),
      ...(flags["public-host"] ? { publicHosts: list(flags["public-host"]) } : {}),
      ...(flags["ws-url"] ? { publicWebsocketUrls: list(flags["ws-url"]) } : {}),
      ...(flags["cluster-domain"] ? { clusterDomain: flags["cluster-domain"] } : {}),
      ...(replicas ? { accessReplicas: Number(replicas) } : {}),
      ...(flags["cert-manager"] ? { certManager: true } : {}),
      ...(issuer
        ? {
            certIssuer: {
              kind: issuer[0] as "Issuer" | "ClusterIssuer",
              name: issuer[1] as string,
            },
          }
        : {}),
    },
  });
  const secrets = rendered.files.filter((f) => f.secret).length;
  console.log(`rendered ${written.length} files into ${out}:`);
  for (const f of rendered.files.filter((x) => !x.secret)) console.log(`  ${f.path}`);
  console.log(
    `  k8s/secrets/ (${secrets} files, 0600: seeds, creds and TLS keys; never commit them)`,
  );
  console.log(`next: read ${out}/README.md`);
  return 0;
}
