// Revocations for servers that were out of reach. A revocation is pushed to the servers that
// answer at that moment; a region behind a cut gateway, or an edge whose leafnode link is down,
// misses it. Full resolvers re-sync periodically, but their pack request is a queue request that
// a server of the asker's own cluster answers first, so a region never learns it from another
// region that way. Every few seconds this pings the servers; when one in view did not take the
// last push, it pushes the newest CHAT account JWT any server holds to all of them, re-signed
// first if it lacks a revocation the registry records. (Pushing an older JWT would undo newer
// ones: $SYS.REQ.CLAIMS.UPDATE overwrites, hence "newest".) Tested in packages/e2e
// (fault-gateway-cut, fault-leaf-link).
import { decode } from "@nats-io/jwt";
import type { NatsConnection } from "@nats-io/nats-core";
import { discoverServers, type PushReply, pushAccountJwt, writePublic } from "@natschat/trust";
import { type Revoker, withRevocations } from "./revoke.ts";

/** The newest (latest iat) of the account JWTs the servers hold, asking every server. */
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

/** Pushes the revocations to servers in view that did not take the last push. */
export class RevocationCatchUp {
  /** Servers known to hold every revocation: the last push's repliers, or all in view. */
  #current: Set<string> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> = Promise.resolve();
  #failing = false;
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
        .then(() => {
          this.#failing = false;
        })
        .catch((err: unknown) => {
          // a failed round is retried at the next tick (the servers may be out of reach for a
          // while): warn once per streak of failures, not every few seconds
          const log = this.revoker.opts.log;
          (this.#failing ? log.debug : log.warn)("revocation catch-up failed", { err });
          this.#failing = true;
        });
    };
    round();
    this.#timer = setInterval(round, this.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Records the servers that took a revocation push; the others get it once in view. */
  pushedTo(replies: PushReply[]): void {
    if (replies.length === 0) return; // nothing was pushed: the servers already had it
    this.#current = new Set(replies.filter((r) => r.ok).map((r) => r.server));
  }

  /** One round: ping the servers; push to all of them if one in view missed the last push. */
  async check(): Promise<void> {
    const { sys, chatAccount, operatorSigner, registry, log } = this.revoker.opts;
    const inView = await discoverServers(sys);
    const revoked = registry.revokedKeys();
    // at start, or with nothing revoked, the servers in view are as current as can be
    if (this.#current === undefined || revoked.length === 0) {
      this.#current = new Set([...(this.#current ?? []), ...inView]);
      return;
    }
    const known = this.#current;
    const behind = inView.filter((s) => !known.has(s));
    if (behind.length === 0) return;
    await this.revoker.serialized(async () => {
      const newest = await newestAccountJwt(sys, chatAccount);
      if (!newest) return;
      const next = await withRevocations(newest, revoked, operatorSigner);
      const replies = await pushAccountJwt(sys, next, inView.length);
      this.pushes++;
      this.#current = new Set(replies.filter((r) => r.ok).map((r) => r.server));
      const path = this.revoker.opts.chatJwtPath;
      if (path) await writePublic(path, `${next}\n`);
      log.info("revocations pushed to servers that missed them", {
        behind,
        servers: inView.length,
        replies: replies.filter((r) => r.ok).length,
        resigned: next !== newest,
      });
    });
  }
}
