// Counts the replicas of the access service ($SRV.PING.<name>, every replica answers), so each
// can enforce its share of the limits that must hold for the whole service (rate-limit.ts).
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import type { Logger } from "./log.ts";

export class ReplicaCounter {
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> = Promise.resolve();
  #last = 1;

  constructor(
    readonly nc: NatsConnection,
    readonly service: string,
    readonly log: Logger,
    readonly onCount: (n: number) => void,
  ) {}

  /** Counts now, then every `everyMs`. */
  start(everyMs: number): void {
    const round = () => {
      this.#running = this.#running
        .then(() => this.count())
        .then(
          (n) => {
            if (n !== this.#last) this.log.info("replicas counted", { replicas: n });
            this.#last = n;
            this.onCount(n);
          },
          (err: unknown) => this.log.debug("counting replicas failed", { err }),
        );
    };
    round();
    this.#timer = setInterval(round, everyMs);
    this.#timer.unref?.();
  }

  /** The replicas answering a ping now (at least 1: this one). */
  async count(): Promise<number> {
    const client = new Svcm(this.nc).client({ strategy: "stall", stall: 200, maxWait: 1000 });
    const ids = new Set<string>();
    for await (const p of await client.ping(this.service)) ids.add(p.id);
    return Math.max(1, ids.size);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
