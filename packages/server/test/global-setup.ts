// Vitest global setup: make sure a nats-server 2.10+ exists before any test starts, and hand
// its path to the test workers through NATS_SERVER.
import { ensureNatsServer } from "@natschat/server";

export default async function setup(): Promise<void> {
  const binary = await ensureNatsServer(undefined, (line) => console.log(`[setup] ${line}`));
  process.env.NATS_SERVER = binary.path;
  console.log(`[setup] using nats-server ${binary.version} at ${binary.path}`);
}
