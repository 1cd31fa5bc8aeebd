// End-to-end: two terminal chats (`natschat chat --creds … --server …`) in tmux against a real
// server. One sends; the other's captured pane shows the issued name and the text. Then the
// receiver is revoked, and its chat ends with the reason and a non-zero exit status.
import { execFile, execFileSync } from "node:child_process";
import { chmod, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { HistoryService } from "@natschat/history";
import {
  encodePresence,
  inboxPrefixFor,
  presenceSubject,
  signerFromSeed,
} from "@natschat/protocol";
import { freePort } from "@natschat/server";
import {
  mintChatUser,
  nativeCredsAuthenticator,
  startTestDirectory,
  startTestHistory,
  startTestStack,
  type TestDirectory,
  type TestStack,
} from "@natschat/testing";
import {
  connectRole,
  loadSeed,
  lookupAccountJwt,
  nativeKeyPair,
  pushAccountJwt,
  revokeInAccountJwt,
} from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../../..");
// A private tmux server (its own socket), so the test never touches anyone else's sessions.
const SOCKET = `natschat-e2e-${process.pid}`;

function hasTmux(): boolean {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const tmuxAvailable = hasTmux();
if (!tmuxAvailable) console.warn("tmux is not installed: skipping the terminal end-to-end test");

const tmux = (...args: string[]) => run("tmux", ["-L", SOCKET, ...args]);

async function capture(session: string): Promise<string> {
  const { stdout } = await tmux("capture-pane", "-p", "-J", "-t", session);
  return stdout;
}

/** The processes running in the pane (its shell and the chat under it), for a failure message. */
async function paneProcesses(session: string): Promise<string> {
  try {
    const { stdout } = await tmux("display-message", "-p", "-t", session, "#{pane_pid}");
    const { stdout: ps } = await run("ps", ["-eo", "pid,ppid,stat,etime,time,args"]);
    const [header, ...rows] = ps.trimEnd().split("\n");
    const inPane = new Set([stdout.trim()]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const row of rows) {
        const [pid, ppid] = row.trim().split(/\s+/);
        if (pid && ppid && inPane.has(ppid) && !inPane.has(pid)) {
          inPane.add(pid);
          grew = true;
        }
      }
    }
    const mine = rows.filter((r) => inPane.has(r.trim().split(/\s+/)[0] ?? ""));
    return [header, ...mine].join("\n");
  } catch (err) {
    return `(no process list: ${(err as Error).message})`;
  }
}

/** Polls the pane until `pred` holds; fails with the last screen after `timeoutMs`. */
async function waitForPane(
  session: string,
  pred: (screen: string) => boolean,
  what: string,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  let screen = "";
  while (Date.now() < deadline) {
    screen = await capture(session);
    if (pred(screen)) return screen;
    if (/natschat-exit=\d+/.test(screen)) break; // the chat ended: it will not get there
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `gave up waiting for ${what} (${timeoutMs} ms at most); ${session} shows:\n${screen.trimEnd()}\n` +
      `processes in the pane:\n${await paneProcesses(session)}`,
  );
}

/** Waits for the exit status the pane's shell prints after the chat ends. */
async function waitForExit(session: string, timeoutMs = 10_000): Promise<number> {
  const screen = await waitForPane(
    session,
    (s) => /natschat-exit=\d+/.test(s),
    `${session}'s chat to exit`,
    timeoutMs,
  );
  return Number(/natschat-exit=(\d+)/.exec(screen)?.[1]);
}

/**
 * Starts `natschat chat --creds FILE --server URL` in a new tmux session called `name`, in a
 * 120x30 pane. When the chat ends, the pane's shell prints natschat-exit=STATUS.
 */
async function startChatPane(name: string, credsPath: string, server: string): Promise<void> {
  const cmd = [
    // as on a CI machine: Ink must still draw every frame (it drew nothing until exit there)
    "CI=true",
    "node",
    join(ROOT, "bin/natschat.js"),
    "chat",
    "--dir",
    stack.dir,
    "--creds",
    credsPath,
    "--server",
    server,
  ].join(" ");
  // tmux runs this through sh; the exit status is printed (tmux's own pane_dead_status is
  // not reliable: it stays empty when tmux has not reaped the process yet)
  // remain-on-exit (on before the pane starts) keeps the last screen for capture
  await tmux(
    ...["-f", "/dev/null", "start-server", ";", "set-option", "-g", "remain-on-exit", "on"],
    // started outside the repo, as a user would run it: JSX must still compile
    ...[";", "new-session", "-d", "-s", name, "-x", "120", "-y", "30", "-c", stack.dir],
    `${cmd}; echo natschat-exit=$?`,
  );
}

let stack: TestStack;
// protocol v3: history is a service, and names come from the directory (a stand-in here)
let history: HistoryService;
let directory: TestDirectory;

describe.skipIf(!tmuxAvailable)("terminal chat in tmux", () => {
  beforeAll(async () => {
    stack = await startTestStack();
    history = await startTestHistory(stack);
    directory = await startTestDirectory(stack);
  });

  afterAll(async () => {
    // kill-server ends only our private tmux server (and the chats in it)
    await tmux("kill-server").catch(() => undefined);
    await directory?.stop();
    await history?.stop();
    await stack?.stop();
  });

  it("one sends, the other's pane shows the issued name and the text; revocation ends it", {
    timeout: 240_000,
  }, async () => {
    const users = {
      alice: await mintChatUser(stack.dir, "alice"),
      bob: await mintChatUser(stack.dir, "bob"),
    };
    for (const [name, u] of Object.entries(users)) {
      directory.register(u);
      const path = join(stack.dir, `${name}.creds`);
      await writeFile(path, u.creds, { mode: 0o600 });
      await chmod(path, 0o600);
      await startChatPane(name, path, stack.urls[0] as string);
    }
    // The first start compiles the CLI (tsx) while other suites share the two cores: be patient
    // for the first screen. Presence itself is quick once both are up.
    for (const [me, other] of [
      ["alice", "bob"],
      ["bob", "alice"],
    ] as const) {
      await waitForPane(me, (s) => s.includes("connected"), `${me}'s chat to connect`, 60_000);
      await waitForPane(me, (s) => s.includes(`● ${other}`), `${me} to see ${other} online`);
    }

    await tmux("send-keys", "-t", "alice", "-l", "hello from the terminal");
    await tmux("send-keys", "-t", "alice", "Enter");
    const screen = await waitForPane(
      "bob",
      (s) => /\d\d:\d\d alice: hello from the terminal/.test(s),
      "bob's pane to show alice's message",
    );
    expect(screen).toContain("alice: hello from the terminal");

    // revoke bob: his chat must end by itself, with the reason and a non-zero exit
    const push = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("push"),
      inboxOwner: "push",
    });
    try {
      const chat = stack.trust.summary.accounts.CHAT.publicKey;
      const signer = nativeKeyPair(await loadSeed(stack.dir, "operator-signing", "O"));
      const updated = await revokeInAccountJwt(
        await lookupAccountJwt(push, chat),
        users.bob.publicKey,
        signer,
      );
      await pushAccountJwt(push, updated, stack.urls.length);
    } finally {
      await push.close();
    }
    expect(await waitForExit("bob")).toBe(1);
    expect(await capture("bob")).toMatch(/revoked/);

    // alice quits with Ctrl-C: exit status 0
    await tmux("send-keys", "-t", "alice", "C-c");
    expect(await waitForExit("alice")).toBe(0);
  });

  it("2 chats and 500 simulated users: each pane counts 501 others online; a goodbye makes it 500", {
    timeout: 300_000,
  }, async () => {
    // issue 12: the list comes from the directory's presence feed. The simulated users are real
    // connections with their own keys, sending signed heartbeats as a chat does.
    const conns: NatsConnection[] = [];
    const sims: { nc: NatsConnection; beat: (goodbye?: boolean) => Promise<void> }[] = [];
    const keep = setInterval(() => {
      for (const s of sims) void s.beat().catch(() => undefined);
    }, 10_000);
    try {
      for (const name of ["erin", "frank"]) {
        const u = await mintChatUser(stack.dir, name);
        directory.register(u);
        const path = join(stack.dir, `${name}.creds`);
        await writeFile(path, u.creds, { mode: 0o600 });
        await startChatPane(name, path, stack.urls[0] as string);
      }
      for (let i = 0; i < 500; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, async (_, j) => {
            const u = await mintChatUser(stack.dir, `sim-${i + j}`);
            directory.register(u);
            const nc = await connect({
              servers: stack.urls,
              authenticator: nativeCredsAuthenticator(u),
              inboxPrefix: inboxPrefixFor(u.publicKey),
            });
            conns.push(nc);
            const signer = await signerFromSeed(u.seed);
            const beat = async (goodbye = false) => {
              const token = await encodePresence(signer, {
                name: u.name,
                ...(goodbye ? { ttlSeconds: 0 } : {}),
              });
              nc.publish(presenceSubject(u.publicKey), token);
              await nc.flush();
            };
            await beat();
            return { nc, beat };
          }),
        );
        sims.push(...batch);
      }
      for (const pane of ["erin", "frank"]) {
        await waitForPane(pane, (s) => s.includes("· 501 online"), `${pane} to count 501`, 60_000);
      }
      await sims.pop()?.beat(true);
      for (const pane of ["erin", "frank"]) {
        await waitForPane(pane, (s) => s.includes("· 500 online"), `${pane} to count 500`, 30_000);
      }
      await tmux("send-keys", "-t", "erin", "C-c");
      await tmux("send-keys", "-t", "frank", "C-c");
      expect(await waitForExit("erin")).toBe(0);
      expect(await waitForExit("frank")).toBe(0);
    } finally {
      clearInterval(keep);
      for (const nc of conns) await nc.close().catch(() => undefined);
    }
  });

  it("a server that is not there: the chat says so and exits 1", async () => {
    const path = join(stack.dir, "carol.creds");
    await writeFile(path, (await mintChatUser(stack.dir, "carol")).creds, { mode: 0o600 });
    const nothing = `nats://127.0.0.1:${await freePort()}`;
    await startChatPane("carol", path, nothing);
    expect(await waitForExit("carol", 60_000)).toBe(1);
    const screen = await capture("carol");
    expect(screen).toContain(`cannot connect to ${nothing}`);
    expect(screen).toContain("is the server running?");
  });

  it("draws at once while it connects, and Ctrl-C then quits (exit 0)", async () => {
    // a server that takes the TCP connection and never speaks: the chat stays "connecting"
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const path = join(stack.dir, "dave.creds");
      await writeFile(path, (await mintChatUser(stack.dir, "dave")).creds, { mode: 0o600 });
      const port = (silent.address() as AddressInfo).port;
      await startChatPane("dave", path, `nats://127.0.0.1:${port}`);
      await waitForPane("dave", (s) => s.includes("● connecting as dave"), "dave's screen", 60_000);
      await tmux("send-keys", "-t", "dave", "C-c");
      expect(await waitForExit("dave")).toBe(0);
    } finally {
      silent.close();
    }
  });
});
