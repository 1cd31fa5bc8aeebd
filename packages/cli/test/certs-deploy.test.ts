// The `certs` and `deploy render` verbs as a user runs them: files made with the right modes,
// clear errors (exit 2 for usage, exit 1 with a code otherwise), never a stack trace.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "natschat-cli-deploy-"));
  const init = await runCli(["init", "--dir", join(dir, "data")]);
  expect(init.code, init.stderr).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("natschat certs", () => {
  it("makes the CA and a server certificate for the extra hosts, keys 0600", async () => {
    const r = await runCli([
      "certs",
      "--dir",
      join(dir, "data"),
      "--host",
      "chat.example.com,10.1.2.3",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("created: ca, server certificate");
    expect(r.stdout).toContain("chat.example.com, 10.1.2.3");
    expect(r.stdout).toMatch(/--ignore-certificate-errors-spki-list=[A-Za-z0-9+/]{43}=/);
    for (const key of ["ca-key.pem", "server-key.pem"])
      expect((await stat(join(dir, "data", "tls", key))).mode & 0o777).toBe(0o600);
  });

  it("rejects a bad host with its code and no stack trace", async () => {
    const r = await runCli(["certs", "--dir", join(dir, "data"), "--host", "not a host"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("[TLS_BAD_HOST]");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("natschat deploy render", () => {
  it("writes values, manifests, secrets and a Dockerfile", async () => {
    const out = join(dir, "out");
    const r = await runCli(["deploy", "render", "--dir", join(dir, "data"), "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("helm/nats-east.values.yaml");
    expect(r.stdout).toContain("never commit them");
    expect(r.stdout).not.toMatch(/S[OAU][A-Z2-7]{56}/);
    expect((await readdir(out)).sort()).toEqual(
      ["Dockerfile", "Dockerfile.dockerignore", "README.md", "helm", "k8s"].sort(),
    );
  });

  it("needs --out, and a subcommand (usage errors exit 2)", async () => {
    const noOut = await runCli(["deploy", "render", "--dir", join(dir, "data")]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("--out DIR is required");
    const noSub = await runCli(["deploy"]);
    expect(noSub.code).toBe(2);
    expect(noSub.stderr).toContain("natschat deploy render --out DIR");
  });

  it("names a bad region or an uninitialized dir clearly", async () => {
    const bad = await runCli([
      "deploy",
      "render",
      "--dir",
      join(dir, "data"),
      "--out",
      join(dir, "x"),
      "--regions",
      "East,west",
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("[BAD_NAME]");
    const empty = await runCli([
      "deploy",
      "render",
      "--dir",
      join(dir, "nothing"),
      "--out",
      join(dir, "y"),
    ]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("[NOT_INITIALIZED]");
    expect(empty.stderr).not.toMatch(/\n\s+at /);
  });
});
