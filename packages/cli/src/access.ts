// `natschat access`: runs one access-service replica in the foreground, as a Kubernetes
// Deployment does. Secrets come from the data dir or from explicit files (mounted Secrets);
// every flag also has a NATSCHAT_* variable. SIGTERM or SIGINT drains it.
import { ACCESS_ENV, resolveAccessConfig, startAccessService } from "@natschat/access";
import { parseVerb } from "./args.ts";
import { guardProcess } from "./up-guard.ts";
import { defaultServer } from "./up-state.ts";

const USAGE = [
  "natschat access [--dir DIR] [--server URL[,URL]] [--replica-id ID]",
  "  [--creds FILE] [--push-creds FILE] [--chat-signing-key FILE] [--operator-signing-key FILE]",
  "  [--chat-account KEY] [--legacy-plaintext] [--user-expiry 30d] [--rate-global 2000/1]",
  "  [--rate-name 10/60:5] [--rate-key 10/60:5] [--rate-address 60/60:60]",
  "  [--quota-address 1000/86400] [--replicas 1|3|5]",
  "  [--reserved-names a,b] [--unused-expiry 7d] [--expiry-grace 7d] [--max-names N]",
  "  [--presence-period 30s]",
  "  [--log-level debug|info|warn|error] [--tls-ca FILE]",
  `  env: ${Object.values(ACCESS_ENV).join(", ")}`,
].join("\n");

export async function accessVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    {
      server: { type: "string" },
      "replica-id": { type: "string" },
      creds: { type: "string" },
      "push-creds": { type: "string" },
      "chat-signing-key": { type: "string" },
      "operator-signing-key": { type: "string" },
      "chat-account": { type: "string" },
      "legacy-plaintext": { type: "boolean" },
      "user-expiry": { type: "string" },
      "rate-global": { type: "string" },
      "rate-name": { type: "string" },
      "rate-key": { type: "string" },
      "rate-address": { type: "string" },
      "quota-address": { type: "string" },
      "reserved-names": { type: "string" },
      "unused-expiry": { type: "string" },
      "expiry-grace": { type: "string" },
      "max-names": { type: "string" },
      "presence-period": { type: "string" },
      replicas: { type: "string" },
      "log-level": { type: "string" },
      "tls-ca": { type: "string" },
    },
    USAGE,
  );
  const { dir, ...rest } = flags;
  const opts = await resolveAccessConfig({
    flags: rest,
    env: process.env,
    dir,
    defaultServer: await defaultServer(dir),
  });
  const svc = await startAccessService(opts);
  // unexpected errors: an unhandled rejection is logged and counted, an uncaught exception drains
  // the service and exits 1 (the orchestrator restarts it)
  const guard = guardProcess({
    log: (line) => opts.log?.error(line),
    stopAll: () => svc.stop(),
  });
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
  guard.uninstall();
  // Stopping without a signal means the connection closed for good: let the orchestrator restart.
  return signaled ? 0 : 1;
}
