// Presence (issue 12): our heartbeat on chat.KUBECON.online.<our key> (on joining, after a
// reconnect, then every interval, and a goodbye that expires at once), which only the directory
// receives; and who is online, from the directory's presence feed (chat.KUBECON.presence.>):
// a snapshot of the online set paged from chat.svc.directory.online, then its changes, one
// message per join, leave or rename, numbered by the online bucket's stream sequence. Nothing
// arrives in steady state but the directory replicas' tick, one per period each.
//
// Joining: subscribe to the feed first (and flush), then page the snapshot, then replay the
// changes that arrived meanwhile on top of it. Each page was read at a revision; a change of a
// key is applied when it is newer than the page that covers the key (a change is a set-state,
// so replaying it is safe).
//
// Gaps: changes are numbered without holes, so a change that skips numbers means some were lost;
// a tick whose revision stayed ahead of ours for a whole period means the last ones were; a
// tick whose revision is ours but whose count is not, twice, means the snapshot was stale; and
// ticks that stop for more than two periods then come back mean a link (a gateway, a leaf) was
// down. Each makes us load the snapshot again; the silence also calls onGap (history may have
// missed posts from the other side of that link).
//
// Names: the directory's feed and pages carry the name the access service issued for each key;
// they are the directory's word, as its lookups are, and go into the directory cache.
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import {
  DIRECTORY_ONLINE_SUBJECT,
  encodeOnlineQuery,
  encodePresence,
  type OnlineReply,
  PRESENCE_FEED,
  PRESENCE_TICK_SUBJECT,
  type PresenceChange,
  type PresenceTick,
  parseOnlineReply,
  parsePresenceChange,
  parsePresenceTick,
  presenceSubject,
  type Signer,
} from "@natschat/protocol";
import type { Scope } from "./scope.ts";
import type { ChatStore } from "./store.ts";

/** Options of Presence. */
export interface PresenceOptions {
  store: ChatStore;
  scope: Scope;
  /** The connection of the moment and our signer. */
  nc: () => NatsConnection | undefined;
  signer: () => Signer | undefined;
  /** Heartbeat interval, ms (also the directory's tick period we expect). */
  intervalMs: number;
  /** Heartbeat lifetime, s. */
  ttlSeconds: number;
  now: () => number;
  /** Ticks stopped for more than two periods and came back: a link between us was down. */
  onGap: () => void;
  /** Takes the directory's word for a key's issued name. */
  named: (key: string, name: string) => void;
  /** How long one online page may take, ms. */
  pageTimeoutMs?: number;
}

/** How often the goodbye kept for goodbyeNow is signed again (well within the 30 s skew). */
const GOODBYE_REFRESH_MS = 10_000;

/** A snapshot page: the keys it covers (after `after`, up to `last`) and its revision. */
interface PageCover {
  after: string;
  last: string | undefined;
  rev: number;
}

/** Our presence and everyone else's. */
export class Presence {
  readonly #o: PresenceOptions;
  /**
   * A goodbye signed in advance, for a page that is closing: it cannot wait for a signature
   * (WebCrypto is async), so it publishes this one at once (goodbyeNow). The directory takes it
   * while its iat is within the clock skew (30 s), so it is signed again every GOODBYE_REFRESH_MS.
   */
  #signedGoodbye: string | undefined;
  /** key → issued name, of every key online. */
  readonly #online = new Map<string, string>();
  /** The highest change number applied (our revision of the online set). */
  #rev = 0;
  /** Changes that arrived while a snapshot loads; undefined when none is loading. */
  #buffer: PresenceChange[] | undefined;
  #loading: Promise<void> | undefined;
  #again = false;
  #sub: Subscription | undefined;
  #lastTickAt = 0;
  /** A revision a tick told us of that we had not reached yet. */
  #behind: number | undefined;
  #countMismatches = 0;
  #silent = false;
  /** Snapshots loaded, changes applied and gaps found: for tests and the bench. */
  readonly figures = { snapshots: 0, changes: 0, ticks: 0, gaps: 0 };

