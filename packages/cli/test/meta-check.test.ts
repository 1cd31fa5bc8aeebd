// `natschat meta-check`, the command the Kubernetes hook Job runs after `helm install|upgrade`,
// against a real meta group that formed short. The short group is made deterministically: with
// east-3 stopped, the meta leader removes it as a peer ($JS.API.SERVER.REMOVE, as `nats server
// raft peer-remove` does), and east-3 starts again on an empty store. It then knows the leader,
// the leader's group counts 2, and nobody adds east-3 back: the state nats-server 2.10 sometimes
// settles in by itself when all servers start at once (issue 14: 3 of 8 hub starts). What heals
// differs: the natural case joins when the left-out server restarts (what `natschat up` does,
// docs/operations.md), while a peer-removed server stays out across restarts (tried here: 60 s),
// so this file tests the detection and the message, not the heal.
import { readFile, rm } from "node:fs/promises";
import {
  ensureNatsServer,
  leftOutOfMetaGroup,
  metaViews,
  type RunningServer,
  startServer,
} from "@natschat/server";
import { eventually, runCli, startTestStack, type TestStack } from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
const extra: RunningServer[] = [];
beforeAll(async () => {
  stack = await startTestStack({ topology: "cluster" });
}, 180_000);
afterAll(async () => {
  await Promise.all(extra.map((s) => s.stop()));
  await stack?.stop();
});

const monitorUrls = () => stack.topology.servers.map((s) => s.monitorUrl).join(",");
/** A host name that never resolves (RFC 2606): a region not deployed yet. */
const NOT_DEPLOYED = "http://west-0.nats-west-headless.invalid:8222";

/** Starts a server again from its own config file, on the same ports and store. */
async function startAgain(old: RunningServer): Promise<RunningServer> {
  const binary = await ensureNatsServer();
  const server = await startServer({
    binary: binary.path,
    spec: old.spec,
    config: await readFile(old.configPath, "utf8"),
    configPath: old.configPath,
    logPath: `${old.logPath}.${extra.length + 1}`,
    healthTimeoutMs: 60_000,
  });
  extra.push(server);
  return server;
}

describe("natschat meta-check", () => {
  it("passes on a complete group, and leaves out an optional server that is not deployed", async () => {
    const r = await runCli([
      "meta-check",
      "--monitor",
      monitorUrls(),
      "--optional",
      NOT_DEPLOYED,
      "--timeout",
      "60",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("west-0.nats-west-headless.invalid:8222: its name does not resolve");
    expect(r.stdout).toMatch(/meta group complete: 3 servers \(east-1, east-2, east-3\)/);
  }, 90_000);

  it("fails on a group that formed short, naming the left-out server and the kubectl fix", async () => {
    const victim = stack.topology.servers[2] as RunningServer;
    expect(victim.spec.name).toBe("east-3");
    await victim.stop();
    const nc = await connectRole({
      servers: stack.topology.servers[0]?.url as string,
      credsPath: stack.creds("sys"),
      inboxOwner: "sys",
    });
    try {
      const reply = await nc.request(
        "$JS.API.SERVER.REMOVE",
        JSON.stringify({ peer: victim.spec.name }),
        { timeout: 10_000 },
      );
      expect(reply.json<{ success?: boolean }>().success, reply.string()).toBe(true);
    } finally {
      await nc.close();
    }
    await rm(victim.spec.storeDir, { recursive: true, force: true });
    stack.topology.servers[2] = await startAgain(victim);
    // the short group is real: the detection `natschat up` uses sees east-3 left out
    let leftOut: string[] = [];
    await eventually(
      async () => {
        leftOut = leftOutOfMetaGroup(await metaViews(stack.topology.servers));
        return leftOut.join() === "east-3";
      },
      "east-3 left out of the meta group",
      { timeoutMs: 30_000, everyMs: 200, describe: () => `left out: [${leftOut.join()}]` },
    );

    const r = await runCli([
      "meta-check",
      "--monitor",
      monitorUrls(),
      "--namespace",
      "natschat",
      "--timeout",
      "60",
    ]);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toContain(
      "[META_GROUP_SHORT] east-3 was left out of the JetStream meta group",
    );
    expect(r.stderr).toContain("leads a group of 2, and 3 JetStream servers answer");
    expect(r.stderr).toContain("kubectl -n natschat delete pod east-3");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it("names bad input clearly (usage errors exit 2)", async () => {
    const none = await runCli(["meta-check"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--monitor URL is required");
    const bad = await runCli(["meta-check", "--monitor", "east-0:8222"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"east-0:8222" is not a monitoring URL');
  });
});
