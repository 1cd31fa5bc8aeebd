// Fault: the link between an edge (leaf) server and its hub drops and comes back. The edge's
// leafnode remotes (CHAT and SYS) run through TCP proxies (startLinkedStack). While the link is
// down, edge users keep chatting among themselves and can still (re)connect at the edge; a
// revocation issued at the hub cannot reach the edge then. When the link is back, chat with the
// hub resumes, what the edge said meanwhile is stored in the hub's history by its senders
// (store-and-forward, outbox.ts) and reaches the hub, and the revocation takes effect at the
// edge: the revoked user is disconnected there and cannot reconnect.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  type AccessService,
  resolveAccessConfig,
  silentLogger,
  startAccessService,
} from "@natschat/access";
import { type Registration, register, waitForSnapshot } from "@natschat/client";
import type { HistoryService } from "@natschat/history";
import { ACCESS_ERROR_HEADER, REVOKE_SUBJECT } from "@natschat/protocol";
import type { RunningServer } from "@natschat/server";
import { startTestHistory } from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LinkedStack,
  SessionPool,
  startLinkedStack,
  texts,
  waitForPost,
  waitOnline,
} from "../src/mod.ts";

let ls: LinkedStack;
let access: AccessService;
let history: HistoryService;
let pool: SessionPool;
const conns: NatsConnection[] = [];
const stops: (() => Promise<void>)[] = [];

const byName = (name: string) => ls.servers.find((s) => s.spec.name === name) as RunningServer;

beforeAll(async () => {
  ls = await startLinkedStack({
    topology: "leaf",
    onStop: (stop) => {
      stops.push(stop);
    },
  });
  const base = await resolveAccessConfig({ flags: { replicas: "3" }, env: {}, dir: ls.dir });
  access = await startAccessService({
    ...base,
    servers: ls.servers.filter((s) => s.spec.jetstream === "server").map((s) => s.url),
    replicaId: "hub",
    log: silentLogger,
  });
  // the history service stores posts and DMs (the access service no longer creates the streams)
  history = await startTestHistory(
    {
      dir: ls.dir,
      urls: ls.servers.filter((s) => s.spec.jetstream === "server").map((s) => s.url),
    },
    { replicas: 3, replicaId: "hub" },
  );
  pool = new SessionPool(ls.trust.summary);
}, 180_000);

afterAll(async () => {
  await pool?.stopAll();
  for (const c of conns) await c.close().catch(() => undefined);
  await access?.stop().catch(() => undefined);
  await history?.stop().catch(() => undefined);
  // also stops a stack whose start did not finish in time
  for (const stop of stops) await stop();
});

async function role(role: string, server: RunningServer): Promise<NatsConnection> {
  const nc = await connectRole({
    servers: server.url,
    credsPath: ls.creds(role),
    inboxOwner: role,
  });
  conns.push(nc);
  return nc;
}

describe("fault: leaf link drop and restore", () => {
  it("edge users chat and reconnect locally; a revocation issued meanwhile takes effect on restore", async () => {
    const hub = byName("east-1");
    const edge = byName("edge-1");
    const bootstrap = await role("bootstrap", hub);
    const chat = ls.trust.summary.accounts.CHAT;
    const opts = {
      chatAccount: chat.publicKey,
      chatSigningKeys: chat.signingKeys,
      timeoutMs: 10_000,
    };
    const [h, e, v] = (await Promise.all(
      ["hub-user", "edge-user", "edge-victim"].map((n) => register(bootstrap, n, opts)),
    )) as [Registration, Registration, Registration];
    const sh = await pool.open(h, [hub.url], "hub-user");
    const se = await pool.open(e, [edge.url], "edge-user");
    const sv = await pool.open(v, [edge.url], "edge-victim");
    const keys = [h, e, v].map((u) => u.publicKey);
    await Promise.all([sh, se, sv].map((s) => waitOnline(s, keys)));
    await sh.send("#General", "hub before the drop");
    await waitForPost(se, "General", "hub before the drop", { from: "hub-user" });

    await ls.cut();
    // edge users keep chatting among themselves, and a dropped client connection at the edge
    // reconnects there: the edge authenticates users on its own (resolver with the account JWTs)
    await se.send("#General", "edge during the drop");
    await waitForPost(sv, "General", "edge during the drop", { from: "edge-user" });
    const states: string[] = [];
    se.onChange(() => {
      if (states.at(-1) !== se.state) states.push(se.state);
    });
    await pool.connectionOf(se).reconnect();
    await waitForSnapshot(se, () => states.includes("reconnecting") && se.state === "connected", {
      what: "edge-user to reconnect at the edge while the link is down",
    });
    // the resent subscriptions are in force once the server has answered a round trip
    await pool.connectionOf(se).flush();
    await sv.send("#General", "victim during the drop");
    await waitForPost(se, "General", "victim during the drop", { from: "edge-victim" });

    // the admin revokes the victim at the hub: every hub server takes it, the edge cannot
    const admin = await role("admin", byName("east-2"));
    const reply = await admin.request(REVOKE_SUBJECT, JSON.stringify({ name: v.name }), {
      timeout: 15_000,
    });
    expect(reply.headers?.get(ACCESS_ERROR_HEADER) ?? "", reply.string()).toBe("");
    expect(sv.state, "the edge has not heard of the revocation while cut off").toBe("connected");
    // the drop was real: the hub never heard the edge, and the edge knows its post is not stored
    expect(texts(sh.snapshot(), "General")).not.toContain("edge during the drop");
    await waitForSnapshot(se, () => /not saved to history yet/.test(se.snapshot().notice ?? ""), {
      what: "edge-user to report an unsaved post",
    });

    const restored = performance.now();
    await ls.heal();
    const revoked = await waitForSnapshot(sv, () => sv.state === "revoked", {
      timeoutMs: 30_000,
      what: "the revocation to reach the edge after the link came back",
    });
    console.log(
      `leaf link restored: victim revoked at the edge ${(performance.now() - restored).toFixed(0)} ms after heal() began`,
    );
    expect(revoked.reason).toMatch(/revoked/i);

    // chat with the hub resumes for the edge user who was not revoked
    await sh.send("#General", "hub after the restore");
    await se.send("#General", "edge after the restore");
    await waitForPost(se, "General", "hub after the restore", { from: "hub-user" });
    await waitForPost(sh, "General", "edge after the restore", { from: "edge-user" });
    // what the edge said during the drop is stored once the hub is in reach, and reaches it
    await waitForPost(sh, "General", "edge during the drop", {
      from: "edge-user",
      timeoutMs: 30_000,
    });
    await waitForSnapshot(se, () => se.snapshot().notice === undefined, {
      timeoutMs: 30_000,
      what: "edge-user's post to be stored",
    });
    for (const s of [sh, se]) {
      expect(
        texts(s.snapshot(), "General").filter((t) => t === "edge during the drop"),
      ).toHaveLength(1);
      expect(s.snapshot().dropped, s.me.name).toBe(0);
    }
    expect(se.state).toBe("connected");

    // and the victim cannot come back at the edge
    const again = pool.open(v, [edge.url], "edge-victim-again");
    await expect(again).rejects.toThrow(/revoked|authorization/i);
  });
});
