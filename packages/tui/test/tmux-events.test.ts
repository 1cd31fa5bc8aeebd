// End-to-end, issue 13 in the terminal: two chats (`natschat chat --creds …`) in tmux against a
// real server with the history service, and what one does on a selected message shows at the
// other: a reaction, an edit ("(edited)"), a reply (quote line, "1 reply") and its thread, a
// delete (tombstone); the typing line appears and goes away by itself; a mention rings the
// other's bell, marks the channel and sits under the "new" separator; /search lists hits and
// pages with n. One stack for all.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { ChatSession } from "@natschat/client";
import type { HistoryService } from "@natschat/history";
import {
  eventually,
  mintChatUser,
  startTestDirectory,
  startTestHistory,
  startTestStack,
  type TestDirectory,
  type TestStack,
} from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatCommand, hasTmux, paneRows, Tmux } from "./tmux.ts";

const tmuxAvailable = hasTmux();
if (!tmuxAvailable) console.warn("tmux is not installed: skipping the terminal events test");
const tmux = new Tmux("events");

let stack: TestStack;
let history: HistoryService;
let directory: TestDirectory;
/** A third user, in this process: it posts what /search finds. */
let carol: ChatSession | undefined;

/** The pane's rows joined, to match across a message's rows. */
const pane = (screen: string) => paneRows(screen).join("\n");

const SELECTING = "r reply · e edit";

/** Esc in `who`'s input: select mode, on the newest message (waits until it shows). */
async function select(who: string): Promise<void> {
  await tmux.press(who, "Escape");
  await tmux.waitFor(who, (s) => s.includes(SELECTING), `${who}'s select mode`);
}

/** Esc in select mode: back to the input (waits until it shows). */
async function unselect(who: string): Promise<void> {
  await tmux.press(who, "Escape");
  await tmux.waitFor(who, (s) => !s.includes(SELECTING), `${who}'s input`);
}

