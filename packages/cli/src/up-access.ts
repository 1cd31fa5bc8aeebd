// The access service inside `natschat up`: one replica in this process, configured from the data
// dir, logging JSON lines to DIR/access.log (0600) so the terminal stays readable.
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import {
  type AccessService,
  createLogger,
  resolveAccessConfig,
  startAccessService,
} from "@natschat/access";

/** A running in-process replica and where it logs. */
export interface AccessPart {
  service: AccessService;
  logPath: string;
  stop(): Promise<void>;
}

/** Starts the replica on `servers`; `replicas` sizes the registry bucket and history streams. */
export async function startAccessPart(
  dir: string,
  servers: string[],
  replicas: 1 | 3,
  /** the development CA, when the servers run TLS. */
  tlsCa?: string,
): Promise<AccessPart> {
  const logPath = join(dir, "access.log");
  const stream = createWriteStream(logPath, { flags: "a", mode: 0o600 });
  const closeLog = () => new Promise<void>((resolve) => stream.end(resolve));
  try {
    // Only the data dir counts here: NATSCHAT_* variables configure `natschat access`.
    const opts = await resolveAccessConfig({
      flags: { replicas: String(replicas), ...(tlsCa ? { "tls-ca": tlsCa } : {}) },
      env: {},
      dir,
    });
    const service = await startAccessService({
      ...opts,
      servers,
      replicaId: "up",
      log: createLogger({ level: "info", sink: (line) => stream.write(`${line}\n`) }),
    });
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
