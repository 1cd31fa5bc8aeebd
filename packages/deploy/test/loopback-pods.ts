// A loopback stand-in for the NATS pods of a Kubernetes render: each pod runs a real nats-server
// from its release's effective chart config (helm/effective/*.conf, what the chart writes into
// the ConfigMap), with what Kubernetes provides replaced by local equivalents: in-cluster DNS
// names by 127.0.0.1 and per-pod ports, mounted Secret files by the render's k8s/secrets files,
// the pod's volume by a folder, $SERVER_NAME by the pod name. Names of pods not started are left
// as they are, so they do not resolve, as in a cluster where that release is not installed yet.
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { type DeployOptions, names, POD_PATHS, PORTS, REGION_SIZE } from "@natschat/deploy";
import {
  ensureNatsServer,
  freePort,
  type RunningServer,
  type ServerSpec,
  startServer,
} from "@natschat/server";

type PortName = keyof typeof PORTS;
const PORT_NAMES = Object.keys(PORTS) as PortName[];

/** One emulated pod: its name, region and its ports on loopback (by the chart's port). */
interface PodPorts {
  name: string;
  region: string;
  ports: Record<PortName, number>;
}

export interface LoopbackPods {
  /** Starts every pod of a release (a region's 3, or the edge) in parallel, as its StatefulSet does. */
  install(region: string): Promise<RunningServer[]>;
  /**
   * `kubectl delete pod`: the pod's server ends and its StatefulSet starts it again on the same
   * volume. A pod still starting (never healthy yet) is ended too; install() then waits for the
   * new one.
   */
  deletePod(pod: string): Promise<void>;
  /**
   * Stops a region's pods, deletes their volumes and starts them again: `helm uninstall`, delete
   * the release's PVCs, install again. Only for a release that holds no data yet.
   */
  reinstall(region: string): Promise<RunningServer[]>;
  /** The pods running now. */
  running(): RunningServer[];
  /** A URL from the render (pod or Service name, chart port) as it is reached on loopback. */
  mapUrl(url: string): string;
  stop(): Promise<void>;
}

