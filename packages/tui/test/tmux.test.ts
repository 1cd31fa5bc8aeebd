// End-to-end: two terminal chats (`natschat chat --creds … --server …`) in tmux against a real
// server. One sends; the other's captured pane shows the issued name and the text. Then the
// receiver is revoked, and its chat ends with the reason and a non-zero exit status.
import { chmod, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import type { HistoryService } from "@natschat/history";
import { freePort } from "@natschat/server";
import {
  mintChatUser,
  type SimulatedUser,
  simulateUser,
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
import { chatCommand, hasTmux, paneRows, Tmux } from "./tmux.ts";

const tmuxAvailable = hasTmux();
if (!tmuxAvailable) console.warn("tmux is not installed: skipping the terminal end-to-end test");
const tmux = new Tmux("e2e");

/** Starts the chat of `credsPath` in a new tmux session called `name`, in a 120x30 pane. */
async function startChatPane(name: string, credsPath: string, server: string): Promise<void> {
  await tmux.start(name, chatCommand(stack.dir, credsPath, server), {
    columns: 120,
    rows: 30,
    cwd: stack.dir,
  });
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
    await tmux.kill();
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
      await tmux.waitFor(me, (s) => s.includes("connected"), `${me}'s chat to connect`, 60_000);
      await tmux.waitFor(me, (s) => s.includes(`● ${other}`), `${me} to see ${other} online`);
    }

    await tmux.type("alice", "hello from the terminal");
    await tmux.press("alice", "Enter");
    const screen = await tmux.waitFor(
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
      // as the access service's revoke does: the key leaves the online set (this test revokes
      // by hand, past the service, so the stand-in directory is told; otherwise bob, cut off
      // without a goodbye, would count as online until his heartbeats lapse)
      await directory.online.remove(users.bob.publicKey);
    } finally {
      await push.close();
    }
    expect(await tmux.exitStatus("bob")).toBe(1);
    expect(await tmux.screen("bob")).toMatch(/revoked/);

    // alice quits with Ctrl-C: exit status 0
    await tmux.press("alice", "C-c");
    expect(await tmux.exitStatus("alice")).toBe(0);
  });

  it("slash commands are never posted; a quit says goodbye; names and DMs outlive their sender's session", {
    timeout: 240_000,
  }, async () => {
    const creds: Record<string, string> = {};
    for (const name of ["ann", "ben", "cat"]) {
      const u = await mintChatUser(stack.dir, name);
      directory.register(u);
      creds[name] = join(stack.dir, `${name}.creds`);
      await writeFile(creds[name], u.creds, { mode: 0o600 });
    }
    const server = stack.urls[0] as string;
    await startChatPane("ann", creds.ann as string, server);
    await startChatPane("ben", creds.ben as string, server);
    await tmux.waitFor("ann", (s) => s.includes("● ben"), "ann to see ben online", 60_000);
    await tmux.waitFor("ben", (s) => s.includes("● ann"), "ben to see ann online", 60_000);
    await tmux.type("ben", "hello from ben");
    await tmux.press("ben", "Enter");
    await tmux.waitFor("ann", (s) => /\d\d:\d\d ben: hello from ben/.test(s), "ben's post at ann");

    // commands act on ann's screen and go nowhere else
    await tmux.type("ann", "/help");
    await tmux.press("ann", "Enter");
    await tmux.waitFor(
      "ann",
      (s) => s.includes("Commands") && s.includes("/join #CHANNEL"),
      "the help",
    );
    await tmux.press("ann", "Escape");
    await tmux.type("ann", "/hlep");
    await tmux.press("ann", "Enter");
    await tmux.waitFor(
      "ann",
      (s) => s.includes("/hlep is not a command; did you mean /help?"),
      "the notice",
    );
    await tmux.press("ann", "Escape");
    // held down: the backspaces arrive as one chunk
    await tmux.press("ann", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace");
    await tmux.type("ann", "/join #General");
    await tmux.press("ann", "Enter");
    await tmux.waitFor(
      "ann",
      (s) => s.includes("#General is empty: say hello"),
      "the empty channel",
    );
    await tmux.type("ann", "/switch #KUBECON");
    await tmux.press("ann", "Enter");
    await tmux.type("ann", "after the commands");
    await tmux.press("ann", "Enter");
    const ben = await tmux.waitFor(
      "ben",
      (s) => s.includes("ann: after the commands"),
      "ann's post at ben",
    );
    // ben's messages: posts only, no command (the status line's "/help" hint aside)
    const rows = paneRows(ben);
    expect(rows.filter((r) => /\/(help|hlep|join|switch)|Commands/.test(r))).toEqual([]);
    expect(rows.filter((r) => r.includes("hello from ben"))).toHaveLength(1);

    // ben quits: his goodbye takes him off ann's list at once (presence would last 60 s)
    await tmux.press("ben", "C-c");
    expect(await tmux.exitStatus("ben")).toBe(0);
    await tmux.waitFor(
      "ann",
      (s) => s.includes("0 online") && s.includes("○ ben"),
      "ben offline at ann",
      5000,
    );
    expect(await tmux.screen("ann")).toMatch(/\d\d:\d\d ben: hello from ben/);

    // a DM to ben while he is away is kept
    await tmux.type("ann", "/dm ben see you later");
    await tmux.press("ann", "Enter");
    await tmux.waitFor(
      "ann",
      (s) => s.includes("ben is offline: DMs are kept"),
      "the offline note",
    );
    await tmux.waitFor("ann", (s) => /ann: see you later/.test(s), "the DM in ann's pane");

    // someone who never saw ben online reads his post under his issued name
    await startChatPane("cat", creds.cat as string, server);
    await tmux.waitFor(
      "cat",
      (s) => /\d\d:\d\d ben: hello from ben/.test(s),
      "ben's post in cat's history",
      60_000,
    );
    expect(await tmux.screen("cat")).not.toContain("~U");

    // ben comes back and finds the DM
    await startChatPane("ben2", creds.ben as string, server);
    await tmux.waitFor("ben2", (s) => s.includes("● ann"), "ben back, seeing ann", 60_000);
    await tmux.type("ben2", "/dm ann");
    await tmux.press("ben2", "Enter");
    await tmux.waitFor(
      "ben2",
      (s) => /\d\d:\d\d ann: see you later/.test(s),
      "the DM, delivered through history",
    );

    for (const pane of ["ann", "cat", "ben2"]) {
      await tmux.type(pane, "/quit");
      await tmux.press(pane, "Enter");
      expect(await tmux.exitStatus(pane)).toBe(0);
    }
  });

  it("2 chats and 500 simulated users: each pane counts 501 others online; a goodbye makes it 500", {
    timeout: 300_000,
  }, async () => {
    // issue 12: the list comes from the directory's presence feed. The simulated users are real
    // connections with their own keys, sending signed heartbeats as a chat does.
    const conns: NatsConnection[] = [];
    const sims: SimulatedUser[] = [];
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
            const sim = await simulateUser(stack.urls, u);
            conns.push(sim.nc);
            await sim.beat();
            return sim;
          }),
        );
        sims.push(...batch);
      }
      for (const pane of ["erin", "frank"]) {
        await tmux.waitFor(pane, (s) => s.includes("· 501 online"), `${pane} to count 501`, 60_000);
      }
      await sims.pop()?.beat(true);
      for (const pane of ["erin", "frank"]) {
        await tmux.waitFor(pane, (s) => s.includes("· 500 online"), `${pane} to count 500`, 30_000);
      }
      for (const pane of ["erin", "frank"]) {
        await tmux.press(pane, "C-c");
        expect(await tmux.exitStatus(pane)).toBe(0);
      }
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
    expect(await tmux.exitStatus("carol", 60_000)).toBe(1);
    const screen = await tmux.screen("carol", { joinWrapped: true });
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
      await tmux.waitFor(
        "dave",
        (s) => s.includes("● connecting as dave"),
        "dave's screen",
        60_000,
      );
      await tmux.press("dave", "C-c");
      expect(await tmux.exitStatus("dave")).toBe(0);
    } finally {
      silent.close();
    }
  });
});
