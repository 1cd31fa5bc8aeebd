// The check of up-restart*.test.ts: `natschat up` on a data dir it already ran on, for one
// topology (Ctrl-C, then `up` again keeps the users, the revocations and the history, and the
// services work). Through the real CLI. The topologies are split over two files so that the
// four restarts (~80 s one after another) run side by side.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  encodeHistoryPostsRequest,
  encodePost,
  HISTORY_POSTS_SUBJECT,
  parseCreds,
  parseHistoryReply,
  parseStoreReply,
  postSubject,
  signerFromSeed,
} from "@natschat/protocol";
import { freePorts, type Topology } from "@natschat/server";
import { runCli, startCli, stopCli } from "@natschat/testing";
import { connectWithCreds } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface UpJson {
  client: string;
  servers: { name: string; url: string; jetstream: boolean }[];
}

const wire = (m: { data: Uint8Array; headers?: { get(k: string): string } }) => ({
  data: m.data,
  header: (k: string) => m.headers?.get(k) || undefined,
});

async function upArgs(dir: string, topology: Topology): Promise<string[]> {
  const [port, ws, http, web] = (await freePorts(4)).map(String) as string[];
  return [
    ...["up", "--dir", dir, "--topology", topology],
    ...["--port", port as string, "--ws-port", ws as string, "--http-port", http as string],
    ...["--web-port", web as string],
  ];
}

/** Connects as a user that `natschat join` wrote, with its own inbox prefix. */
async function connectUser(dir: string, name: string, url: string): Promise<NatsConnection> {
  const text = await readFile(join(dir, "users", `${name}.creds`), "utf8");
  const creds = await parseCreds(text);
  return connectWithCreds(new TextEncoder().encode(text), name, {
    servers: url,
    inboxOwner: creds.publicKey,
    timeoutMs: 10_000,
  });
}

/** Posts `msg` to General as `name`; returns the stored token. */
async function post(dir: string, name: string, url: string, msg: string): Promise<string> {
  const creds = await parseCreds(await readFile(join(dir, "users", `${name}.creds`), "utf8"));
  const token = await encodePost(await signerFromSeed(creds.seed), {
    name,
    channel: "General",
    msg,
  });
  const nc = await connectUser(dir, name, url);
  try {
    const reply = await nc.request(postSubject("General", creds.publicKey), token, {
      timeout: 15_000,
    });
    expect(parseStoreReply(wire(reply))).toMatchObject({ ok: true });
    return token;
  } finally {
    await nc.close();
  }
}

async function generalHistory(dir: string, name: string, url: string): Promise<string[]> {
  const nc = await connectUser(dir, name, url);
  try {
    const reply = await nc.request(
      HISTORY_POSTS_SUBJECT,
      encodeHistoryPostsRequest({ channel: "General" }),
      { timeout: 15_000 },
    );
    const page = parseHistoryReply(wire(reply));
    if (!page.ok) throw new Error(`history refused: ${JSON.stringify(page)}`);
    return page.value.messages.map((m) => m.token ?? "");
  } finally {
    await nc.close();
  }
}

async function expectCli(args: string[]): Promise<string> {
  const r = await runCli(args);
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** One describe block: `up`, Ctrl-C, `up` again on the same data dir, for each topology. */
export function describeUpAgain(topologies: Topology[]): void {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "natschat-up-restart-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });
  describe.each(topologies)("natschat up again on the %s data dir", (topology) => {
    it("keeps users, revocations and history; the services work", async () => {
      const dir = join(tmp, topology);
      const first = await startCli(await upArgs(dir, topology), /Ctrl-C stops everything/, 240_000);
      let second: Awaited<ReturnType<typeof startCli>> | undefined;
      try {
        const up = JSON.parse(await readFile(join(dir, "up.json"), "utf8")) as UpJson;
        // users connect where a user would: the last server (the edge in the leaf topology,
        // the second region in a supercluster)
        const userUrl = (up.servers.at(-1) as UpJson["servers"][0]).url;
        await expectCli(["join", "alice", "--dir", dir]);
        await expectCli(["join", "bob", "--dir", dir]);
        const before = await post(dir, "alice", userUrl, "before the restart");
        await expectCli(["revoke", "bob", "--dir", dir]);
        expect(await stopCli(first.child, "SIGINT", 60_000)).toBe(0);

        second = await startCli(await upArgs(dir, topology), /Ctrl-C stops everything/, 240_000);
        expect(second.output()).toContain(`trust tree in ${dir} reused`);
        const again = JSON.parse(await readFile(join(dir, "up.json"), "utf8")) as UpJson;
        const url = (again.servers.at(-1) as UpJson["servers"][0]).url;

        const users = JSON.parse(await expectCli(["users", "--json", "--dir", dir])) as {
          name: string;
          revoked?: boolean;
        }[];
        expect(users.map((u) => [u.name, Boolean(u.revoked)])).toEqual([
          ["alice", false],
          ["bob", true],
        ]);
        // the servers still refuse the revoked key (the CHAT JWT kept its revocation)
        await expect(connectUser(dir, "bob", url)).rejects.toThrow(/authorization|revoked/i);
        expect(await generalHistory(dir, "alice", url)).toEqual([before]);
        // the access service issues and the history service stores after the restart
        await expectCli(["join", "carol", "--dir", dir]);
        const after = await post(dir, "carol", url, "after the restart");
        expect(await generalHistory(dir, "alice", url)).toEqual([before, after]);
      } finally {
        // Ctrl-C, never SIGKILL: `up` stops the servers it started
        await stopCli(first.child, "SIGINT", 60_000);
        if (second) expect(await stopCli(second.child, "SIGINT", 60_000)).toBe(0);
      }
    }, 600_000);
  });
}
