// Chat sessions for fault tests: each pinned to the servers given (a region, the edge, or a
// proxy in front of a server), all owned by one pool that stops them, plus the small queries the
// tests make of a snapshot.
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import {
  ChatSession,
  type ChatSessionOptions,
  type ChatSnapshot,
  waitForSnapshot,
} from "@natschat/client";
import type { TrustSummary } from "@natschat/trust";

/** Opens sessions and stops every one of them at the end. */
export class SessionPool {
  readonly #open: ChatSession[] = [];
  readonly #conns = new WeakMap<ChatSession, NatsConnection>();
  constructor(readonly trust: TrustSummary) {}

  /** Starts a session for `creds` connected only to `servers`; `extra` sets other options. */
  async open(
    creds: { jwt: string; seed: string },
    servers: string[],
    name = "e2e",
    extra: Partial<ChatSessionOptions> = {},
  ): Promise<ChatSession> {
    const chat = this.trust.accounts.CHAT;
    let nc: NatsConnection | undefined;
    const s = new ChatSession(creds, {
      servers,
      connect: async (opts) => {
        nc = await connect(opts);
        return nc;
      },
      chatAccount: chat.publicKey,
      chatSigningKeys: chat.signingKeys,
      name,
      ...extra,
    });
    this.#open.push(s);
    await s.start();
    if (nc) this.#conns.set(s, nc);
    return s;
  }

  /** The session's NATS connection (to force a reconnect, or watch its status). */
  connectionOf(session: ChatSession): NatsConnection {
    const nc = this.#conns.get(session);
    if (!nc) throw new Error(`no connection recorded for ${session.me.name}`);
    return nc;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#open.splice(0).map((s) => s.stop().catch(() => undefined)));
  }
}

/** Texts of a channel, in the order shown. */
export function texts(s: ChatSnapshot, channel: string): string[] {
  return s.channels.find((c) => c.id === `#${channel}`)?.messages.map((m) => m.text) ?? [];
}

/** Waits until `session` shows `text` in `channel` from the sender issued `name`. */
export function waitForPost(
  session: ChatSession,
  channel: string,
  text: string,
  opts: { from?: string; timeoutMs?: number; what?: string } = {},
): Promise<ChatSnapshot> {
  return waitForSnapshot(
    session,
    (s) =>
      !!s.channels
        .find((c) => c.id === `#${channel}`)
        ?.messages.some(
          (m) => m.text === text && (opts.from === undefined || m.name === opts.from),
        ),
    {
      timeoutMs: opts.timeoutMs ?? 10_000,
      what: opts.what ?? `"${text}" in #${channel} at ${session.me.name}`,
    },
  );
}

/** Waits until `session` sees each of `keys` online. */
export function waitOnline(
  session: ChatSession,
  keys: string[],
  timeoutMs = 10_000,
): Promise<ChatSnapshot> {
  return waitForSnapshot(
    session,
    (s) => keys.every((k) => s.users.find((u) => u.key === k)?.online === true),
    { timeoutMs, what: `${keys.length} users online at ${session.me.name}` },
  );
}