describe.skipIf(!tmuxAvailable)("issue 13 in the terminal (tmux, real server)", () => {
  beforeAll(async () => {
    stack = await startTestStack();
    history = await startTestHistory(stack);
    directory = await startTestDirectory(stack);
    for (const name of ["alice", "bob"]) {
      const u = await mintChatUser(stack.dir, name);
      directory.register(u);
      const path = join(stack.dir, `${name}.creds`);
      await writeFile(path, u.creds, { mode: 0o600 });
      await tmux.start(name, chatCommand(stack.dir, path, stack.urls[0] as string), {
        columns: 120,
        rows: 32,
        cwd: stack.dir,
      });
    }
    // the first start compiles the CLI (tsx) on a busy machine: be patient for the first screen
    for (const [me, other] of [
      ["alice", "bob"],
      ["bob", "alice"],
    ] as const) {
      await tmux.waitFor(me, (s) => s.includes(`● ${other}`), `${me} to see ${other}`, 90_000);
    }
  }, 180_000);

  afterAll(async () => {
    await tmux.kill();
    await carol?.stop();
    await directory?.stop();
    await history?.stop();
    await stack?.stop();
  });

  it("react, edit, reply and thread, delete: each shows at the other", {
    timeout: 180_000,
  }, async () => {
    await tmux.type("alice", "the plan for kubecon");
    await tmux.press("alice", "Enter");
    await tmux.waitFor("bob", (s) => /alice: the plan for kubecon/.test(s), "alice's post at bob");

    // bob selects it (Esc: the newest message) and reacts with 1 (👍)
    await select("bob");
    await tmux.type("bob", "1");
    await tmux.waitFor(
      "alice",
      (s) => /alice: the plan for kubecon\n\s*👍 1/.test(pane(s)),
      "bob's reaction under alice's message",
    );
    await unselect("bob");

    // alice edits it: e prefills the input with its text
    await select("alice");
    await tmux.type("alice", "e");
    await tmux.waitFor("alice", (s) => s.includes("edit › the plan for kubecon"), "the edit");
    await tmux.type("alice", " v2");
    await tmux.press("alice", "Enter");
    await tmux.waitFor(
      "bob",
      (s) => /alice: the plan for kubecon v2 \(edited\)/.test(s),
      "the edit at bob",
    );

    // bob replies to it
    await select("bob");
    await tmux.type("bob", "r");
    await tmux.waitFor("bob", (s) => s.includes("↪ alice › "), "bob's reply prompt");
    await tmux.type("bob", "count me in");
    await tmux.press("bob", "Enter");
    await tmux.waitFor(
      "alice",
      (s) =>
        /↪ alice: the plan for kubecon.*\n.*bob: count me in/.test(pane(s)) &&
        /👍 1 · 1 reply/.test(s),
      "bob's reply with its quote line, and '1 reply' under the original, at alice",
    );

    // alice opens the thread of her message and answers in it
    await select("alice");
    await tmux.press("alice", "Up");
    await tmux.type("alice", "t");
    const thread = await tmux.waitFor(
      "alice",
      (s) => s.includes("thread in #KUBECON") && /bob: count me in/.test(s),
      "the thread at alice",
    );
    expect(pane(thread)).toMatch(/alice: the plan for kubecon v2[\s\S]*── 1 reply ─/);
    await tmux.type("alice", "thanks bob");
    await tmux.press("alice", "Enter");
    await tmux.waitFor("alice", (s) => s.includes("── 2 replies ─"), "the thread's 2nd reply");
    await tmux.waitFor("bob", (s) => /alice: thanks bob/.test(s), "alice's answer at bob");
    await tmux.press("alice", "Escape");
    await tmux.waitFor("alice", (s) => !s.includes("thread in"), "alice back in the channel");

    // alice deletes her answer: d asks, y deletes
    await select("alice");
    await tmux.type("alice", "d");
    await tmux.waitFor("alice", (s) => s.includes(`delete your message "thanks bob"?`), "the ask");
    await tmux.type("alice", "y");
    const gone = await tmux.waitFor(
      "bob",
      (s) => /alice: message deleted/.test(s),
      "the tombstone at bob",
    );
    expect(gone).not.toContain("thanks bob");
    await unselect("alice");
  });

  it("the typing line appears at the other and goes away by itself", {
    timeout: 60_000,
  }, async () => {
    // as a person types: key after key (the client signals at most once per 3 s)
    let typed = 0;
    for (;;) {
      await tmux.type("alice", "x");
      typed++;
      const seen = await tmux
        .waitFor("bob", (s) => s.includes("alice is typing…"), "the typing line at bob", 500)
        .then(() => true)
        .catch(() => false);
      if (seen) break;
      if (typed > 40) throw new Error("bob never saw alice typing (40 keys, half a second apart)");
    }
    await tmux.waitFor(
      "bob",
      (s) => !s.includes("alice is typing…"),
      "the typing line to expire",
      20_000,
    );
    await tmux.press("alice", ...Array.from({ length: typed }, () => "BSpace"));
  });

  it("a mention rings the other's bell and marks the channel until it is opened", {
    timeout: 60_000,
  }, async () => {
    expect(await tmux.rang("bob")).toBe(false);
    await tmux.type("alice", "/join #NATS");
    await tmux.press("alice", "Enter");
    await tmux.type("alice", "hey @bo");
    await tmux.press("alice", "Tab");
    await tmux.waitFor("alice", (s) => s.includes("› hey @bob "), "the completed mention");
    await tmux.type("alice", "look at this");
    await tmux.press("alice", "Enter");
    await tmux.waitFor("bob", (s) => /#NATS \(1\) @/.test(s), "the marker at bob");
    expect(await tmux.rang("bob")).toBe(true);
    await tmux.type("bob", "/join #NATS");
    await tmux.press("bob", "Enter");
    const opened = await tmux.waitFor(
      "bob",
      (s) => /alice: hey @bob look at this/.test(s) && !/#NATS \(1\)|#NATS @/.test(s),
      "the mention in #NATS, and the marker gone",
    );
    // the read position (kept by the service) puts the "new" separator above it
    expect(pane(opened)).toMatch(/── new ─+\n\S+ alice: hey @bob look at this/);
  });

  it("/search lists the hits newest first and n loads the next page", {
    timeout: 90_000,
  }, async () => {
    const u = await mintChatUser(stack.dir, "carol");
    directory.register(u);
    const chat = stack.trust.summary.accounts.CHAT;
    carol = new ChatSession(
      { jwt: u.jwt, seed: u.seed },
      {
        servers: stack.urls,
        connect,
        chatAccount: chat.publicKey,
        chatSigningKeys: chat.signingKeys,
      },
    );
    await carol.start();
    const total = 60;
    for (let i = 0; i < total; i++) await carol.send("#General", `needle ${i}`);
    // send() resolves once a post is stored or queued for a retry, and the search index reads
    // the stream after the writer's ack: wait until a search finds every post
    const session = carol;
    const found = async () => {
      let n = 0;
      let cursor: string | undefined;
      do {
        const page = await session.search("needle", cursor ? { cursor } : {});
        n += page.hits.length;
        cursor = page.cursor;
      } while (cursor);
      return n === total;
    };
    await eventually(found, `all ${total} posts in the search index`, { timeoutMs: 30_000 });
    await tmux.type("bob", "/search needle");
    await tmux.press("bob", "Enter");
    const first = await tmux.waitFor(
      "bob",
      (s) => /search "needle" · \d+ results, more with n/.test(s) && /carol: needle/.test(s),
      "the first page",
    );
    const count = (s: string) => Number(/· (\d+) results/.exec(s)?.[1]);
    expect(count(first)).toBeLessThan(total);
    expect(first).toMatch(/carol: needle 59/); // newest first, at the top
    expect(first).toContain("#General");
    let screen = first;
    while (/more with n/.test(screen)) {
      const before = count(screen);
      await tmux.type("bob", "n");
      // a cursor says "look further", and the last look may find nothing more
      screen = await tmux.waitFor(
        "bob",
        (s) => count(s) > before || !/more with n/.test(s),
        "the next page",
      );
    }
    expect(count(screen)).toBe(total);
    await tmux.press("bob", "Escape");
  });
});
