// What the NATS Helm chart (2.x) makes of our values: the nats.conf of one pod, built the way the
// chart's config templates build it (its config/*.yaml documents, deep-merged with the `merge`
// keys, serialized as JSON with `<< x >>` unquoted). Written next to the values so an operator
// can read what each pod runs, and checked with `nats-server -t` in the tests. This follows the
// chart's documented behaviour; it is not the chart's code.
import type { Values } from "./helm-values.ts";

type Doc = { [key: string]: unknown };

function isMap(v: unknown): v is Doc {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** sprig's mergeOverwrite: maps merge recursively, anything else is replaced. */
export function mergeOverwrite(base: Doc, over: Doc): Doc {
  const out: Doc = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? mergeOverwrite(b, v) : structuredClone(v);
  }
  return out;
}

function get(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const key of path.split(".")) cur = isMap(cur) ? cur[key] : undefined;
  return cur;
}

function merged(doc: Doc, section: unknown): Doc {
  const m = get(section, "merge");
  return isMap(m) ? mergeOverwrite(doc, m) : doc;
}

function tlsDoc(values: Values, tls: unknown): Doc {
  const doc: Doc = {};
  const secretName = get(tls, "secretName");
  if (secretName) {
    const dir = String(get(tls, "dir")).replace(/\/$/, "");
    doc.cert_file = `${dir}/${String(get(tls, "cert") ?? "tls.crt")}`;
    doc.key_file = `${dir}/${String(get(tls, "key") ?? "tls.key")}`;
  }
  const ca = get(values, "tlsCA");
  if (get(ca, "enabled") && (get(ca, "configMapName") || get(ca, "secretName"))) {
    doc.ca_file = `${String(get(ca, "dir")).replace(/\/$/, "")}/${String(get(ca, "key") ?? "ca.crt")}`;
  }
  return merged(doc, tls);
}

const enabled = (section: unknown) => get(section, "enabled") === true;

/** The chart's config document for a release (before serialization). */
export function chartConfigDoc(values: Values, opts: { namespace: string }): Doc {
  const c = get(values, "config");
  const stsName = String(get(values, "statefulSet.name") ?? get(values, "fullnameOverride"));
  const headless = `${String(get(values, "fullnameOverride"))}-headless`;
  const doc: Doc = {
    server_name: "<< $SERVER_NAME >>",
    lame_duck_grace_period: "10s",
    lame_duck_duration: "30s",
    pid_file: "/var/run/nats/nats.pid",
    port: get(c, "nats.port") ?? 4222,
  };
  if (enabled(get(c, "nats.tls"))) doc.tls = tlsDoc(values, get(c, "nats.tls"));
  const leaf = get(c, "leafnodes");
  if (enabled(leaf)) {
    const d: Doc = { port: get(leaf, "port"), no_advertise: true };
    if (enabled(get(leaf, "tls"))) d.tls = tlsDoc(values, get(leaf, "tls"));
    doc.leafnodes = merged(d, leaf);
  }
  const ws = get(c, "websocket");
  if (enabled(ws)) {
    const d: Doc = { port: get(ws, "port") };
    if (enabled(get(ws, "tls"))) d.tls = tlsDoc(values, get(ws, "tls"));
    else d.no_tls = true;
    doc.websocket = merged(d, ws);
  }
  const cluster = get(c, "cluster");
  if (enabled(cluster)) {
    const tls = enabled(get(cluster, "tls"));
    const useFqdn = get(cluster, "routeURLs.useFQDN") === true;
    const domain = useFqdn
      ? `${headless}.${opts.namespace}.svc.${String(get(cluster, "routeURLs.k8sClusterDomain") ?? "cluster.local")}`
      : headless;
    const replicas = Number(get(cluster, "replicas") ?? 3);
    const d: Doc = {
      name: stsName,
      port: get(cluster, "port"),
      no_advertise: get(cluster, "noAdvertise") ?? true,
      routes: Array.from(
        { length: replicas },
        (_, i) =>
          `${tls ? "tls" : "nats"}://${stsName}-${i}.${domain}:${String(get(cluster, "port"))}`,
      ),
    };
    if (tls) d.tls = tlsDoc(values, get(cluster, "tls"));
    doc.cluster = merged(d, cluster);
  }
  const gateway = get(c, "gateway");
  if (enabled(gateway)) {
    const d: Doc = { name: stsName, port: get(gateway, "port") };
    if (enabled(get(gateway, "tls"))) d.tls = tlsDoc(values, get(gateway, "tls"));
    doc.gateway = merged(d, gateway);
  }
  const monitor = get(c, "monitor");
  if (get(monitor, "enabled") !== false) {
    if (enabled(get(monitor, "tls"))) doc.https_port = get(monitor, "port") ?? 8222;
    else doc.http_port = get(monitor, "port") ?? 8222;
  }
  const js = get(c, "jetstream");
  if (enabled(js)) {
    const d: Doc = {};
    const mem = get(js, "memoryStore");
    if (isMap(mem)) {
      if (enabled(mem)) {
        if (get(mem, "maxSize")) d.max_memory_store = `<< ${String(get(mem, "maxSize"))} >>`;
      } else d.max_memory_store = 0;
    }
    const file = get(js, "fileStore");
    if (isMap(file)) {
      if (get(file, "enabled") !== false) {
        d.store_dir = get(file, "dir");
        if (get(file, "maxSize")) d.max_file_store = `<< ${String(get(file, "maxSize"))} >>`;
        else if (get(file, "pvc.enabled") !== false)
          d.max_file_store = `<< ${String(get(file, "pvc.size"))} >>`;
      } else d.max_file_store = 0;
    }
    doc.jetstream = merged(d, js);
  }
  const resolver = get(c, "resolver");
  if (enabled(resolver)) doc.resolver = merged({ dir: get(resolver, "dir") }, resolver);
  return merged(doc, c);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isMap(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  return v;
}

/** The nats.conf text the chart writes into the release's ConfigMap. */
export function chartConfigText(values: Values, opts: { namespace: string }): string {
  const json = JSON.stringify(sortKeys(chartConfigDoc(values, opts)), null, 2);
  return `${json.replace(/"<<\s+(.*?)\s+>>"/g, "$1")}\n`;
}
