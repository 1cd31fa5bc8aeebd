// `natschat history`: runs one history-service replica in the foreground, as a Kubernetes
// Deployment does. Creds come from the data dir or from explicit files (mounted Secrets); every
// flag also has a NATSCHAT_* variable. SIGTERM or SIGINT drains it.
import { HISTORY_ENV, resolveHistoryCli, startHistoryService } from "@natschat/history";
import { parseVerb } from "./args.ts";
import { defaultServer } from "./up-state.ts";

const USAGE = [
  "natschat history [--dir DIR] [--server URL[,URL]] [--replica-id ID]",
  "  [--creds FILE] [--api-creds FILE] [--chat-account KEY] [--replicas 1|3|5] [--quota 8MiB]",
  "  [--log-level debug|info|warn|error] [--tls-ca FILE]",
  `  env: ${Object.values(HISTORY_ENV).join(", ")}`,
].join("\n");

export async function historyVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    {
      server: { type: "string" },
      "replica-id": { type: "string" },
      creds: { type: "string" },
      "api-creds": { type: "string" },
      "chat-account": { type: "string" },
      replicas: { type: "string" },
      quota: { type: "string" },
      "log-level": { type: "string" },
      "tls-ca": { type: "string" },
    },
    USAGE,
  );
  const { dir, ...rest } = flags;
  const opts = await resolveHistoryCli({
    flags: rest,
    env: process.env,
    dir,
    defaultServer: await defaultServer(dir),
  });
  const svc = await startHistoryService(opts);
  let signaled = false;
  const onSignal = () => {
    signaled = true;
    void svc.stop();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  await svc.stopped;
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  // Stopping without a signal means a connection closed for good: let the orchestrator restart.
  return signaled ? 0 : 1;
}
