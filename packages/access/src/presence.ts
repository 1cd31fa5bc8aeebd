// Presence tracking: every replica follows chat.KUBECON.online.* (imported from CHAT: the clients'
// heartbeats, which only the directory receives), lets each key through a rate gate
// (heartbeat-gate.ts: a flooding key costs no signature checks), verifies each announcement (signature,
// freshness, replay) and accepts it only when the registry issued that key under that name and
// did not revoke it; an accepted one goes on to the online set (online-set.ts). Last-seen lives
// in memory, per replica (every replica sees every announcement); it is written to the registry
// at most once per `persistEveryMs` per name, with a revision check so replicas do not fight
// (the loser skips).
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import {
  decodeJwtUnverified,
  EnvelopeVerifier,
  ONLINE_WILDCARD,
  PRESENCE_INTERVAL_SECONDS,
  PRESENCE_TTL_SECONDS,
} from "@natschat/protocol";
import { HeartbeatGate } from "./heartbeat-gate.ts";
import type { Logger } from "./log.ts";
import type { Registry } from "./registry.ts";

/** Why an announcement that verified was still not accepted. */
export type PresenceRejection = "unknown-key" | "name-mismatch" | "revoked" | "not-presence";

export interface PresenceStats {
  accepted: number;
  /**
   * Signature, format, time and replay drops (EnvelopeVerifier), registry rejections, and
   * `throttled`: heartbeats a key sent faster than its gate lets through, dropped unverified.
   */
  dropped: Record<string, number>;
  /** Names seen within the presence lifetime. */
  online: number;
}

/** Called with each accepted announcement: its key, issued name, and whether it says goodbye. */
export type AcceptedPresence = (key: string, name: string, goodbye: boolean) => void;

/**
 * Whether an announcement says it is a goodbye (ttl 0), read without verifying it: only to pick
 * the gate's rule (heartbeat-gate.ts), which is cheaper than a signature check; the verifier
 * still decides everything after the gate.
 */
function looksLikeGoodbye(data: Uint8Array | string): boolean {
  try {
    const p = decodeJwtUnverified(
      typeof data === "string" ? data : new TextDecoder().decode(data),
    ).payload;
    return typeof p.exp === "number" && typeof p.iat === "number" && p.exp <= p.iat;
  } catch {
    return false;
  }
}

export class PresenceTracker {
  readonly #verifier = new EnvelopeVerifier({ maxAgeSeconds: 2 * PRESENCE_TTL_SECONDS });
  readonly #lastSeen = new Map<string, number>();
  readonly #rejected: Record<PresenceRejection, number> = {
    "unknown-key": 0,
    "name-mismatch": 0,
    revoked: 0,
    "not-presence": 0,
  };
  #accepted = 0;
  #sub: Subscription | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #persisting: Promise<void> = Promise.resolve();
  readonly #persistEveryMs: number;
  readonly #onAccepted: AcceptedPresence | undefined;
  readonly #gate: HeartbeatGate;

  constructor(
    readonly registry: Registry,
    readonly log: Logger,
    opts: { persistEveryMs?: number; onAccepted?: AcceptedPresence; periodMs?: number } = {},
  ) {
    this.#persistEveryMs = opts.persistEveryMs ?? 5 * 60_000;
    this.#onAccepted = opts.onAccepted;
    this.#gate = new HeartbeatGate({ periodMs: opts.periodMs ?? PRESENCE_INTERVAL_SECONDS * 1000 });
  }

  /** Subscribes to presence and starts the periodic last-seen write. */
  start(nc: NatsConnection): void {
    this.#sub = nc.subscribe(ONLINE_WILDCARD, {
      callback: (err, msg) => {
        if (err) {
          this.log.error("presence subscription failed", { err });
          return;
        }
        void this.observe(msg.data, msg.subject).catch((e) =>
          this.log.error("presence handling failed", { err: e }),
        );
      },
    });
    if (this.#persistEveryMs > 0) {
      this.#timer = setInterval(
        () => {
          this.#persisting = this.#persisting
            .then(() => this.persist())
            .then(
              () => undefined,
              (err) => this.log.warn("writing last-seen failed", { err }),
            );
        },
        Math.min(this.#persistEveryMs, 60_000),
      );
      this.#timer.unref?.();
    }
  }

  /**
   * Checks one announcement that arrived on `subject` (chat.KUBECON.online.<key>: the server let
   * only that key publish there); returns the accepted name, or undefined.
   */
  async observe(
    data: Uint8Array | string,
    subject: string,
    now = Date.now(),
  ): Promise<string | undefined> {
    // the subject's last token: the key the server let publish there (the verifier checks it)
    const key = subject.slice(subject.lastIndexOf(".") + 1);
    if (!this.#gate.admit(key, looksLikeGoodbye(data))) return undefined;
    const result = await this.#verifier.verify(data, { subject });
    if (!result.ok) {
      this.log.debug("presence dropped", { reason: result.reason });
      return undefined;
    }
    const env = result.envelope;
    if (env.type !== "chat-online") return this.#reject("not-presence", env.iss);
    const name = this.registry.nameOf(env.iss);
    if (name === undefined) return this.#reject("unknown-key", env.iss);
    const stored = this.registry.get(name);
    if (!stored || stored.record.key !== env.iss) return this.#reject("unknown-key", env.iss);
    if (stored.record.revoked) return this.#reject("revoked", env.iss);
    if (env.claimedName !== name) return this.#reject("name-mismatch", env.iss);
    this.#accepted++;
    this.#lastSeen.set(name, now);
    // a goodbye is an announcement that expires as it is made (ttl 0)
    this.#onAccepted?.(env.iss, name, env.exp <= env.iat);
    return name;
  }

  #reject(why: PresenceRejection, key: string): undefined {
    this.#rejected[why]++;
    this.log.debug("presence rejected", { reason: why, key });
    return undefined;
  }

  /** Last verified presence of a name (ms), from memory or else from the registry. */
  lastSeen(name: string): number | undefined {
    const mem = this.#lastSeen.get(name);
    if (mem !== undefined) return mem;
    const stored = this.registry.get(name)?.record.lastSeen;
    return stored === undefined ? undefined : Date.parse(stored);
  }

  /** Writes last-seen times that moved by persistEveryMs or more to the registry. */
  async persist(): Promise<number> {
    let written = 0;
    for (const [name, seen] of this.#lastSeen) {
      const stored = this.registry.get(name);
      if (!stored || stored.record.revoked) continue;
      const before = stored.record.lastSeen ? Date.parse(stored.record.lastSeen) : 0;
      if (seen - before < this.#persistEveryMs) continue;
      const record = { ...stored.record, lastSeen: new Date(seen).toISOString() };
      // A conflict means another replica or a renewal wrote first; the next round retries.
      const rev = await this.registry.update(record, stored.revision);
      if (rev !== "conflict") written++;
    }
    return written;
  }

  stats(now = Date.now()): PresenceStats {
    let online = 0;
    for (const t of this.#lastSeen.values()) if (now - t <= PRESENCE_TTL_SECONDS * 1000) online++;
    return {
      accepted: this.#accepted,
      dropped: { ...this.#verifier.drops, ...this.#rejected, throttled: this.#gate.throttled },
      online,
    };
  }

  /** Unsubscribes and stops the timer (after a last write of what moved). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#sub?.unsubscribe();
    await this.#persisting;
  }
}
