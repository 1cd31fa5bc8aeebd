// Presence: our own announcements on chat.KUBECON.online.<our key> (a first one on joining and
// after a reconnect, then one every interval, and a goodbye that expires at once), the roster's
// online flags from others' announcements, and the sweep that marks the silent offline.
//
// Only registered, unrevoked users appear online: a key's announcement counts once the
// directory has said so (the server already lets only a key publish its own presence). Until
// then the latest announcement of the key waits here, and the directory is asked for it.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  encodePresence,
  type PresenceEnvelope,
  presenceSubject,
  type Signer,
} from "@natschat/protocol";
import type { LearnResult } from "./identity.ts";
import type { Scope, ScopedTimer } from "./scope.ts";
import type { ChatStore } from "./store.ts";

/** Options of Presence. */
export interface PresenceOptions {
  store: ChatStore;
  scope: Scope;
  /** The connection of the moment, our signer and our user JWT (it changes on renewal). */
  nc: () => NatsConnection | undefined;
  signer: () => Signer | undefined;
  userJwt: () => string;
  /** Presence interval, ms. */
  intervalMs: number;
  /** Presence lifetime, s. */
  ttlSeconds: number;
  /** How often silent users are expired, ms. */
  sweepIntervalMs: number;
  /** Longest random delay before answering a newcomer's first announcement, ms. */
  answerDelayMs: number;
  now: () => number;
  /** Someone came back after a silence that only a cut link explains. */
  onGap: () => void;
  /** The directory: whether a key resolved, whether it is an active user, and asking for one. */
  directory: {
    isResolved(key: string): boolean;
    isActiveUser(key: string): boolean;
    want(key: string): void;
  };
}

/** How often the goodbye kept for goodbyeNow is signed again (well within the 30 s skew). */
const GOODBYE_REFRESH_MS = 10_000;

/** Most announcements kept waiting for the directory. */
const MAX_WAITING = 10_000;

/** Our presence and everyone else's. */
export class Presence {
  readonly #o: PresenceOptions;
  #answer: ScopedTimer | undefined;
  /**
   * A goodbye signed in advance, for a page that is closing: it cannot wait for a signature
   * (WebCrypto is async), so it publishes this one at once (goodbyeNow). Receivers take it while
   * its iat is within their clock skew (30 s), so it is signed again every GOODBYE_REFRESH_MS.
   */
  #signedGoodbye: string | undefined;
  /** The latest announcement of each key the directory has not answered for yet. */
  readonly #waiting = new Map<string, PresenceEnvelope>();

  constructor(opts: PresenceOptions) {
    this.#o = opts;
  }

  /** Announces us as new, then keeps announcing and sweeping until the scope closes. */
  async start(): Promise<void> {
    await this.announce(true);
    await this.#signGoodbye();
    this.#o.scope.interval(() => void this.announce(false), this.#o.intervalMs);
    this.#o.scope.interval(() => void this.#signGoodbye(), GOODBYE_REFRESH_MS);
    this.#o.scope.interval(() => this.#sweep(), this.#o.sweepIntervalMs);
  }

