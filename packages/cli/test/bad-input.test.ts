// Bad input to the CLI gets a clear, specific error and a non-zero exit, never a stack trace.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@natschat/testing";
import { initTrust, layout } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "natschat-cli-"));
  dir = join(tmp, "data");
  await initTrust({ dir });
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/**
 * An nkey seed as a whole word: 58 base32 characters from S + U, A or O. (A public key is 56
 * long, and may hold "SA…" inside it: an earlier, looser pattern matched such keys.)
 */
const SEED = /(?<![A-Z2-7])S[UAO][A-Z2-7]{56}(?![A-Z2-7])/;

function expectClean(r: { stderr: string; stdout: string }) {
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack frames
  expect(`${r.stdout}${r.stderr}`).not.toMatch(SEED); // no seed, ever
}

describe("CLI bad input", () => {
  it("no verb, unknown verb, unknown flag", async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    const unknown = await runCli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown verb "frobnicate"');
    const flag = await runCli(["init", "--dir", dir, "--bogus"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("--bogus");
    expect(flag.stderr).toContain("usage: natschat init");
    expectClean(flag);
  });

  it("an unwritable data dir", async () => {
    const file = join(tmp, "a-file");
    await writeFile(file, "x");
    const r = await runCli(["init", "--dir", join(file, "sub")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("DIR_UNWRITABLE");
    expect(r.stderr).toContain(join(file, "sub"));
    expectClean(r);
  });

  it("bad ports and a bad topology", async () => {
    for (const port of ["99999", "0", "abc", "-1", "80.5"]) {
      const r = await runCli(["up", "--dir", dir, `--port=${port}`]);
      expect(r.code, port).toBe(2);
      expect(r.stderr).toContain(`--port "${port}" is not a port`);
    }
    const t = await runCli(["up", "--dir", dir, "--topology", "mesh"]);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain('unknown topology "mesh"');
    expectClean(t);
  });

  it("a missing or too-old nats-server", async () => {
    const old = join(tmp, "old-nats-server");
    await writeFile(old, '#!/bin/sh\necho "nats-server: v2.9.25"\n', { mode: 0o755 });
    const r = await runCli(["up", "--dir", dir], { NATS_SERVER: old });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("2.9.25");
    expect(r.stderr).toContain("too old");
    const missing = await runCli(["up", "--dir", dir], { NATS_SERVER: join(tmp, "nope") });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("SERVER_NOT_RUNNABLE");
    expectClean(missing);
  });

  it("corrupt, truncated and wrong-type creds, and a broken JWT, for describe", async () => {
    const good = await readFile(layout(dir).creds("admin"), "utf8");
    const cases: [string, string, RegExp][] = [
      ["truncated", good.slice(0, 200), /creds|JWT|seed/i],
      ["empty", "", /empty|creds/i],
      ["wrong markers", good.replaceAll("NATS USER JWT", "SOMETHING ELSE"), /JWT|block|marker/i],
      [
        "wrong-type seed",
        good.replace(
          /(BEGIN USER NKEY SEED-----\n)SU[A-Z2-7]+/,
          `$1${(await readFile(layout(dir).key("CHAT"), "utf8")).trim()}`,
        ),
        /user seed|type|SU/i,
      ],
    ];
    for (const [label, text, msg] of cases) {
      const f = join(tmp, `${label.replaceAll(" ", "-")}.creds`);
      await writeFile(f, text);
      const r = await runCli(["describe", f, "--dir", dir]);
      expect(r.code, label).not.toBe(0);
      expect(r.stderr, label).toMatch(msg);
      expectClean(r);
    }
    const jwt = await runCli(["describe", "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.bad", "--dir", dir]);
    expect(jwt.code).not.toBe(0);
    expect(jwt.stderr).toContain("not a valid, correctly signed JWT");
  });

  it("describe shows a role's permissions and never its seed", async () => {
    const r = await runCli(["describe", layout(dir).creds("bootstrap"), "--dir", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("type:       user");
    expect(r.stdout).toContain("name:       bootstrap");
    expect(r.stdout).toContain("chat.req.access");
    expect(r.stdout).toContain("seed:       present");
    expectClean(r);
    const account = await runCli(["describe", layout(dir).jwt("CHAT"), "--dir", dir]);
    expect(account.stdout).toContain("type:       account");
    expect(account.stdout).toContain("chat.KUBECON.online");
    const seedFile = layout(dir).key("CHAT-signing");
    const seed = await runCli(["describe", seedFile, "--dir", dir]);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain("never prints seeds");
    expectClean(seed);
  });

  it("tools without creds say what to pass", async () => {
    const r = await runCli(["pub", "x", "--dir", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("pass --creds FILE or --role ROLE");
    const role = await runCli(["pub", "x", "--dir", dir, "--role", "king"]);
    expect(role.stderr).toContain('--role "king" is not a role');
  });
});
