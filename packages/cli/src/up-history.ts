// The history service inside `natschat up`: one replica in this process (the writer that stores
// live posts and DMs, and the chat.svc.history.* readers), configured from the data dir, logging
// to DIR/history.log.
import { type HistoryService, resolveHistoryConfig, startHistoryService } from "@natschat/history";
import { type ServicePart, startServicePart } from "./up-part.ts";

/** Starts the replica on `servers` (the hub's); `replicas` sizes the history stores. */
export function startHistoryPart(
  dir: string,
  servers: string[],
  replicas: 1 | 3,
  /** the development CA, when the servers run TLS. */
  tlsCa?: string,
): Promise<ServicePart<HistoryService>> {
  return startServicePart(dir, "history.log", async (log) =>
    startHistoryService(
      await resolveHistoryConfig(dir, servers, {
        replicas,
        replicaId: "up",
        log,
        ...(tlsCa ? { tlsCaFile: tlsCa } : {}),
      }),
    ),
  );
}