  /** Publishes our presence while the session is live; never throws (a failure is the notice). */
  async announce(first: boolean): Promise<void> {
    if (!this.#o.scope.live) return;
    await this.#publish(first, this.#o.ttlSeconds);
  }

  /** Says goodbye: a presence that expires at once (sent while stopping). */
  goodbye(): Promise<void> {
    return this.#publish(false, 0);
  }

  /** Says goodbye now, without waiting (a page that is closing); false if none was ready. */
  goodbyeNow(): boolean {
    const nc = this.#o.nc();
    const token = this.#signedGoodbye;
    if (!nc || nc.isClosed() || !token) return false;
    this.#signedGoodbye = undefined;
    nc.publish(presenceSubject(this.#o.store.me.key), token);
    return true;
  }

  async #publish(first: boolean, ttlSeconds: number): Promise<void> {
    const nc = this.#o.nc();
    const signer = this.#o.signer();
    if (!nc || !signer) return;
    try {
      const token = await encodePresence(signer, {
        name: this.#o.store.me.name,
        first,
        userJwt: this.#o.userJwt(),
        ttlSeconds,
        now: this.#o.now(),
      });
      if (!nc.isClosed()) nc.publish(presenceSubject(this.#o.store.me.key), token);
    } catch (err) {
      this.#o.store.setNotice(
        `could not announce presence: ${err instanceof Error ? err.message : err}`,
      );
    }
  }

  async #signGoodbye(): Promise<void> {
    const signer = this.#o.signer();
    if (!signer || !this.#o.scope.live) return;
    try {
      this.#signedGoodbye = await encodePresence(signer, {
        name: this.#o.store.me.name,
        first: false,
        userJwt: this.#o.userJwt(),
        ttlSeconds: 0,
        now: this.#o.now(),
      });
    } catch {
      // a signature that failed here fails in announce() too, which reports it
      this.#signedGoodbye = undefined;
    }
  }

  /** Applies a verified presence of someone (what its user JWT taught us, if it had one). */
  receive(e: PresenceEnvelope, learned: LearnResult | undefined): void {
    const store = this.#o.store;
    if (e.iss === store.me.key) return;
    if (learned && !learned.ok) {
      // The presence is signed by its key, but the identity it carries is not one CHAT issued.
      store.countDrop("bad-identity");
      return;
    }
    const dir = this.#o.directory;
    if (!dir.isResolved(e.iss)) {
      if (this.#waiting.size < MAX_WAITING || this.#waiting.has(e.iss)) this.#waiting.set(e.iss, e);
      dir.want(e.iss);
      return;
    }
    if (!dir.isActiveUser(e.iss)) {
      store.countDrop("not-a-user");
      return;
    }
    this.#apply(e);
  }

  /**
   * The directory answered for `keys`: announcements that waited for it count now, and a key it
   * now calls revoked is offline at once.
   */
  resolved(keys: readonly string[]): void {
    let changed = false;
    for (const key of keys) {
      const u = this.#o.store.findUser(key);
      if (u?.online && u.key !== this.#o.store.me.key && !this.#o.directory.isActiveUser(key)) {
        u.online = false;
        u.exp = 0;
        changed = true;
      }
    }
    if (changed) this.#o.store.changed();
    for (const key of keys) {
      const e = this.#waiting.get(key);
      if (!e) continue;
      this.#waiting.delete(key);
      if (this.#o.directory.isActiveUser(key)) this.#apply(e);
      else if (this.#o.directory.isResolved(key)) this.#o.store.countDrop("not-a-user");
    }
  }

  #apply(e: PresenceEnvelope): void {
    const store = this.#o.store;
    const u = store.user(e.iss);
    const now = this.#o.now();
    // someone we had lost without a goodbye for more than two presence lifetimes is back, and
    // did not just join: a link between us was down (a gateway or leaf cut), and what was posted
    // on their side may have missed us. (Shorter silences are common: a browser throttles the
    // timers of a background tab to once a minute.)
    const silentMs = u.lastSeen === undefined ? 0 : now - u.lastSeen;
    if (!e.first && u.exp > 0 && u.exp <= now && silentMs > 2000 * this.#o.ttlSeconds) {
      this.#o.onGap();
    }
    u.exp = e.exp * 1000;
    u.lastSeen = now;
    u.online = u.exp > now;
    if (e.first) this.#answerNewcomer();
    store.changed();
  }

  /** A newcomer does not know us yet: answer its first announcement once, soon. */
  #answerNewcomer(): void {
    if (this.#answer) return;
    const delay = Math.floor(Math.random() * this.#o.answerDelayMs);
    this.#answer = this.#o.scope.timeout(() => {
      this.#answer = undefined;
      void this.announce(false);
    }, delay);
  }

  #sweep(): void {
    const now = this.#o.now();
    const me = this.#o.store.me.key;
    let changed = false;
    for (const u of this.#o.store.users()) {
      if (u.key !== me && u.online && u.exp <= now) {
        u.online = false;
        changed = true;
      }
    }
    if (changed) this.#o.store.changed();
  }
}
