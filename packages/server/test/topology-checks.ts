// Checks shared by the topology tests: every server healthy and connected, JetStream usable from a
// client of every server with the topology's placement, account JWT pushes answered by every
// server, and a revocation pushed at one server closing the user's connection at another.
import { readFile } from "node:fs/promises";
import { JetStreamApiError, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { createUser, fromSeed } from "@nats-io/nkeys";
import { connect } from "@nats-io/transport-node";
import {
  encodeHistoryPostsRequest,
  HISTORY_POSTS_SUBJECT,
  inboxPrefixFor,
  parseHistoryReply,
  STORE_POSTS_PREFIX,
  storePostSubject,
} from "@natschat/protocol";
import { missingConnections, type RunningServer } from "@natschat/server";
import { type MintedUser, startTestHistory, type TestStack } from "@natschat/testing";
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
 * Creates a stream, asking again (up to 5 times, 500 ms apart) while a fresh cluster answers
 * 10049 "error creating store for stream": nats-server's generic word for a store that could not
 * be set up yet on a peer, seen in full test runs on the loaded 2-core machine (never alone).
 * Any other error fails at once.
 */
async function addStreamRetryingStoreFailure<T>(add: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await add();
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== 10049 || attempt === 5) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The sender key of the "first post" expectHistoryEverywhere stores. */
const FIRST_POSTER = createUser().getPublicKey();

/**
 * Creates the posts stream with the plan's placement through the first server, stores one post
 * (on its stored subject, as the history service would), and reads it from a client of every
 * server (the edge included) in the hub's domain.
 */
export async function expectHistoryEverywhere(stack: TestStack): Promise<void> {
  const { storage } = stack.topology.plan;
  const [first] = stack.topology.servers as [RunningServer];
  const admin = await roleAt(stack, first, "leaf"); // unrestricted in CHAT
  try {
    await whenJetStreamReady(admin);
    const jsm = await jetstreamManager(admin);
    const info = await addStreamRetryingStoreFailure(() =>
      jsm.streams.add({
        name: POSTS_STREAM,
        subjects: [`${STORE_POSTS_PREFIX}.*.*`],
        num_replicas: storage.replicas,
        placement: storage.cluster ? { cluster: storage.cluster, tags: [] } : undefined,
      }),
    );
    expect(info.config.num_replicas).toBe(storage.replicas);
    if (storage.cluster) expect(info.cluster?.name).toBe(storage.cluster);
    expect((await jsm.getAccountInfo()).domain).toBe(storage.domain);
    await jetstream(admin).publish(storePostSubject("General", FIRST_POSTER), "first post");
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
 * A chat user (least privilege, no JetStream API) reads channel history through the history
 * service (chat.svc.history.posts, CHAT's import of ADMIN's service), from whichever server it
 * is connected to. Starts a history replica on the servers that run JetStream (the hub), with the
 * plan's replicas; the caller stops it.
 */
export async function readHistoryAsUser(
  stack: TestStack,
  nc: NatsConnection,
  channel: string,
): Promise<{ tokens: string[]; stop(): Promise<void> }> {
  const hub = stack.topology.servers.filter((s) => s.spec.jetstream === "server");
  const history = await startTestHistory(
    { dir: stack.dir, urls: hub.map((s) => s.url), caFile: stack.caFile },
    { replicas: stack.topology.plan.storage.replicas },
  );
  // the service's interest reaches the user's server over routes, gateways or the leaf link a
  // moment after it subscribed: "no responders" until then is retried
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await nc.request(HISTORY_POSTS_SUBJECT, encodeHistoryPostsRequest({ channel }), {
        timeout: 5000,
      });
      const page = parseHistoryReply({
        data: r.data,
        header: (k) => r.headers?.get(k) || undefined,
      });
      if (!page.ok) throw new Error(`history refused: ${page.code} ${page.message}`);
      return { tokens: page.value.messages.map((m) => m.token ?? ""), stop: () => history.stop() };
    } catch (err) {
      if (!/no responders/i.test(String(err)) || Date.now() > deadline) {
        await history.stop();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 100));
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
