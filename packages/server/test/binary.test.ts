// Finding nats-server: versions parsed, old or missing servers refused with a clear message.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureNatsServer, parseVersion, probe } from "@natschat/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "natschat-bin-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fakeServer(name: string, script: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
  return path;
}

describe("nats-server discovery", () => {
  it("parses versions", () => {
    expect(parseVersion("nats-server: v2.10.27")).toEqual([2, 10, 27]);
    expect(parseVersion("garbage")).toBeUndefined();
  });

  it("accepts the real server (2.10 or later)", async () => {
    const bin = await ensureNatsServer();
    const [major, minor] = parseVersion(bin.version) as [number, number, number];
    expect(major * 100 + minor).toBeGreaterThanOrEqual(210);
  });

  it("refuses a server older than 2.10 and names its version", async () => {
    const old = await fakeServer("old", 'echo "nats-server: v2.9.25"');
    await expect(probe(old)).rejects.toMatchObject({
      code: "SERVER_TOO_OLD",
      message: expect.stringContaining("2.9.25"),
    });
  });

  it("refuses $NATS_SERVER when it is missing or broken", async () => {
    const saved = process.env.NATS_SERVER;
    try {
      process.env.NATS_SERVER = join(dir, "does-not-exist");
      await expect(ensureNatsServer()).rejects.toMatchObject({ code: "SERVER_NOT_RUNNABLE" });
      process.env.NATS_SERVER = await fakeServer("mute", "echo hello");
      await expect(ensureNatsServer()).rejects.toMatchObject({ code: "SERVER_VERSION" });
    } finally {
      process.env.NATS_SERVER = saved;
    }
  });
});
