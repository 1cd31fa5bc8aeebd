// Renewal of a running session's user JWT: at renewAt() the session asks the access service
// for a fresh JWT for its key and name (through the CHAT import), keeps it, hands it to the UI
// (onRenewed) and reconnects so that the servers hold it. A failure is the notice, and is tried
// again after RENEW_RETRY_MS; a revoked user is ended by the server anyway.
import type { NatsConnection } from "@nats-io/nats-core";
import { decodeJwtUnverified, type Signer } from "@natschat/protocol";
import { renew } from "./register.ts";
import { renewAt } from "./renewal.ts";
import type { Scope, ScopedTimer } from "./scope.ts";
import type { ChatStore } from "./store.ts";

/** Longest timer set at once (setTimeout caps near 24.8 days); it re-checks after. */
const MAX_TIMER_MS = 6 * 3600 * 1000;
/** Wait before another try after a renewal that did not work. */
const RENEW_RETRY_MS = 60_000;

/** Options of Renewer. */
export interface RenewerOptions {
  store: ChatStore;
  scope: Scope;
  nc: () => NatsConnection | undefined;
  signer: () => Signer | undefined;
  /** The user JWT of the moment, and where a renewed one goes. */
  jwt: () => string;
  setJwt: (jwt: string) => void;
  chatAccount: string;
  chatSigningKeys: readonly string[];
  now: () => number;
  /** Called after a renewal (the UI saves the creds); its errors are its own. */
  onRenewed?: () => void;
}

/** Keeps a session's user JWT fresh. */
export class Renewer {
  readonly #o: RenewerOptions;
  #timer: ScopedTimer | undefined;

  constructor(opts: RenewerOptions) {
    this.#o = opts;
  }

  /** Sets the timer for the next renewal (at renewAt, or after `delayMs`). */
  schedule(delayMs?: number): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    const at = renewAt(
      decodeJwtUnverified(this.#o.jwt()).payload as { iat?: number; exp?: number },
    );
    if (at === undefined && delayMs === undefined) return;
    const wait = Math.max(0, delayMs ?? (at as number) - this.#o.now());
    this.#timer = this.#o.scope.timeout(
      () => (wait > MAX_TIMER_MS ? this.schedule() : void this.#renewNow()),
      Math.min(wait, MAX_TIMER_MS),
    );
  }

  async #renewNow(): Promise<void> {
    const { store, scope } = this.#o;
    const nc = this.#o.nc();
    const signer = this.#o.signer();
    if (!nc || !signer || !scope.live) return;
    try {
      const renewed = await renew(nc, signer, store.me.name, {
        chatAccount: this.#o.chatAccount,
        chatSigningKeys: this.#o.chatSigningKeys,
        timeoutMs: 10_000,
      });
      if (!scope.live) return;
      this.#o.setJwt(renewed.jwt);
      store.clearNotice("renewal");
      this.schedule();
      try {
        this.#o.onRenewed?.();
      } catch {
        // a UI that cannot save the creds keeps chatting on them; it is its own to report
      }
    } catch (err) {
      if (!scope.live) return;
      const why = err instanceof Error ? err.message : String(err);
      store.setNotice(`could not renew the credentials yet: ${why}`, "renewal");
      this.schedule(RENEW_RETRY_MS);
      return;
    }
    // The servers hold the JWT a connection was made with: reconnect to hand them the new one.
    // Should that fail, the client's own reconnects present it (the authenticator reads it).
    await nc.reconnect().catch(() => undefined);
  }
}
