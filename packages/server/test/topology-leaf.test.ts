// The leaf topology on loopback, with TLS on every listener: a hub cluster of 3 and an edge server
// whose leafnode remotes bind CHAT and SYS. The edge runs no JetStream: its clients read the hub's
// history in the hub's domain ($JS.hub.API). Pushes reach the edge through the SYS remote, and a
// revocation pushed at the hub closes a user connected at the edge.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  encodeHistoryDmsRequest,
  HISTORY_DMS_SUBJECT,
  parseHistoryReply,
} from "@natschat/protocol";
import { mintChatUser, startTestStack, type TestStack } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectAllConnected,
  expectDiscoveryEverywhere,
  expectHistoryEverywhere,
  expectPushReachesAll,
  readHistoryAsUser,
  revokeAndExpectClose,
  roleAt,
  userAt,
} from "./topology-checks.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ topology: "leaf", tls: true });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

const hub = () => stack.topology.servers[0] as (typeof stack.topology.servers)[0];
const edge = () => stack.topology.servers.at(-1) as (typeof stack.topology.servers)[0];

describe("leaf topology (TLS)", () => {
  it("plans a hub of 3 and an edge with CHAT, ADMIN and SYS remotes to every hub server", () => {
    const { plan } = stack.topology;
    expect(plan.servers.map((s) => `${s.name}@${s.region}`)).toEqual([
      "east-1@east",
      "east-2@east",
      "east-3@east",
      "edge-1@edge",
    ]);
    const remotes = edge().spec.leafRemotes ?? [];
    expect(remotes.map((r) => r.account)).toEqual([
      stack.trust.summary.accounts.CHAT.publicKey,
      stack.trust.summary.accounts.ADMIN.publicKey,
      stack.trust.summary.accounts.SYS.publicKey,
    ]);
    // CHAT's imported services go over the ADMIN remote only (applied at the edge, once)
    expect(remotes[0]?.denyExports).toEqual([
      "chat.req.access",
      "chat.svc.history.>",
      "chat.svc.directory.>",
    ]);
    for (const r of remotes) expect(r.urls).toHaveLength(3);
    expect(edge().spec.jetstream).toBe("none");
    expect(stack.urls.every((u) => u.startsWith("tls://"))).toBe(true);
  });

  it("every server is healthy with its routes and leafnode remotes", async () => {
    await expectAllConnected(stack);
  });

  it("server discovery from the edge and from the hub finds all four servers", async () => {
    await expectDiscoveryEverywhere(stack);
  });

  it("an account JWT push at the hub is answered by the edge too", async () => {
    await expectPushReachesAll(stack, hub());
  });

  it("history (R3 in the hub) is readable from every server, the edge included", async () => {
    await expectHistoryEverywhere(stack);
  });

  it("a chat user at the edge reads history through the history service", async () => {
    const user = await mintChatUser(stack.dir, "edgy");
    const nc = await userAt(stack, edge(), user);
    try {
      const read = await readHistoryAsUser(stack, nc, "General");
      try {
        expect(read.tokens).toEqual(["first post"]);
        // DM history needs who asks: the edge's ADMIN remote lets CHAT's import apply at the
        // edge, so Nats-Request-Info names this user (over the CHAT remote alone it would name
        // the leaf binding, and the service would refuse)
        const r = await nc.request(HISTORY_DMS_SUBJECT, encodeHistoryDmsRequest({}), {
          timeout: 5000,
        });
        expect(
          parseHistoryReply({ data: r.data, header: (k) => r.headers?.get(k) || undefined }),
        ).toMatchObject({ ok: true, value: { messages: [], more: false } });
      } finally {
        await read.stop();
      }
    } finally {
      await nc.close();
    }
  });

  it("the plain $JS.API at the edge says JetStream is not there (no silent wrong answer)", async () => {
    const nc = await roleAt(stack, edge(), "leaf");
    try {
      await expect(jetstreamManager(nc)).rejects.toThrow(/not enabled/);
    } finally {
      await nc.close();
    }
  });

  it("a revocation pushed at the hub closes the user's connection at the edge", async () => {
    const user = await mintChatUser(stack.dir, "revoked-at-edge");
    const nc = await userAt(stack, edge(), user);
    const reason = await revokeAndExpectClose(stack, user, nc, hub());
    expect(reason).toMatch(/revoked/i);
    await nc.closed();
  });

  it("websocket is wss with the same certificate: a handshake trusting the CA upgrades", async () => {
    const url = new URL(edge().websocketUrl);
    expect(url.protocol).toBe("wss:");
    const upgrade = (ca?: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest({
          host: url.hostname,
          port: Number(url.port),
          path: "/",
          ca,
          headers: {
            Connection: "Upgrade",
            Upgrade: "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
          },
        });
        req.on("upgrade", (res, socket) => {
          socket.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on("response", (res) => resolve(res.statusCode ?? 0));
        req.on("error", reject);
        req.end();
      });
    expect(await upgrade(await readFile(stack.caFile as string))).toBe(101);
    await expect(upgrade()).rejects.toThrow(/certificate/);
  });

  it("a client that does not trust the CA is refused", async () => {
    const { connectRole } = await import("@natschat/trust");
    await expect(
      connectRole({ servers: edge().url, credsPath: stack.creds("leaf"), inboxOwner: "leaf" }),
    ).rejects.toThrow(/certificate/);
    const trusted = await roleAt(stack, edge(), "leaf");
    await trusted.close();
  });
});
