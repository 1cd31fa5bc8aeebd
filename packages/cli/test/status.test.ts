// `natschat status` on a real cluster with the access and history services: the meta group with
// its leader and each peer current or lagging, every stream's placement and replicas, and each
// account's JetStream usage against the limits in its JWT, one line per item and no JSON in the
// text. Then one server goes away, and status names it as not current, in the meta group and
// in every stream it held.
import { eventually, runCli } from "@natschat/testing";
import { jetStreamLimits } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatStack, startChatStack } from "./multi-region.ts";

let cs: ChatStack;
beforeAll(async () => {
  cs = await startChatStack({ topology: "cluster" });
}, 180_000);
afterAll(async () => {
  await cs?.stop();
});

interface Report {
  jetstream: { leader?: string; peers: { name: string; current: boolean }[] };
  streams: {
    account: string;
    name: string;
    replicas: number;
    cluster?: string;
    leader?: string;
    peers: { name: string; current: boolean }[];
    maxBytes: number;
  }[];
  accounts: {
    name: string;
    storage: number;
    reserved: number;
    streams: number;
    limits?: { storage: number; streams: number; consumers: number };
  }[];
}

const STORES = [
  "CHAT CHAT_DMS",
  "CHAT CHAT_POSTS",
  "CHAT KV_natschat-quota",
  "CHAT KV_natschat-read",
  "CHAT KV_natschat-state",
  "ADMIN KV_natschat-online",
  "ADMIN KV_natschat-users",
];

async function status(server: string, json = false) {
  const r = await runCli([
    "status",
    "--dir",
    cs.stack.dir,
    "--server",
    server,
    ...(json ? ["--json"] : []),
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe("natschat status on a cluster", () => {
  it("shows the meta group, stream placement and replicas, and account usage against limits", async () => {
    const url = cs.stack.urls[0] as string;
    const report = JSON.parse(await status(url, true)) as Report;
    expect(report.jetstream.leader).toMatch(/^east-\d$/);
    expect(report.jetstream.peers.map((p) => p.current)).toEqual([true, true]);
    expect(report.streams.map((s) => `${s.account} ${s.name}`).sort()).toEqual(STORES.sort());
    for (const s of report.streams) {
      expect([s.replicas, s.cluster, s.peers.length], s.name).toEqual([3, "east", 2]);
      expect(s.leader).toMatch(/^east-\d$/);
      expect(s.peers.map((p) => p.name)).not.toContain(s.leader);
    }
    const chat = report.accounts.find((a) => a.name === "CHAT");
    const admin = report.accounts.find((a) => a.name === "ADMIN");
    // the limits are the JWT's, the reservations what the streams' configs reserve at R3
    expect(chat?.limits?.storage).toBe(jetStreamLimits("CHAT").disk_storage);
    expect(chat?.limits?.streams).toBe(jetStreamLimits("CHAT").streams);
    // posts, DMs, quota, message states, read state
    expect(chat?.reserved).toBe((256 + 256 + 16 + 64 + 16) * 3 * 1024 * 1024);
    expect(chat?.streams).toBe(5);
    expect(admin?.limits?.storage).toBe(jetStreamLimits("ADMIN").disk_storage);
    expect(admin?.streams).toBe(2); // the registry's and the online set's buckets
    // the registry has no max_bytes (the quota guard bounds it); the online set 16 MiB × R3
    expect(admin?.reserved).toBe(16 * 3 * 1024 * 1024);

    const text = await status(url);
    const lines = text.split("\n");
    expect(text).toMatch(
      /jetstream meta group: leader east-\d, size 3, 3 servers answer; formed\n/,
    );
    expect(lines.filter((l) => /^ {2}east-\d +follower, current$/.test(l))).toHaveLength(2);
    expect(lines.filter((l) => /^ {2}east-\d +leader$/.test(l))).toHaveLength(1);
    expect(text).toMatch(
      /\n {2}CHAT +CHAT_POSTS +R3 in east {2}leader east-\d {2}east-\d current, east-\d current {2}\d+ msgs {2}[\d.]+ \w?B of 256 MiB/,
    );
    expect(text).toMatch(
      /\n {2}CHAT +storage [\d.]+ \w?B of 2\.0 GiB \(streams reserve 1\.8 GiB\) {2}memory 0 B of 64 MiB {2}streams 5 of 7 {2}consumers \d+ of 128\n/,
    );
    expect(text).toMatch(/\n {2}ADMIN +storage [\d.]+ \w?B of 304 MiB \(streams reserve 48 MiB\)/);
    // one line per item: no JSON blob anywhere in the text
    expect(text).not.toMatch(/[{}]/);

    // a follower goes away: the leader no longer sees it current, in the meta group and in the
    // streams it held a replica of
    const leader = report.jetstream.leader as string;
    const gone = cs.stack.topology.servers.find(
      (s) => s.spec.name !== leader && s.url !== url,
    ) as (typeof cs.stack.topology.servers)[0];
    await gone.stop();
    const pattern = [
      new RegExp(`\\n {2}${gone.spec.name} +follower, (lagging|offline).*, does not answer\\n`),
      new RegExp(`; ${gone.spec.name} does not answer\\n`),
      new RegExp(`CHAT_POSTS .*${gone.spec.name} (lagging|offline)`),
    ];
    // the leader notices within its heartbeats; a stream led by the server that went away
    // shows once it has a new leader
    let last = "";
    const after = await eventually(
      async () => {
        const text = await status(url);
        last = text;
        return pattern.every((p) => p.test(text)) ? text : undefined;
      },
      `status to show ${gone.spec.name} gone`,
      { timeoutMs: 60_000, everyMs: 500, describe: () => last },
    );
    expect(after).not.toMatch(/[{}]/);
    console.log(`status with ${gone.spec.name} stopped:\n${after}`);
  }, 180_000);
});
