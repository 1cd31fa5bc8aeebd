// Bad command-line input and a damaged data dir: every case ends with one line naming the
// problem (with its code in brackets, or the usage for a usage error), exit status 2 for usage
// errors and 1 for the rest, no stack trace, no seed, no hang, and no server left running.
// Unknown verbs and flags of init, bad --port values, a data dir below a file, a bad topology
// name, a missing or old nats-server, and bad creds for describe are covered in
// packages/cli/test/bad-input.test.ts; this file adds the rest.
import { type ChildProcess, spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "@natschat/server";
import { eventually, NATSCHAT_BIN, runCli, within } from "@natschat/testing";
import { initTrust, layout, readOptional } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SEED = /S[OACUNX][A-Z2-7]{56}/;
const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

let tmp: string;
let base: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "natschat-e2e-cli-"));
  base = join(tmp, "base");
  await initTrust({ dir: base });
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A copy of the initialized data dir, damaged by `damage`. */
async function dataDir(name: string, damage?: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(tmp, name);
  await cp(base, dir, { recursive: true });
  await damage?.(dir);
  return dir;
}

type Row = [label: string, args: () => Promise<string[]>, exit: 1 | 2, stderr: RegExp];

// one data dir for the rows that never take `up`'s lock on it (each `up` row has its own)
// one data dir for the rows that never take `up`'s lock on it (each `up` row has its own)
const d = async () => ["--dir", base];

