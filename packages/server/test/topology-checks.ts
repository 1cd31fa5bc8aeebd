// Checks shared by the topology tests: every server healthy and connected, JetStream usable from a
// client of every server with the topology's placement, account JWT pushes answered by every
// server, and a revocation pushed at one server closing the user's connection at another.
import { readFile } from "node:fs/promises";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { fromSeed } from "@nats-io/nkeys";
import { connect } from "@nats-io/transport-node";
import { inboxPrefixFor, POSTS_WILDCARD, postsSubject } from "@natschat/protocol";
import { missingConnections, type RunningServer } from "@natschat/server";
import type { MintedUser, TestStack } from "@natschat/testing";
import {
  connectRole,
  discoverServers,
  layout,
  POSTS_STREAM,
  pushAccountJwt,
  revokeInAccountJwt,
} from "@natschat/trust";
import { expect } from "vitest";

/** Connects a role to one server of the stack (trusting the stack's CA when it runs TLS). */
export function roleAt(stack: TestStack, server: RunningServer, role: string) {
  return connectRole({
    servers: server.url,
    credsPath: stack.creds(role),
    inboxOwner: role,
    tlsCaFile: stack.caFile,
  });
}

/** Connects a minted chat user to one server, as the chat client does. */
export function userAt(stack: TestStack, server: RunningServer, user: MintedUser) {
  return connect({
    servers: server.url,
    authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)),
    inboxPrefix: inboxPrefixFor(user.publicKey),
    maxReconnectAttempts: 0,
    tls: stack.caFile ? { caFile: stack.caFile } : undefined,
  });
}

/** Every server answers /healthz and has all its routes, gateways and leafnode remotes. */
export async function expectAllConnected(stack: TestStack): Promise<void> {
  for (const s of stack.topology.servers) {
    const res = await fetch(`${s.monitorUrl}/healthz`);
    expect(res.status, `${s.spec.name} /healthz`).toBe(200);
    expect(await missingConnections(s), s.spec.name).toEqual([]);
  }
}

/** $SYS.REQ.SERVER.PING from every server finds every server of the plan. */
export async function expectDiscoveryEverywhere(stack: TestStack): Promise<void> {
  const all = stack.topology.plan.servers.map((s) => s.name).sort();
  for (const s of stack.topology.servers) {
    const nc = await roleAt(stack, s, "push");
    try {
      expect((await discoverServers(nc)).sort(), `discovery from ${s.spec.name}`).toEqual(all);
    } finally {
      await nc.close();
    }
  }
}

/**
 * Resolves once JetStream answers for the connection's account. Right after start-up or an
 * account JWT push, a server may answer "JetStream not enabled for account" (503) for a moment,
 * while it (re)applies the account's JetStream limits; that one answer is waited out.
 */
export async function whenJetStreamReady(nc: NatsConnection, domain?: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await jetstreamManager(nc, { domain });
      return;
    } catch (err) {
      if (!/not enabled for account/.test(String(err)) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100)); // back off before asking again
    }
  }
}

/**
 * Creates the posts stream with the plan's placement through the first server, publishes one
 * post, and reads it from a client of every server (the edge included) in the hub's domain.
 */
export async function expectHistoryEverywhere(stack: TestStack): Promise<void> {
  const { storage } = stack.topology.plan;
  const [first] = stack.topology.servers as [RunningServer];
  const admin = await roleAt(stack, first, "leaf"); // unrestricted in CHAT
  try {
    await whenJetStreamReady(admin);
    const jsm = await jetstreamManager(admin);
    const info = await jsm.streams.add({
      name: POSTS_STREAM,
      subjects: [POSTS_WILDCARD],
      num_replicas: storage.replicas,
      placement: storage.cluster ? { cluster: storage.cluster, tags: [] } : undefined,
    });
    expect(info.config.num_replicas).toBe(storage.replicas);
    if (storage.cluster) expect(info.cluster?.name).toBe(storage.cluster);
    expect((await jsm.getAccountInfo()).domain).toBe(storage.domain);
    await jetstream(admin).publish(postsSubject("General"), "first post");
  } finally {
    await admin.close();
  }
  for (const s of stack.topology.servers) {
    const nc = await roleAt(stack, s, "leaf");
    try {
      // the domain prefix works on every server; at the edge (no JetStream) it is required
      await whenJetStreamReady(nc, storage.domain);
      const jsm = await jetstreamManager(nc, { domain: storage.domain });
      const m = await jsm.streams.getMessage(POSTS_STREAM, { seq: 1 });
      expect(m?.string(), `history read at ${s.spec.name}`).toBe("first post");
    } finally {
      await nc.close();
    }
  }
}

