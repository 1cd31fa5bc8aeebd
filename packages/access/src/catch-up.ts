// Revocations for servers that were out of reach. A revocation is pushed to the servers that
// answer at that moment; a region behind a cut gateway, or an edge whose leafnode link is down,
// misses it. Full resolvers re-sync periodically, but their pack request is a queue request that
// a server of the asker's own cluster answers first, so a region never learns it from another
// region that way. Every few seconds this pings the servers; when one comes (back) into view it
// pushes the newest CHAT account JWT any server holds, re-signed first if it lacks a revocation
// the registry records. Tested in packages/e2e (fault-gateway-cut, fault-leaf-link).
import { decode } from "@nats-io/jwt";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  discoverServers,
  pushAccountJwt,
  revocationsOf,
  revokeInAccountJwt,
  writePublic,
} from "@natschat/trust";
import type { Revoker } from "./revoke.ts";

/** Every CHAT account JWT the servers hold, newest (latest iat) first. */
async function newestAccountJwt(sys: NatsConnection, account: string): Promise<string | undefined> {
  const replies = await sys.requestMany(`$SYS.REQ.ACCOUNT.${account}.CLAIMS.LOOKUP`, "", {
    strategy: "stall",
    stall: 300,
    maxWait: 2000,
  });
  let newest: { jwt: string; iat: number } | undefined;
  for await (const m of replies) {
    const jwt = m.string().trim();
    if (!jwt || jwt.startsWith("{")) continue;
    const iat = decode(jwt).iat ?? 0;
    if (!newest || iat > newest.iat) newest = { jwt, iat };
  }
  return newest?.jwt;
}

/** Pushes the revocations to servers that come (back) into view. */
export class RevocationCatchUp {
  #seen: Set<string> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> = Promise.resolve();
  /** Catch-up pushes done so far. */
  pushes = 0;

  constructor(
    readonly revoker: Revoker,
    readonly everyMs = 5000,
  ) {}

  /** Takes the first look at the servers now, then one every `everyMs`. */
  start(): void {
    const round = () => {
      this.#running = this.#running
        .then(() => this.check())
        .catch((err: unknown) => {
          // a failed round is retried at the next tick; the servers may still be out of reach
          this.revoker.opts.log.warn("revocation catch-up failed", { err });
        });
    };
    round();
    this.#timer = setInterval(round, this.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One round: ping the servers; push to all of them if one appeared since the last round. */
  async check(): Promise<void> {
    const { sys, chatAccount, operatorSigner, registry, log } = this.revoker.opts;
    const now = new Set(await discoverServers(sys));
    const before = this.#seen;
    // servers that left are forgotten, so they count as new when they return
    this.#seen = now;
    const appeared = before ? [...now].filter((s) => !before.has(s)) : [];
    const revoked = registry.records().filter((r) => r.revoked);
    if (appeared.length === 0 || revoked.length === 0) return;
    await this.revoker.serialized(async () => {
      const newest = await newestAccountJwt(sys, chatAccount);
      if (!newest) return;
      const have = revocationsOf(newest);
      const missing = revoked.filter((r) => !(r.key in have));
      let next = newest;
      if (missing.length) {
        // a re-signed JWT must have a later iat than the one it replaces (servers keep the later)
        const wait = ((decode(newest).iat ?? 0) + 1) * 1000 - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        for (const r of missing) next = await revokeInAccountJwt(next, r.key, operatorSigner);
      }
      const replies = await pushAccountJwt(sys, next, now.size);
      this.pushes++;
      const path = this.revoker.opts.chatJwtPath;
      if (path) await writePublic(path, `${next}\n`);
      log.info("revocations pushed to servers back in view", {
        appeared,
        servers: now.size,
        replies: replies.filter((r) => r.ok).length,
        resigned: next !== newest,
      });
    });
  }
}