export async function loopbackPods(opts: {
  o: DeployOptions;
  /** the render's output dir. */
  out: string;
  /** scratch folder for the pods' volumes and configs. */
  dir: string;
}): Promise<LoopbackPods> {
  const { o, out } = opts;
  const n = names(o);
  const binary = await ensureNatsServer();
  const pods = new Map<string, PodPorts>();
  const regionsOf = [...o.regions, o.edge];
  for (const region of regionsOf) {
    const count = region === o.edge ? 1 : REGION_SIZE;
    for (let i = 0; i < count; i++) {
      const ports = {} as Record<PortName, number>;
      for (const p of PORT_NAMES) ports[p] = await freePort();
      pods.set(n.pod(region, i), { name: n.pod(region, i), region, ports });
    }
  }
  const installed = new Set<string>();
  const running: RunningServer[] = [];
  const portName = (port: number) => PORT_NAMES.find((p) => PORTS[p] === port);

  // pod names (short or fully qualified) and Service names, each with a chart port
  const hostPattern = /([a-z][a-z0-9-]*?)-(\d+)\.nats-\1-headless(?:\.[a-z0-9.-]+)?:(\d+)/g;
  const servicePattern = /nats-([a-z][a-z0-9-]*)\.[a-z0-9.-]+\.svc\.[a-z0-9.-]+:(\d+)/g;
  const mapUrl = (text: string) =>
    text
      .replace(hostPattern, (all, region: string, i: string, port: string) => {
        const pod = pods.get(n.pod(region, Number(i)));
        const p = portName(Number(port));
        if (!pod || !p || !installed.has(region)) return all;
        return `127.0.0.1:${pod.ports[p]}`;
      })
      .replace(servicePattern, (all, region: string, port: string) => {
        // a Service reaches some ready pod of its release: the emulation takes pod 0
        const pod = pods.get(n.pod(region, 0));
        const p = portName(Number(port));
        if (!pod || !p || !installed.has(region)) return all;
        return `127.0.0.1:${pod.ports[p]}`;
      });

  async function podConfig(pod: PodPorts, release: string): Promise<string> {
    const volume = join(opts.dir, pod.name);
    await mkdir(join(volume, "resolver"), { recursive: true });
    const secrets = join(out, "k8s", "secrets");
    let text = await readFile(join(out, "helm", "effective", `${release}.conf`), "utf8");
    for (const [chartPort, name] of PORT_NAMES.map((p) => [PORTS[p], p] as const)) {
      const key = name === "http" ? "http_port" : "port";
      text = text.split(`"${key}": ${chartPort},`).join(`"${key}": ${pod.ports[name]},`);
      text = text.split(`"${key}": ${chartPort}\n`).join(`"${key}": ${pod.ports[name]}\n`);
    }
    text = mapUrl(text);
    for (const p of ["nats", "cluster", "gateway", "leafnodes", "websocket"] as const) {
      text = text
        .split(`${POD_PATHS.tlsDir(p)}/tls.crt`)
        .join(join(secrets, `${pod.region}-tls.crt`));
      text = text
        .split(`${POD_PATHS.tlsDir(p)}/tls.key`)
        .join(join(secrets, `${pod.region}-tls.key`));
    }
    return text
      .split(POD_PATHS.ca)
      .join(join(secrets, "ca.crt"))
      .split(`${POD_PATHS.leafCredsDir}/`)
      .join(`${secrets}/`)
      .split(`"${POD_PATHS.resolver}"`)
      .join(`"${join(volume, "resolver")}"`)
      .split(`"${POD_PATHS.store}"`)
      .join(`"${join(volume, "jetstream")}"`)
      .split("/var/run/nats/nats.pid")
      .join(join(volume, "nats.pid"))
      .replace("$SERVER_NAME", JSON.stringify(pod.name));
  }

  async function startPod(pod: PodPorts, config: string): Promise<RunningServer> {
    const region = pod.region;
    const spec: ServerSpec = {
      name: pod.name,
      region,
      host: "127.0.0.1",
      ports: { client: pod.ports.client, http: pod.ports.http, websocket: pod.ports.websocket },
      storeDir: join(opts.dir, pod.name, "jetstream"),
      resolverDir: join(opts.dir, pod.name, "resolver"),
      jetstream: region === o.edge ? "none" : "server",
      ...(o.tls
        ? {
            tls: {
              cert: join(out, "k8s", "secrets", `${region}-tls.crt`),
              key: join(out, "k8s", "secrets", `${region}-tls.key`),
              ca: join(out, "k8s", "secrets", "ca.crt"),
            },
          }
        : {}),
    };
    const server = await startServer({
      binary: binary.path,
      spec,
      config,
      configPath: join(opts.dir, pod.name, "nats.conf"),
      logPath: join(opts.dir, pod.name, `nats.${running.length}.log`),
      healthTimeoutMs: 90_000,
    });
    running.push(server);
    return server;
  }

  /** Pods deleted while they were starting: their start-up failing is expected. */
  const deletedWhileStarting = new Map<string, number>();

  async function runPod(pod: PodPorts, config: string): Promise<RunningServer> {
    for (;;) {
      const deletions = deletedWhileStarting.get(pod.name) ?? 0;
      try {
        return await startPod(pod, config);
      } catch (err) {
        if ((deletedWhileStarting.get(pod.name) ?? 0) === deletions) throw err;
      }
    }
  }

  async function install(region: string): Promise<RunningServer[]> {
    installed.add(region);
    const members = [...pods.values()].filter((p) => p.region === region);
    // the chart's podManagementPolicy, Parallel: every pod at once
    return Promise.all(
      members.map(async (pod) => runPod(pod, await podConfig(pod, n.release(region)))),
    );
  }

  async function deletePod(name: string): Promise<void> {
    const pod = pods.get(name);
    if (!pod) throw new Error(`no pod ${name}`);
    const old = running.find((s) => s.spec.name === name);
    if (old) {
      await old.stop();
      running.splice(running.indexOf(old), 1);
      // the pod's ConfigMap is unchanged: the same config file, the same volume
      await startPod(pod, await readFile(old.configPath, "utf8"));
      return;
    }
    // still starting: end the process this emulation started for it (its pid file, checked
    // against the process's own command line); runPod starts it again
    const configPath = join(opts.dir, name, "nats.conf");
    const pid = Number((await readFile(join(opts.dir, name, "nats.pid"), "utf8")).trim());
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes(configPath)) throw new Error(`${name}: no starting server to end`);
    deletedWhileStarting.set(name, (deletedWhileStarting.get(name) ?? 0) + 1);
    process.kill(pid, "SIGTERM");
  }

  async function reinstall(region: string): Promise<RunningServer[]> {
    const members = running.filter((s) => s.spec.region === region);
    await Promise.all(members.map((s) => s.stop()));
    for (const s of members) {
      running.splice(running.indexOf(s), 1);
      await rm(join(opts.dir, s.spec.name), { recursive: true, force: true });
    }
    return install(region);
  }

  return {
    install,
    reinstall,
    deletePod,
    running: () => [...running],
    mapUrl,
    async stop() {
      await Promise.all(running.map((s) => s.stop()));
    },
  };
}
