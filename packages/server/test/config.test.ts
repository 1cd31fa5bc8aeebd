// Rendered configs pass `nats-server -t` for every topology, and carry operator mode with a full resolver.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkConfig,
  ensureNatsServer,
  planTopology,
  renderServerConfig,
  TOPOLOGIES,
} from "@natschat/server";
import { initTrust, layout, loadTrust, resolverTrust } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "natschat-conf-"));
  await initTrust({ dir });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("server config rendering", () => {
  it.each(TOPOLOGIES)("%s: every server config passes nats-server -t", async (topology) => {
    const trust = await loadTrust(dir);
    const paths = layout(dir);
    const plan = await planTopology({
      topology,
      dir: join(dir, topology),
      leafCreds: {
        chat: { account: trust.summary.accounts.CHAT.publicKey, credentials: paths.creds("leaf") },
        sys: { account: trust.summary.accounts.SYS.publicKey, credentials: paths.creds("sys") },
      },
    });
    const bin = await ensureNatsServer();
    for (const spec of plan.servers) {
      const text = renderServerConfig(spec, resolverTrust(trust));
      expect(text).toContain("operator:");
      expect(text).toMatch(/resolver: \{\n\s+type: "full"/);
      expect(text).toContain("resolver_preload");
      expect(text).toContain("websocket");
      expect(text).toContain("jetstream");
      const file = join(dir, `${topology}-${spec.name}.conf`);
      await writeFile(file, text);
      await checkConfig(bin.path, file);
    }
  });

  it("reports the server's own message for an invalid config", async () => {
    const bin = await ensureNatsServer();
    const file = join(dir, "bad.conf");
    await writeFile(file, "listen: [oops\n");
    await expect(checkConfig(bin.path, file)).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });
});
