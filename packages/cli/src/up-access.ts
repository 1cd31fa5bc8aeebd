// The access service inside `natschat up`: one replica in this process, configured from the data
// dir, logging to DIR/access.log.
import { type AccessService, resolveAccessConfig, startAccessService } from "@natschat/access";
import { type ServicePart, startServicePart } from "./up-part.ts";

/** Starts the replica on `servers`; `replicas` sizes the registry bucket. */
export function startAccessPart(
  dir: string,
  servers: string[],
  replicas: 1 | 3,
  /** the development CA, when the servers run TLS. */
  tlsCa?: string,
): Promise<ServicePart<AccessService>> {
  return startServicePart(dir, "access.log", async (log) => {
    // Only the data dir counts here: NATSCHAT_* variables configure `natschat access`.
    const opts = await resolveAccessConfig({
      flags: { replicas: String(replicas), ...(tlsCa ? { "tls-ca": tlsCa } : {}) },
      env: {},
      dir,
    });
    return startAccessService({ ...opts, servers, replicaId: "up", log });
  });
}