/**
 * A chat user (least privilege) reads channel history through an ordered consumer. In a cluster
 * the consumer's pull subject reaches the client's server over a route a moment after the create
 * reply, so a pull right after the create may meet "no responders": that one case is retried.
 */
export async function readHistoryAsUser(
  nc: NatsConnection,
  channel: string,
  domain?: string,
): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const consumer = await jetstream(nc, { domain }).consumers.get(POSTS_STREAM, {
        // one filter as a string: the filter then travels in the CONSUMER.CREATE subject, which
        // is what the chat user's permissions name
        filter_subjects: postsSubject(channel),
      });
      const out: string[] = [];
      const pending = (await consumer.info(true)).num_pending;
      if (pending === 0) return out;
      const iter = await consumer.fetch({ max_messages: pending, expires: 5000 });
      for await (const m of iter) out.push(m.string());
      return out;
    } catch (err) {
      if (!/no responders/.test(String(err)) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50)); // back off before retrying a transient error
    }
  }
}

/** Pushes the account JWTs at `at` and checks that every server of the plan answered ok. */
export async function expectPushReachesAll(stack: TestStack, at: RunningServer): Promise<void> {
  const nc = await roleAt(stack, at, "push");
  try {
    const all = stack.topology.plan.servers.map((s) => s.name).sort();
    for (const jwt of Object.values(stack.trust.accountJwts)) {
      const replies = await pushAccountJwt(nc, jwt, all.length);
      expect(replies.map((r) => r.server).sort(), `push at ${at.spec.name}`).toEqual(all);
      expect(replies.every((r) => r.ok)).toBe(true);
    }
  } finally {
    await nc.close();
  }
}

/** Resolves when the server closes the connection for a revocation; rejects after timeoutMs. */
export function revokedClose(nc: NatsConnection, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`connection not revoked within ${timeoutMs} ms`)),
      timeoutMs,
    );
    void (async () => {
      for await (const s of nc.status()) {
        const text = "error" in s && s.error ? String(s.error.message) : "";
        if (/revoked/i.test(text)) {
          clearTimeout(timer);
          resolve(text);
          return;
        }
      }
    })();
  });
}

/**
 * Revokes `user` in the CHAT account JWT, pushes it at `pushAt`, and expects the user's
 * connection at `userAt` to be closed by its server. Returns the server's reason.
 */
export async function revokeAndExpectClose(
  stack: TestStack,
  user: MintedUser,
  nc: NatsConnection,
  pushAt: RunningServer,
): Promise<string> {
  const operatorSigner = fromSeed(
    new TextEncoder().encode(
      (await readFile(layout(stack.dir).key("operator-signing"), "utf8")).trim(),
    ),
  );
  const revoked = await revokeInAccountJwt(
    stack.trust.accountJwts.CHAT,
    user.publicKey,
    operatorSigner,
  );
  const closed = revokedClose(nc);
  const push = await roleAt(stack, pushAt, "push");
  try {
    const replies = await pushAccountJwt(push, revoked, stack.topology.plan.servers.length);
    expect(replies.filter((r) => r.ok)).toHaveLength(stack.topology.plan.servers.length);
  } finally {
    await push.close();
  }
  return closed;
}