  constructor(opts: PresenceOptions) {
    this.#o = opts;
  }

  /** Follows the feed, loads the snapshot, then heartbeats until the scope closes. */
  async start(): Promise<void> {
    const nc = this.#o.nc();
    if (!nc) return;
    this.#subscribe(nc);
    await nc.flush();
    await this.announce();
    await this.#signGoodbye();
    await this.resync();
    this.#lastTickAt = this.#o.now();
    this.#o.scope.interval(() => void this.announce(), this.#o.intervalMs);
    this.#o.scope.interval(() => void this.#signGoodbye(), GOODBYE_REFRESH_MS);
    this.#o.scope.interval(() => this.#checkTicks(), Math.max(50, this.#o.intervalMs / 2));
    this.#o.scope.onClose(() => this.#sub?.unsubscribe());
  }

  #subscribe(nc: NatsConnection): void {
    this.#sub = nc.subscribe(PRESENCE_FEED, { callback: (err, m) => this.#onMsg(err, m) });
  }

  /** Publishes our heartbeat while the session is live; never throws (a failure is the notice). */
  async announce(): Promise<void> {
    if (!this.#o.scope.live) return;
    await this.#publish(this.#o.ttlSeconds);
  }

  /** Says goodbye: a heartbeat that expires at once (sent while stopping). */
  goodbye(): Promise<void> {
    return this.#publish(0);
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

  async #signGoodbye(): Promise<void> {
    const signer = this.#o.signer();
    if (!signer || !this.#o.scope.live) return;
    try {
      this.#signedGoodbye = await encodePresence(signer, {
        name: this.#o.store.me.name,
        ttlSeconds: 0,
        now: this.#o.now(),
      });
    } catch {
      // a signature that failed here fails in announce() too, which reports it
      this.#signedGoodbye = undefined;
    }
  }

  async #publish(ttlSeconds: number): Promise<void> {
    const nc = this.#o.nc();
    const signer = this.#o.signer();
    if (!nc || !signer) return;
    try {
      // no user JWT: the directory knows who we are; the server proves the key
      const token = await encodePresence(signer, {
        name: this.#o.store.me.name,
        ttlSeconds,
        now: this.#o.now(),
      });
      if (!nc.isClosed()) nc.publish(presenceSubject(this.#o.store.me.key), token);
    } catch (err) {
      this.#o.store.setNotice(`could not announce presence: ${text(err)}`);
    }
  }

  #onMsg(err: Error | null, m: Msg): void {
    if (err) {
      this.#o.store.setNotice(`presence subscription failed: ${err.message}`);
      return;
    }
    if (!this.#o.scope.live) return;
    try {
      if (m.subject === PRESENCE_TICK_SUBJECT) this.#tick(parsePresenceTick(m.string()));
      else
        this.#change(parsePresenceChange(m.subject, (h) => m.headers?.get(h) || undefined, m.data));
    } catch {
      // only the directory (through ADMIN's export) publishes here; a message that does not
      // parse is counted and skipped
      this.#o.store.countDrop("bad-presence");
    }
  }

  #change(c: PresenceChange): void {
    if (this.#buffer) {
      this.#buffer.push(c);
      return;
    }
    if (c.seq <= this.#rev) return; // a copy (two paths to us), or already in the snapshot
    if (c.seq > this.#rev + 1) {
      // changes were lost in between: this one still counts, and the snapshot fills the hole
      this.figures.gaps++;
      this.#apply([c]);
      void this.resync();
      return;
    }
    this.#apply([c]);
  }

  #tick(t: PresenceTick): void {
    this.figures.ticks++;
    const now = this.#o.now();
    const silent = this.#silent;
    this.#silent = false;
    this.#lastTickAt = now;
    if (this.#buffer) return;
    if (silent) {
      this.figures.gaps++;
      this.#o.onGap();
      void this.resync();
      return;
    }
    if (t.rev > this.#rev) {
      // a tick can overtake the change it counts; a whole period behind is a loss
      if (this.#behind !== undefined && this.#behind <= t.rev && this.#rev < this.#behind) {
        this.#behind = undefined;
        this.figures.gaps++;
        void this.resync();
      } else if (this.#behind === undefined) this.#behind = t.rev;
      return;
    }
    this.#behind = undefined;
    if (t.rev === this.#rev && t.count !== this.#online.size) {
      if (++this.#countMismatches >= 2) {
        this.#countMismatches = 0;
        void this.resync();
      }
    } else this.#countMismatches = 0;
  }

  /** Ticks stopped for more than two periods: remember it, the next tick is a gap. */
  #checkTicks(): void {
    if (this.#o.now() - this.#lastTickAt > 2 * this.#o.intervalMs) this.#silent = true;
  }

  /** Loads the online set again (on joining, after a reconnect or a gap); never throws. */
  resync(): Promise<void> {
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      do {
        this.#again = false;
        await this.#load();
      } while (this.#again && this.#o.scope.live);
    })().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const nc = this.#o.nc();
    if (!nc || nc.isClosed() || !this.#o.scope.live) return;
    this.#buffer = [];
    const pages: OnlineReply[] = [];
    const covers: PageCover[] = [];
    try {
      let after = "";
      for (;;) {
        const m = await nc.request(DIRECTORY_ONLINE_SUBJECT, encodeOnlineQuery({ after }), {
          timeout: this.#o.pageTimeoutMs ?? 5000,
        });
        const page = parseOnlineReply(m.string());
        pages.push(page);
        covers.push({ after, last: page.next, rev: page.rev });
        if (!page.next) break;
        after = page.next;
      }
    } catch (err) {
      const buffered = this.#buffer;
      this.#buffer = undefined;
      this.#o.store.setNotice(`could not load who is online: ${text(err)}`, "directory");
      // keep what we had, and what changed meanwhile
      for (const c of buffered) this.#change(c);
      return;
    }
    const buffered = this.#buffer;
    this.#buffer = undefined;
    this.figures.snapshots++;
    this.#o.store.clearNotice("directory");
    const next = new Map<string, string>();
    let rev = 0;
    for (const p of pages) {
      for (const [key, name] of p.online) next.set(key, name);
      rev = Math.max(rev, p.rev);
    }
    for (const c of buffered) {
      const cover = covers.find(
        (p) => c.key > p.after && (p.last === undefined || c.key <= p.last),
      );
      if (cover && c.seq <= cover.rev) continue; // the page already has it
      if (c.name === undefined) next.delete(c.key);
      else next.set(c.key, c.name);
      rev = Math.max(rev, c.seq);
    }
    this.#rev = rev;
    this.#behind = undefined;
    this.#countMismatches = 0;
    this.#replace(next);
  }

  /** Applies changes in order. */
  #apply(changes: readonly PresenceChange[]): void {
    const store = this.#o.store;
    const now = this.#o.now();
    for (const c of changes) {
      this.figures.changes++;
      this.#rev = Math.max(this.#rev, c.seq);
      // named before the store meets the key, so it is not looked up again
      if (c.name !== undefined) this.#o.named(c.key, c.name);
      const u = store.user(c.key);
      if (c.name === undefined) {
        this.#online.delete(c.key);
        u.online = false;
      } else {
        this.#online.set(c.key, c.name);
        u.online = true;
        u.lastSeen = now;
      }
    }
    store.identityChanged();
  }

  /** Makes `next` the online set. */
  #replace(next: Map<string, string>): void {
    const store = this.#o.store;
    const now = this.#o.now();
    for (const key of this.#online.keys()) {
      if (!next.has(key)) store.user(key).online = false;
    }
    for (const [key, name] of next) {
      this.#o.named(key, name);
      const u = store.user(key);
      if (!u.online) u.lastSeen = now;
      u.online = true;
    }
    this.#online.clear();
    for (const [k, v] of next) this.#online.set(k, v);
    store.identityChanged();
  }

  /** Keys online now, as we know them. */
  get size(): number {
    return this.#online.size;
  }

  /** Our revision of the online set. */
  get revision(): number {
    return this.#rev;
  }
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
