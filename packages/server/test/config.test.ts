// Rendered configs pass `nats-server -t` for every topology, and carry operator mode with a full resolver.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkConfig,
  ensureDevCerts,
  ensureNatsServer,
  planTopology,
  renderServerConfig,
  TOPOLOGIES,
  type Topology,
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
  const cases = TOPOLOGIES.flatMap((t) => [
    [t, false],
    [t, true],
  ]) as [Topology, boolean][];
  it.each(cases)(
    "%s (tls %s): every server config passes nats-server -t",
    async (topology, tls) => {
      const trust = await loadTrust(dir);
      const paths = layout(dir);
      const plan = await planTopology({
        topology,
        dir: join(dir, topology),
        tls: tls ? (await ensureDevCerts({ dir })).files : undefined,
        leafCreds: {
          chat: {
            account: trust.summary.accounts.CHAT.publicKey,
            credentials: paths.creds("leaf"),
          },
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
        if (spec.jetstream === "server") expect(text).toMatch(/jetstream: \{[^}]*domain: "hub"/s);
        else expect(text).not.toContain("jetstream");
        if (spec.leafRemotes) expect(text).toMatch(/remotes: \[\n\s+\{\n\s+urls: \[/);
        if (tls) {
          // client, websocket, cluster, gateway and leafnode listeners each get a tls block
          const listeners = ["websocket", "cluster", "gateway", "leafnodes"].filter((b) =>
            new RegExp(`^${b}: `, "m").test(text),
          );
          const blocks = text.match(/tls: \{\n\s+cert_file:/g) ?? [];
          expect(blocks.length, text).toBe(1 + listeners.length - (spec.leafRemotes ? 1 : 0));
        }
        const file = join(dir, `${topology}-${tls ? "tls-" : ""}${spec.name}.conf`);
        await writeFile(file, text);
        await checkConfig(bin.path, file);
      }
    },
  );

  it("reports the server's own message for an invalid config", async () => {
    const bin = await ensureNatsServer();
    const file = join(dir, "bad.conf");
    await writeFile(file, "listen: [oops\n");
    await expect(checkConfig(bin.path, file)).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });
});