const ROWS: Row[] = [
  [
    "up: websocket port 0",
    async () => ["up", ...(await d()), "--ws-port", "0"],
    2,
    /--ws-port "0" is not a port: use a whole number from 1 to 65535/,
  ],
  [
    "up: web port 70000",
    async () => ["up", ...(await d()), "--web-port", "70000"],
    2,
    /--web-port "70000" is not a port/,
  ],
  [
    "up: monitoring port abc",
    async () => ["up", ...(await d()), "--http-port", "abc"],
    2,
    /--http-port "abc" is not a port/,
  ],
  [
    "up: a region name with a space",
    async () => ["up", "--dir", await dataDir("r1"), "--regions", "a b"],
    1,
    /\[BAD_REGIONS\] region "a b" is not a valid name/,
  ],
  [
    "up: two regions of the same name",
    async () => [
      "up",
      "--dir",
      await dataDir("r2"),
      "--topology",
      "supercluster",
      "--regions",
      "x,x",
    ],
    1,
    /\[BAD_REGIONS\] region names must differ/,
  ],
  [
    "up: three regions for leaf",
    async () => ["up", "--dir", await dataDir("r3"), "--topology", "leaf", "--regions", "a,b,c"],
    1,
    /\[BAD_REGIONS\] the leaf topology has 2 regions/,
  ],
  [
    "access: --replicas 2",
    async () => ["access", ...(await d()), "--replicas", "2"],
    1,
    /\[CONFIG_INVALID\] --replicas "2" must be 1, 3 or 5/,
  ],
  [
    "access: --rate-global abc",
    async () => ["access", ...(await d()), "--rate-global", "abc"],
    1,
    /\[CONFIG_INVALID\] --rate-global "abc" is not a rate/,
  ],
  [
    "access: --user-expiry 0",
    async () => ["access", ...(await d()), "--user-expiry", "0"],
    1,
    /\[CONFIG_INVALID\] --user-expiry must be more than 0/,
  ],
  [
    "access: --chat-account XYZ",
    async () => ["access", ...(await d()), "--chat-account", "XYZ"],
    1,
    /\[CONFIG_INVALID\] chat account "XYZ" is not an account public key/,
  ],
  [
    "access: --replica-id a.b",
    async () => ["access", ...(await d()), "--replica-id", "a.b"],
    1,
    /\[CONFIG_INVALID\] --replica-id "a\.b" must be 1 to 64/,
  ],
  [
    "access: --log-level loud",
    async () => ["access", ...(await d()), "--log-level", "loud"],
    1,
    /\[CONFIG_INVALID\] log level "loud" is unknown/,
  ],
  [
    "access: an unknown flag",
    async () => ["access", ...(await d()), "--bogus"],
    2,
    /unknown flag --bogus;[\s\S]*usage: natschat access/,
  ],
  [
    "users: an unknown flag",
    async () => ["users", ...(await d()), "--bogus"],
    2,
    /unknown flag --bogus;[\s\S]*usage: natschat users/,
  ],
  [
    "chat: --history -5",
    async () => ["chat", "x", ...(await d()), "--history=-5"],
    2,
    /--history "-5" must be a whole number from 0 to 10000/,
  ],
  [
    "chat: a channel with a dot",
    async () => ["chat", "x", ...(await d()), "--channels", "a.b"],
    2,
    /--channels: channel name "a\.b" has "\."/,
  ],
  [
    "chat: a name with a dot",
    async () => ["chat", "al.ice", ...(await d())],
    1,
    /\[NAME_INVALID\] name "al\.ice" has '\.'/,
  ],
  [
    "join: a name with a dot",
    async () => ["join", "al.ice", ...(await d())],
    2,
    /name "al\.ice" has '\.'/,
  ],
  [
    "corrupt data dir: trust.json is not JSON (join)",
    async () => [
      "join",
      "alice",
      "--dir",
      await dataDir("bad-summary", (x) => writeFile(join(x, "trust.json"), "{oops")),
    ],
    1,
    /\[TRUST_CORRUPT\] .*trust\.json is not valid JSON; re-run `natschat init/,
  ],
  [
    "corrupt data dir: the CHAT account JWT (server config)",
    async () => [
      "server",
      "config",
      "--dir",
      await dataDir("bad-jwt", (x) => writeFile(layout(x).jwt("CHAT"), "garbage.jwt")),
    ],
    1,
    /\[JWT_CORRUPT\] .*CHAT\.jwt is not a valid JWT/,
  ],
  [
    "corrupt data dir: a truncated CHAT signing key (access)",
    async () => [
      "access",
      "--dir",
      await dataDir("bad-key", async (x) =>
        writeFile(
          layout(x).key("CHAT-signing"),
          (await readFile(layout(x).key("CHAT-signing"), "utf8")).slice(0, 30),
        ),
      ),
    ],
    1,
    /\[CONFIG_INVALID\] .*CHAT-signing\.nk does not hold the CHAT signing key/,
  ],
  [
    "corrupt data dir: an account seed as the operator signing key (access)",
    async () => [
      "access",
      "--dir",
      await dataDir("wrong-key", (x) =>
        cp(layout(x).key("CHAT"), layout(x).key("operator-signing")),
      ),
    ],
    1,
    /\[CONFIG_INVALID\] .*operator-signing\.nk does not hold the operator signing key \(an 'SO\.\.\.' nkey seed\)/,
  ],
  [
    "corrupt data dir: the bootstrap creds are missing (join)",
    async () => [
      "join",
      "alice",
      "--server",
      "nats://127.0.0.1:9",
      "--dir",
      await dataDir("no-bootstrap", (x) => rm(layout(x).creds("bootstrap"))),
    ],
    1,
    /\[CREDS_UNREADABLE\] cannot read creds .*bootstrap\.creds \(ENOENT\)/,
  ],
  [
    "unwritable data dir: under /proc (Node's recursive mkdir used to spin forever)",
    async () => ["init", "--dir", "/proc/natschat-e2e"],
    1,
    /\[DIR_UNWRITABLE\] cannot create directory \/proc\/natschat-e2e \(ENOENT\): a parent cannot hold it/,
  ],
  [
    "unwritable data dir: below a dangling symlink",
    async () => {
      const link = join(tmp, "dangling");
      await symlink(join(tmp, "nowhere"), link).catch(() => undefined);
      return ["up", "--dir", join(link, "data")];
    },
    1,
    /\[DIR_UNWRITABLE\] cannot create directory .*dangling\/data \(ENOENT\)/,
  ],
];

describe("CLI bad input and a damaged data dir", () => {
  it.concurrent.each(ROWS)("%s", async (_label, args, exit, stderr) => {
    const r = await runCli(await args());
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(exit);
    expect(r.stderr).toMatch(stderr);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(SEED);
  });

  it("up with a corrupt account JWT starts no server", async () => {
    const dir = await dataDir("bad-jwt-up", (x) => writeFile(layout(x).jwt("CHAT"), "garbage.jwt"));
    const r = await runCli(["up", "--dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[JWT_CORRUPT\]/);
    expect(await readOptional(layout(dir).upJson)).toBeUndefined();
    expect(await readOptional(join(layout(dir).server, "n1", "nats.conf"))).toBeUndefined();
  });
});

/** Spawns a verb whose stdout reader has gone away before the first line. */
function spawnWithClosedStdout(args: string[]): {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [NATSCHAT_BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.destroy();
  let err = "";
  child.stderr?.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return { child, stderr: () => err, exited };
}

describe("a reader that goes away (natschat … | head)", () => {
  it("help into a closed pipe: no crash, no stack trace", async () => {
    const { stderr, exited } = spawnWithClosedStdout(["help"]);
    expect(await within(exited, "natschat help to exit")).toBe(0);
    expect(stderr()).not.toMatch(/EPIPE/);
    expect(stderr()).not.toMatch(STACK_FRAME);
  });

  it("up into a closed pipe keeps running, and SIGTERM still stops every server", async () => {
    const dir = await dataDir("up-closed-stdout");
    const [port, ws, http, web] = (await freePorts(4)).map(String) as [
      string,
      string,
      string,
      string,
    ];
    const { child, stderr, exited } = spawnWithClosedStdout([
      "up",
      "--dir",
      dir,
      "--port",
      port,
      "--ws-port",
      ws,
      "--http-port",
      http,
      "--web-port",
      web,
    ]);
    try {
      const started = eventually(
        async () => {
          const text = await readOptional(layout(dir).upJson);
          return text ? (JSON.parse(text) as { pids: { servers: number[] } }) : undefined;
        },
        "up to start with its stdout closed",
        { timeoutMs: 90_000, everyMs: 200, describe: () => stderr().slice(-500) },
      );
      // an `up` that dies meanwhile fails the test at once, with what it printed
      const died = exited.then((code) => {
        throw new Error(`up exited with ${code} while starting:\n${stderr().slice(-1500)}`);
      });
      const state = await Promise.race([started, died]);
      died.catch(() => undefined);
      expect(stderr()).not.toMatch(STACK_FRAME);
      child.kill("SIGTERM");
      expect(await within(exited, "up to stop on SIGTERM", 30_000)).toBe(0);
      for (const pid of state.pids.servers) {
        expect(() => process.kill(pid, 0), `nats-server ${pid} is still running`).toThrow();
      }
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 120_000);
});
