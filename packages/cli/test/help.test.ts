// The CLI's help and its errors for mistyped commands: `VERB --help` explains the verb (usage,
// every flag, the --role values) and exits 0; an unknown flag, a flag without its value and a
// misspelt verb get our own one-line errors with a suggestion; a data dir with no deployment is
// named as such, without advice that would create a deployment at a typo.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@natschat/testing";
import { ROLES } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "natschat-help-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The verbs `natschat --help` lists. */
async function verbs(): Promise<string[]> {
  const r = await runCli(["--help"]);
  expect(r.code).toBe(0);
  return r.stdout
    .split("\n")
    .map((l) => /^ {2}([a-z]+) /.exec(l)?.[1])
    .filter((v): v is string => v !== undefined);
}

describe("natschat VERB --help", () => {
  it("prints usage, a description of every flag, and exits 0, for every verb", {
    timeout: 180_000,
  }, async () => {
    const all = await verbs();
    expect(all).toEqual(expect.arrayContaining(["up", "users", "chat", "status", "pub"]));
    for (const verb of all) {
      const r = await runCli([verb, "--help"]);
      expect(r.code, `${verb}: ${r.stderr}`).toBe(0);
      expect(r.stdout, verb).toMatch(new RegExp(`^usage: natschat ${verb}\\b`, "m"));
      const flags = r.stdout.split("\n").filter((l) => /^ {2}--[a-z]/.test(l));
      expect(flags.length, `${verb} lists its flags`).toBeGreaterThan(0);
      // each flag has its words: "  --name VALUE   what it does"
      for (const f of flags) expect(f, `${verb}: ${f}`).toMatch(/^ {2}--\S+.*? {2,}\S.{5,}/);
      expect(r.stdout, verb).toMatch(/^ {2}--dir DIR {2,}/m);
    }
  });

  it("names the --role values", async () => {
    for (const verb of ["pub", "sub", "req", "reply"]) {
      const r = await runCli([verb, "--help"]);
      const role = r.stdout.split("\n").find((l) => l.startsWith("  --role"));
      for (const name of ROLES) expect(role, verb).toContain(name);
    }
  });
});

describe("mistyped commands", () => {
  it("an unknown flag: our own error, with the nearest flag and where help is", async () => {
    const r = await runCli(["users", "--wath"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("natschat users: unknown flag --wath; did you mean --watch?");
    expect(r.stderr).toContain("natschat users --help");
    expect(r.stderr).not.toContain("To specify a positional argument");
    const far = await runCli(["users", "--bogus"]);
    expect(far.stderr).toContain("unknown flag --bogus");
    expect(far.stderr).not.toContain("did you mean");
  });

  it("a flag without its value, and a value given to a switch", async () => {
    const r = await runCli(["chat", "--server"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--server needs a value (--server URL)");
    expect(r.stderr).not.toContain("argument missing");
    const sw = await runCli(["users", "--watch=yes"]);
    expect(sw.code).toBe(2);
    expect(sw.stderr).toContain("--watch takes no value");
  });

  it("a misspelt verb: did you mean", async () => {
    const r = await runCli(["stauts"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown verb "stauts"; did you mean "status"?');
  });

  it("a data dir with no deployment: says so, and does not offer to create one at the typo", async () => {
    const typo = join(tmp, "typo");
    for (const verb of ["users", "status", "revoke x", "push"]) {
      const r = await runCli([...verb.split(" "), "--dir", typo]);
      expect(r.code, verb).toBe(1);
      expect(r.stderr, verb).toContain(`${typo} has no natschat deployment`);
      expect(r.stderr, verb).not.toContain("natschat init");
      expect(r.stderr, verb).toContain("natschat up --dir");
    }
  });
});
