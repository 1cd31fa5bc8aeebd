// `natschat history`: one history replica in the foreground (what a Kubernetes Deployment runs),
// from a data dir, listed by $SRV, drained by SIGTERM; bad flags are refused with the flag named.
import { runCli, startCli, startTestStack, stopCli, type TestStack } from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe("natschat history", () => {
  it("runs a replica that $SRV lists, and stops cleanly on SIGTERM", async () => {
    const { child } = await startCli(
      ["history", "--dir", stack.dir, "--server", stack.urls.join(","), "--replica-id", "k8s-1"],
      /history service started/,
    );
    try {
      const admin = await connectRole({
        servers: stack.urls,
        credsPath: stack.creds("admin"),
        inboxOwner: "admin",
      });
      const r = await admin.request("$SRV.PING.natschat-history", "", { timeout: 5000 });
      expect(r.json<{ name: string }>().name).toBe("natschat-history");
      await admin.close();
      expect(await stopCli(child, "SIGTERM", 10_000)).toBe(0);
    } finally {
      await stopCli(child, "SIGKILL");
    }
  });

  it("refuses bad flags, naming them", async () => {
    for (const [args, message] of [
      [["--replicas", "2"], /--replicas 2: use 1, 3 or 5/],
      [["--quota", "lots"], /--quota "lots" is not a size/],
      [["--quota", "1KiB"], /below 16KiB/],
      [["--replica-id", "a b"], /--replica-id/],
      [["--chat-account", "nope"], /not an account public key/],
    ] as const) {
      const r = await runCli(["history", "--dir", stack.dir, ...args]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain("CONFIG_INVALID");
    }
  });
});
