// The Helm hook Job that checks a region's JetStream meta group after `helm install|upgrade`:
// `natschat meta-check` reads every JetStream pod's monitoring endpoint and fails, naming the pod
// to restart, when the group formed short (nats-server 2.10 can settle a new group without one
// server and never add it back). Helm waits for a hook Job, so `helm ... --wait` succeeds only
// with a complete group, and fails loudly otherwise. It needs no creds: /jsz and /varz are open.
import type { IJob } from "kubernetes-models/batch/v1/Job";
import { type DeployOptions, names } from "./options.ts";
import { PORTS, REGION_SIZE } from "./specs.ts";

/** How long the check waits for the group to form before it gives up (seconds). */
const CHECK_TIMEOUT_S = 240;

/** The monitoring URLs of a region's pods, comma-separated. */
function monitorUrls(o: DeployOptions, region: string): string {
  const n = names(o);
  return Array.from(
    { length: REGION_SIZE },
    (_, i) => `http://${n.podFqdn(region, i)}:${PORTS.http}`,
  ).join(",");
}

/**
 * The check for one region's release. The hub is installed first, alone: its group must span
 * its own pods, and the second region's too once those exist (`--optional`: counted when their
 * names resolve). The second region is installed after the hub: the group must span both.
 */
export function metaCheckJob(o: DeployOptions, region: string): IJob {
  const [hub, second] = o.regions;
  const scope =
    region === hub
      ? ["--monitor", monitorUrls(o, hub), "--optional", monitorUrls(o, second)]
      : ["--monitor", `${monitorUrls(o, hub)},${monitorUrls(o, second)}`];
  const name = `natschat-meta-check-${region}`;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      labels: { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "natschat" },
      annotations: {
        "helm.sh/hook": "post-install,post-upgrade",
        // a failed Job stays for `kubectl logs`; the next install or upgrade replaces it
        "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
      },
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: CHECK_TIMEOUT_S + 60,
      template: {
        metadata: { labels: { "app.kubernetes.io/name": name } },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "meta-check",
              image: o.image,
              args: [
                "meta-check",
                ...scope,
                "--namespace",
                o.namespace,
                "--timeout",
                String(CHECK_TIMEOUT_S),
              ],
              resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "192Mi" } },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 1000,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    },
  };
}
