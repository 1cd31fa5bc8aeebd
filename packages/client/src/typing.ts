// Typing indicators: ephemeral, never stored. We tell the history service's relay that we type
// in a conversation (chat.KUBECON.typing.<posts.<channel>|dms.<peer>>.<me>) at most once per
// TYPING_SEND_INTERVAL_MS however often typing() is called; the relay forwards at most one per 2 s
// per sender to the channel's typers subject or to the peer's private feed, with the time to show
// it (`{"ttl":6}`). Others are shown typing for that long, or until their message arrives.
// The clock is injected, so expiry is testable without waiting.
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import {
  isPublicKey,
  isValidChannel,
  TYPERS_PREFIX,
  TYPERS_WILDCARD,
  typingSubject,
  USER_FEED_PREFIX,
} from "@natschat/protocol";
import { convOf } from "./events.ts";
import type { Scope, ScopedTimer } from "./scope.ts";
import type { ChatStore } from "./store.ts";

/** Least time between two typing signals we send in one conversation. */
export const TYPING_SEND_INTERVAL_MS = 3000;
/** How long a typing signal shows when it names no ttl, seconds. */
export const TYPING_DEFAULT_TTL_S = 6;
/** Longest a typing signal may show, seconds (a larger ttl is cut to it). */
export const TYPING_MAX_TTL_S = 30;

/** Options of Typing. */
export interface TypingOptions {
  store: ChatStore;
  scope: Scope;
  nc: () => NatsConnection | undefined;
  now: () => number;
}

/** Who types where, and our own typing signals. */
export class Typing {
  readonly #o: TypingOptions;
  /** conversation id → typer key → shown until (ms). */
  readonly #typers = new Map<string, Map<string, number>>();
  /** conversation id → when we last sent a signal there (ms). */
  readonly #sent = new Map<string, number>();
  #timer: ScopedTimer | undefined;

  constructor(opts: TypingOptions) {
    this.#o = opts;
  }

  /** Subscribes to the channels' relayed signals and the DM signals on our feed. */
  subscribe(nc: NatsConnection): void {
    const me = this.#o.store.me.key;
    nc.subscribe(TYPERS_WILDCARD, { callback: (err, m) => this.#onSignal(err, m) });
    nc.subscribe(`${USER_FEED_PREFIX}.${me}.typing.*`, {
      callback: (err, m) => this.#onSignal(err, m),
    });
  }

  /** We type in `conversationId`: sends a signal unless one went out there in the last 3 s. */
  typing(conversationId: string): void {
    const now = this.#o.now();
    const last = this.#sent.get(conversationId);
    if (last !== undefined && now - last < TYPING_SEND_INTERVAL_MS) return;
    const nc = this.#o.nc();
    if (!nc || nc.isClosed() || !this.#o.scope.live) return;
    this.#sent.set(conversationId, now);
    try {
      nc.publish(typingSubject(convOf(conversationId), this.#o.store.me.key));
    } catch (err) {
      // a typing signal is a hint: losing one costs nothing, but say why it failed
      this.#o.store.setNotice(
        `typing signal not sent: ${err instanceof Error ? err.message : err}`,
      );
    }
  }

  /** `key` types in `conversationId` for `ttlSeconds`. */
  seen(conversationId: string, key: string, ttlSeconds: number): void {
    if (key === this.#o.store.me.key) return; // our other device
    const c = this.#o.store.find(conversationId);
    if (!c) return;
    let typers = this.#typers.get(conversationId);
    if (!typers) {
      typers = new Map();
      this.#typers.set(conversationId, typers);
    }
    typers.set(key, this.#o.now() + ttlSeconds * 1000);
    this.refresh();
  }

  /** `key`'s message arrived in `conversationId`: it no longer types there. */
  stopped(conversationId: string, key: string): void {
    if (this.#typers.get(conversationId)?.delete(key)) this.refresh();
  }

  /** Drops expired signals, shows the rest, and wakes up at the next expiry. */
  refresh(): void {
    const now = this.#o.now();
    const { store } = this.#o;
    let next = Number.POSITIVE_INFINITY;
    for (const [id, typers] of this.#typers) {
      for (const [key, until] of typers) {
        if (until <= now) typers.delete(key);
        else next = Math.min(next, until);
      }
      const c = store.find(id);
      if (c) c.setTyping([...typers.keys()]);
      if (typers.size === 0) this.#typers.delete(id);
    }
    store.changed();
    this.#timer?.cancel();
    this.#timer = Number.isFinite(next)
      ? this.#o.scope.timeout(() => this.refresh(), next - now)
      : undefined;
  }

  #onSignal(err: Error | null, m: Msg): void {
    if (err || !this.#o.scope.live) return;
    const where = this.#where(m.subject);
    if (!where) return;
    this.seen(where.conversationId, where.sender, ttlOf(m.data));
  }

  /** The conversation and sender a relayed signal is about (the relay is the only publisher). */
  #where(subject: string): { conversationId: string; sender: string } | undefined {
    const me = this.#o.store.me.key;
    const dmPrefix = `${USER_FEED_PREFIX}.${me}.typing.`;
    if (subject.startsWith(dmPrefix)) {
      const sender = subject.slice(dmPrefix.length);
      return isPublicKey(sender, "U") ? { conversationId: `@${sender}`, sender } : undefined;
    }
    if (!subject.startsWith(`${TYPERS_PREFIX}.`)) return undefined;
    const [channel, sender, ...rest] = subject.slice(TYPERS_PREFIX.length + 1).split(".");
    if (rest.length > 0 || !channel || !sender) return undefined;
    if (!isValidChannel(channel) || !isPublicKey(sender, "U")) return undefined;
    return { conversationId: `#${channel}`, sender };
  }
}

/** The ttl of a relayed signal (`{"ttl":6}`), seconds: defaulted and capped. */
export function ttlOf(data: Uint8Array): number {
  try {
    const o = JSON.parse(new TextDecoder().decode(data)) as { ttl?: unknown };
    const ttl = o?.ttl;
    if (typeof ttl === "number" && Number.isFinite(ttl) && ttl > 0) {
      return Math.min(ttl, TYPING_MAX_TTL_S);
    }
  } catch {
    // not JSON: the default below
  }
  return TYPING_DEFAULT_TTL_S;
}
