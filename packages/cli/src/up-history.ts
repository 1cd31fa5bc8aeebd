// The history service inside `natschat up`: one replica in this process (the writer that stores
// live posts and DMs, and the chat.svc.history.* readers), configured from the data dir, logging
// JSON lines to DIR/history.log (0600) so the terminal stays readable.
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { createLogger } from "@natschat/access";
import { type HistoryService, resolveHistoryConfig, startHistoryService } from "@natschat/history";

/** A running in-process replica and where it logs. */
export interface HistoryPart {
  service: HistoryService;
  logPath: string;
  stop(): Promise<void>;
}

/** Starts the replica on `servers` (the hub's); `replicas` sizes the history stores. */
export async function startHistoryPart(
  dir: string,
  servers: string[],
  replicas: 1 | 3,
  /** the development CA, when the servers run TLS. */
  tlsCa?: string,
): Promise<HistoryPart> {
  const logPath = join(dir, "history.log");
  const stream = createWriteStream(logPath, { flags: "a", mode: 0o600 });
  const closeLog = () => new Promise<void>((resolve) => stream.end(resolve));
  try {
    const opts = await resolveHistoryConfig(dir, servers, {
      replicas,
      replicaId: "up",
      log: createLogger({ level: "info", sink: (line) => stream.write(`${line}\n`) }),
      ...(tlsCa ? { tlsCaFile: tlsCa } : {}),
    });
    const service = await startHistoryService(opts);
    return {
      service,
      logPath,
      async stop() {
        await service.stop();
        await closeLog();
      },
    };
  } catch (err) {
    await closeLog();
    throw err;
  }
}
