// Test support for the access service tests: start a replica on a test stack, connect roles and
// chat users, and wait for connection events with loud timeouts.
import { readFile } from "node:fs/promises";
import { credsAuthenticator, type NatsConnection, type Status } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import {
  type AccessService,
  type AccessServiceOptions,
  DEFAULT_RATE_LIMITS,
  silentLogger,
  startAccessService,
} from "@natschat/access";
import type { RegisterOptions } from "@natschat/client";
import { inboxPrefixFor } from "@natschat/protocol";
import type { TestStack } from "@natschat/testing";

export { within } from "@natschat/testing";

import { layout, loadSeed } from "@natschat/trust";

/** Starts one access-service replica on the stack, as `natschat up` would. */
export async function startService(
  stack: TestStack,
  overrides: Partial<AccessServiceOptions> = {},
): Promise<AccessService> {
  const t = stack.trust.summary;
  return startAccessService({
    servers: stack.urls,
    accessCreds: { path: stack.creds("access") },
    pushCreds: { path: stack.creds("push") },
    chatAccount: t.accounts.CHAT.publicKey,
    chatSigningSeed: await loadSeed(stack.dir, "CHAT-signing", "A"),
    operatorSigningSeed: await loadSeed(stack.dir, "operator-signing", "O"),
    chatJwtPath: layout(stack.dir).jwt("CHAT"),
    rateLimits: {
      ...DEFAULT_RATE_LIMITS,
      global: { rate: 100_000, perSeconds: 1, burst: 100_000 },
      // every test client is on 127.0.0.1: tests of the address limit turn it on
      perAddress: { rate: 0, perSeconds: 1, burst: 0 },
      perAddressNames: { rate: 0, perSeconds: 1, burst: 0 },
    },
    log: silentLogger,
    ...overrides,
  });
}

/** Connects as a role with its creds file and its own inbox prefix. */
export async function connectAs(
  stack: TestStack,
  role: string,
  extra: { maxReconnectAttempts?: number } = {},
): Promise<NatsConnection> {
  return connect({
    servers: stack.urls,
    authenticator: credsAuthenticator(await readFile(stack.creds(role))),
    inboxPrefix: inboxPrefixFor(role),
    maxReconnectAttempts: extra.maxReconnectAttempts ?? 0,
  });
}

/** Connects as a chat user from creds text. */
export function connectUser(
  stack: TestStack,
  user: { creds: string; publicKey: string },
  extra: { maxReconnectAttempts?: number; reconnectTimeWait?: number } = {},
): Promise<NatsConnection> {
  return connect({
    servers: stack.urls,
    authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)),
    inboxPrefix: inboxPrefixFor(user.publicKey),
    maxReconnectAttempts: extra.maxReconnectAttempts ?? 0,
    reconnectTimeWait: extra.reconnectTimeWait ?? 100,
  });
}

/** The CHAT account facts a client needs to check what it is issued. */
export function chatOptions(stack: TestStack): RegisterOptions {
  const chat = stack.trust.summary.accounts.CHAT;
  return { chatAccount: chat.publicKey, chatSigningKeys: chat.signingKeys, timeoutMs: 10_000 };
}

/** Waits for a status event matching `match`, or fails after timeoutMs saying what it waited for. */
export async function waitForStatus(
  nc: NatsConnection,
  what: string,
  match: (s: Status) => boolean,
  timeoutMs = 10_000,
): Promise<Status> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  const watch = (async () => {
    for await (const s of nc.status()) if (match(s)) return s;
    throw new Error(`connection closed before ${what}`);
  })();
  try {
    return await Promise.race([watch, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Any nkey seed (operator, account, user, ...). */
export const SEED_PATTERN = /S[OACUNX][A-Z2-7]{56}/;
