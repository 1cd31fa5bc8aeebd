// `natschat server config`: prints the rendered nats-server config of the single topology.
import { planTopology, renderServerConfig } from "@natschat/server";
import { layout, loadTrust, resolverTrust } from "@natschat/trust";
import { parsePort, parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";

const USAGE = "natschat server config [--dir DIR] [--port N] [--ws-port N] [--http-port N]";

export async function serverVerb(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  // without the sub-verb, the flags are still checked (and --help answered)
  const { flags } = parseVerb(
    sub === "config" ? rest : argv,
    { port: { type: "string" }, "ws-port": { type: "string" }, "http-port": { type: "string" } },
    USAGE,
  );
  if (sub !== "config") throw new UsageError(`usage: ${USAGE}`);
  const trust = await loadTrust(flags.dir);
  const plan = await planTopology({
    topology: "single",
    dir: layout(flags.dir).server,
    preferred: {
      client: parsePort(flags.port, "port") ?? 4222,
      websocket: parsePort(flags["ws-port"], "ws-port") ?? 9222,
      http: parsePort(flags["http-port"], "http-port") ?? 8222,
    },
    onBusyPort: "ignore",
  });
  process.stdout.write(
    renderServerConfig(plan.servers[0] as (typeof plan.servers)[0], resolverTrust(trust)),
  );
  return 0;
}
