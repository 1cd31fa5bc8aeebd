// Expiry of names nobody uses, so squatted names return to the pool without an admin:
//   - "unused": never seen online (no verified presence) within `unusedSeconds` of its issue;
//   - "expired": its user JWT expired more than `graceSeconds` ago and it was not renewed.
// Revoked names are never expired (they stay reserved until the admin releases them), and a
// revoked key's claim stays for good. Every replica sweeps its view every `everyMs`; a release is
// revision-checked, so of two replicas one wins, and a renewal that came first keeps the name.
// The winner gives the key's claim back and announces the release.
import type { ReleaseReason } from "@natschat/protocol";
import type { Logger } from "./log.ts";
import type { PresenceTracker } from "./presence.ts";
import type { Registry, StoredRecord } from "./registry.ts";

export interface ExpiryRules {
  /** A name never seen online is released this long after its issue. Default 7 days. */
  unusedSeconds: number;
  /** A name whose JWT expired is released this long after. Default 7 days. */
  graceSeconds: number;
  /** Sweep period, ms. Default 60 s. */
  everyMs: number;
}

export const DEFAULT_EXPIRY_RULES: ExpiryRules = {
  unusedSeconds: 7 * 86400,
  graceSeconds: 7 * 86400,
  everyMs: 60_000,
};

/** A release this replica made. */
export interface Expired {
  name: string;
  key: string;
  reason: ReleaseReason;
  revision: number;
}

/** Why a record is due for release at `now`, or undefined. */
export function dueForRelease(
  s: StoredRecord,
  lastSeen: number | undefined,
  rules: ExpiryRules,
  now: number,
): ReleaseReason | undefined {
  const r = s.record;
  if (r.revoked) return undefined;
  if (r.expires && Date.parse(r.expires) + rules.graceSeconds * 1000 < now) return "expired";
  if (lastSeen === undefined && Date.parse(r.issued) + rules.unusedSeconds * 1000 < now) {
    return "unused";
  }
  return undefined;
}

export class ExpirySweeper {
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<unknown> = Promise.resolve();
  /** Releases by reason, by this replica. */
  readonly released: Record<"unused" | "expired", number> = { unused: 0, expired: 0 };

  constructor(
    readonly registry: Registry,
    readonly presence: PresenceTracker,
    readonly rules: ExpiryRules,
    readonly log: Logger,
    readonly announce: (e: Expired) => void,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      this.#running = this.#running
        .then(() => this.sweep())
        .catch((err: unknown) => this.log.warn("expiry sweep failed", { err }));
    }, this.rules.everyMs);
    this.#timer.unref?.();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One sweep; returns what this replica released. */
  async sweep(now = Date.now()): Promise<Expired[]> {
    const due: { s: StoredRecord; reason: ReleaseReason }[] = [];
    for (const s of this.registry.entries()) {
      const reason = dueForRelease(s, this.presence.lastSeen(s.record.name), this.rules, now);
      if (reason) due.push({ s, reason });
    }
    const out: Expired[] = [];
    for (const { s, reason } of due) {
      const { name, key } = s.record;
      const revision = await this.registry.release(name, s.revision);
      if (revision === "conflict") continue; // renewed, revoked or released meanwhile
      const claim = await this.registry.fetchClaim(key);
      if (claim && claim.claim.name === name && !claim.claim.revoked) {
        await this.registry.releaseClaim(key, claim.revision);
      }
      if (reason === "unused" || reason === "expired") this.released[reason]++;
      const e = { name, key, reason, revision };
      out.push(e);
      this.log.info("name released", { name, key, reason });
      this.announce(e);
    }
    return out;
  }
}
