// A service replica inside `natschat up`: it runs in this process and logs JSON lines to a file
// of its own in the data dir (0600), so the terminal stays readable. Shared by the access and
// history parts.
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { createLogger, type Logger } from "@natschat/access";

/** A running in-process replica and where it logs. */
export interface ServicePart<S> {
  service: S;
  logPath: string;
  stop(): Promise<void>;
}

/** Opens DIR/<logName>, starts the replica with a logger writing there; closes the log on failure. */
export async function startServicePart<S extends { stop(): Promise<void> }>(
  dir: string,
  logName: string,
  start: (log: Logger) => Promise<S>,
): Promise<ServicePart<S>> {
  const logPath = join(dir, logName);
  const stream = createWriteStream(logPath, { flags: "a", mode: 0o600 });
  const closeLog = () => new Promise<void>((resolve) => stream.end(resolve));
  try {
    const service = await start(
      createLogger({ level: "info", sink: (line) => stream.write(`${line}\n`) }),
    );
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
