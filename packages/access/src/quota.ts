// The registry's quota guard. The registry lives in ADMIN's JetStream storage, which has a hard
// limit; if squatters filled it, renewals and revocations (writes too) would fail with it. So the
// guard refuses NEW names early: once the registry holds `maxNames`, or ADMIN's storage use passes
// `highWater` of its limit, a new name gets REGISTRY_FULL, while renewals and revocations (which
// rewrite existing entries) keep working in the headroom left. Storage use is polled every
// `everyMs` (JetStream account info), so the check on a request is a comparison, not a call.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { AccessError } from "@natschat/protocol";
import type { Logger } from "./log.ts";
import type { Registry } from "./registry.ts";

export interface QuotaOptions {
  /** Most names (revoked ones included) before new names are refused. Default 200,000. */
  maxNames?: number;
  /** Share of ADMIN's JetStream storage limit after which new names are refused. Default 0.8. */
  highWater?: number;
  /** How often the storage use is read, ms. Default 10 s. */
  everyMs?: number;
}

export const DEFAULT_MAX_NAMES = 200_000;

/** What `natschat status` shows of the registry. */
export interface QuotaStatus {
  names: number;
  maxNames: number;
  /** ADMIN's JetStream storage in use and its limit, bytes (-1: unknown or unlimited). */
  storageBytes: number;
  storageLimit: number;
  full: boolean;
}

export class QuotaGuard {
  readonly maxNames: number;
  readonly #highWater: number;
  readonly #everyMs: number;
  #storage = -1;
  #limit = -1;
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling: Promise<void> = Promise.resolve();

  constructor(
    readonly registry: Registry,
    readonly log: Logger,
    opts: QuotaOptions = {},
  ) {
    this.maxNames = opts.maxNames ?? DEFAULT_MAX_NAMES;
    this.#highWater = opts.highWater ?? 0.8;
    this.#everyMs = opts.everyMs ?? 10_000;
  }

  /** Reads the storage use now, then every everyMs. */
  async start(nc: NatsConnection): Promise<void> {
    const poll = async () => {
      try {
        const info = await (await jetstreamManager(nc)).getAccountInfo();
        this.#storage = info.storage;
        this.#limit = info.limits?.max_storage ?? -1;
      } catch (err) {
        this.log.warn("reading the registry's storage use failed", { err });
      }
    };
    await poll();
    this.#timer = setInterval(() => {
      this.#polling = this.#polling.then(poll);
    }, this.#everyMs);
    this.#timer.unref?.();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#polling;
  }

  /** True when new names are refused. */
  get full(): boolean {
    if (this.registry.size >= this.maxNames) return true;
    return this.#limit > 0 && this.#storage >= this.#limit * this.#highWater;
  }

  /** Throws REGISTRY_FULL when no new name may be added. */
  checkNewName(): void {
    if (!this.full) return;
    throw new AccessError(
      "REGISTRY_FULL",
      "the registry is full: no new names for now (renewals still work); ask the organizers",
      "quota",
    );
  }

  status(): QuotaStatus {
    return {
      names: this.registry.size,
      maxNames: this.maxNames,
      storageBytes: this.#storage,
      storageLimit: this.#limit,
      full: this.full,
    };
  }
}
