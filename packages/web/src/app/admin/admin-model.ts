// The admin page's model: an ADMIN-role connection (inbox prefix `_INBOX_admin`) that lists the
// registry page by page (chat.req.provisioned), follows its changes live
// (chat.req.provisioned.updates, applied by revision: subscribed before the first page, so no
// change falls between), follows presence (chat.KUBECON.online, verified), and revokes
// (chat.req.revoke). Pages and changes are parsed by protocol's registry-wire, like the CLI.
// UI-agnostic: onChange + snapshot, like ChatSession.
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import {
  ACCESS_ERROR_HEADER,
  applyRegistryChange,
  EnvelopeVerifier,
  encodeRegistryQuery,
  ONLINE_WILDCARD,
  PRESENCE_TTL_SECONDS,
  PRESENCE_TYPE,
  PROVISIONED_SUBJECT,
  PROVISIONED_UPDATES_SUBJECT,
  parseAccessReply,
  parseRegistryChange,
  parseRegistryPage,
  parseRevokeResult,
  REGISTRY_PAGE_MAX,
  REVOKE_SUBJECT,
  type RegistryUser,
} from "@natschat/protocol";
import { connectRoleWs } from "../nats.ts";
import { type AccountKeys, type AdminIdentity, checkAdminCreds } from "./admin-creds.ts";

/** One registered user as the admin sees it. */
export interface AdminUser {
  name: string;
  key: string;
  /** ISO times, when the service sent them. */
  issued?: string;
  expires?: string;
  revoked: boolean;
  revokedAt?: string;
  /** Last presence heard (by us or, before we connected, by the service), ms. */
  lastSeen?: number;
  online: boolean;
}

export type AdminState = "idle" | "connecting" | "connected" | "reconnecting" | "closed";

export interface AdminSnapshot {
  state: AdminState;
  /** Why the connection failed or closed. */
  error?: string;
  /** The admin identity, checked from its creds' JWT (never from a name alone). */
  identity?: AdminIdentity;
  loaded: boolean;
  users: readonly AdminUser[];
  /** The registry's total, when the service reports it. */
  total?: number;
}

const REQUEST_TIMEOUT_MS = 10_000;

/** An admin-page user from a registry-wire user. */
function adminUser(u: RegistryUser, old?: AdminUser): AdminUser {
  return {
    name: u.name,
    key: u.key,
    issued: u.issued,
    ...(u.expires ? { expires: u.expires } : {}),
    revoked: u.revoked === true,
    ...(u.revokedAt ? { revokedAt: u.revokedAt } : {}),
    ...(u.lastSeen !== undefined
      ? { lastSeen: Date.parse(u.lastSeen) }
      : old?.lastSeen !== undefined
        ? { lastSeen: old.lastSeen }
        : {}),
    online: false,
  };
}

/** The admin connection and what it knows. */
export class AdminModel {
  readonly #servers: string[];
  readonly #accounts: AccountKeys;
  readonly #listeners = new Set<() => void>();
  readonly #users = new Map<string, AdminUser>();
  /** The registry as the service reports it, by name, with revisions (changes apply by revision). */
  readonly #registry = new Map<string, RegistryUser>();
  /** user key → presence expiry, ms. */
  readonly #presence = new Map<string, number>();
  readonly #verifier = new EnvelopeVerifier({ maxAgeSeconds: 240 });
  #nc: NatsConnection | undefined;
  #subs: Subscription[] = [];
  #state: AdminState = "idle";
  #error: string | undefined;
  #identity: AdminIdentity | undefined;
  #loaded = false;
  #total: number | undefined;
  #snapshot: AdminSnapshot | undefined;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #reload: ReturnType<typeof setTimeout> | undefined;
  #closedByUs = false;

  constructor(servers: string[], accounts: AccountKeys) {
    this.#servers = servers;
    this.#accounts = accounts;
  }

  onChange(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => {
      this.#listeners.delete(cb);
    };
  }

  snapshot(): AdminSnapshot {
    if (this.#snapshot) return this.#snapshot;
    const now = Date.now();
    const users = [...this.#users.values()]
      .map((u) => {
        const exp = this.#presence.get(u.key);
        return { ...u, online: !u.revoked && exp !== undefined && exp > now };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    this.#snapshot = {
      state: this.#state,
      ...(this.#error ? { error: this.#error } : {}),
      ...(this.#identity ? { identity: this.#identity } : {}),
      loaded: this.#loaded,
      users,
      ...(this.#total !== undefined ? { total: this.#total } : {}),
    };
    return this.#snapshot;
  }

  /**
   * Connects with the admin creds (the text of admin.creds) and loads the registry. Creds that
   * are not the admin role's are refused before connecting (AdminCredsError).
   */
  async connect(credsText: string): Promise<void> {
    this.#closedByUs = false;
    this.#identity = undefined;
    this.#set("connecting", undefined);
    try {
      this.#identity = await checkAdminCreds(credsText, this.#accounts);
      const nc = await connectRoleWs(this.#servers, credsText, "admin", {
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
      });
      this.#nc = nc;
      void this.#watch(nc);
      this.#subs.push(
        nc.subscribe(PROVISIONED_UPDATES_SUBJECT, {
          callback: (err, m) => {
            if (!err) this.#onUpdate(m.string());
          },
        }),
        nc.subscribe(ONLINE_WILDCARD, {
          callback: (err, m) => {
            if (!err) void this.#onPresence(m.data, m.subject);
          },
        }),
      );
      await nc.flush();
      this.#sweep = setInterval(() => this.#changed(), 5000);
      this.#set("connected", undefined);
      await this.reload();
    } catch (err) {
      await this.close();
      this.#identity = undefined;
      this.#set("closed", (err as Error).message);
      throw err;
    }
  }

  /** Reads the whole registry again, page by page. */
  async reload(): Promise<void> {
    const nc = this.#nc;
    if (!nc) return;
    const fresh = new Map<string, RegistryUser>();
    let after: string | undefined;
    for (;;) {
      const reply = await nc.request(
        PROVISIONED_SUBJECT,
        encodeRegistryQuery({ after, limit: REGISTRY_PAGE_MAX }),
        { timeout: REQUEST_TIMEOUT_MS },
      );
      const error = replyError(reply.string(), reply.headers?.get(ACCESS_ERROR_HEADER));
      if (error) throw new Error(`listing users failed: ${error}`);
      const page = parseRegistryPage(reply.string());
      for (const u of page.users) fresh.set(u.name, u);
      this.#total = page.total;
      if (!page.next) break;
      after = page.next;
    }
    // a change heard while paging may be newer than the page that held its name
    for (const [name, u] of this.#registry) {
      const f = fresh.get(name);
      if (f && f.revision < u.revision) fresh.set(name, u);
    }
    this.#registry.clear();
    for (const [name, u] of fresh) this.#registry.set(name, u);
    this.#users.clear();
    for (const u of fresh.values()) this.#users.set(u.name, adminUser(u));
    for (const u of fresh.values()) {
      // Until we hear a user's presence ourselves, the service's last-seen time stands in.
      if (u.lastSeen !== undefined && !this.#presence.has(u.key)) {
        this.#presence.set(u.key, Date.parse(u.lastSeen) + PRESENCE_TTL_SECONDS * 1000);
      }
    }
    this.#loaded = true;
    this.#changed();
  }

  /** Revokes a name; resolves when the service confirmed it. */
  async revoke(name: string): Promise<void> {
    const nc = this.#nc;
    if (!nc) throw new Error("not connected");
    const reply = await nc
      .request(REVOKE_SUBJECT, name, { timeout: REQUEST_TIMEOUT_MS })
      .catch((err: Error) => {
        throw new Error(`no answer from the access service: ${err.message}`);
      });
    const error = replyError(reply.string(), reply.headers?.get(ACCESS_ERROR_HEADER));
    if (error) throw new Error(error);
    const { revoked } = parseRevokeResult(reply.string());
    const u = this.#users.get(revoked.name);
    if (u) {
      this.#users.set(revoked.name, {
        ...u,
        revoked: true,
        revokedAt: u.revokedAt ?? new Date().toISOString(),
      });
    }
    this.#changed();
  }

  async close(): Promise<void> {
    this.#closedByUs = true;
    if (this.#sweep) clearInterval(this.#sweep);
    if (this.#reload) clearTimeout(this.#reload);
    for (const s of this.#subs) s.unsubscribe();
    this.#subs = [];
    const nc = this.#nc;
    this.#nc = undefined;
    if (nc && !nc.isClosed()) await nc.close().catch(() => undefined);
    this.#set("closed", undefined);
  }

  async #watch(nc: NatsConnection): Promise<void> {
    nc.closed().then((err) => {
      if (!this.#closedByUs) this.#set("closed", err ? err.message : "connection closed");
    });
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnecting")
        this.#set("reconnecting", undefined);
      else if (s.type === "reconnect") {
        this.#set("connected", undefined);
        this.#scheduleReload();
      }
    }
  }

  #onUpdate(text: string): void {
    let change: ReturnType<typeof parseRegistryChange>;
    try {
      change = parseRegistryChange(text);
    } catch {
      return; // not a registry change we can read; the next reload corrects the view
    }
    const name = change.op === "released" ? change.name : change.user.name;
    applyRegistryChange(this.#registry, change);
    const u = this.#registry.get(name);
    if (u) this.#users.set(name, adminUser(u, this.#users.get(name)));
    else this.#users.delete(name);
    if (change.op === "registered" || change.op === "released") {
      this.#total = this.#registry.size;
    }
    this.#changed();
  }

  /** A presence on `subject` (chat.KUBECON.online.<key>: the server let only that key publish). */
  async #onPresence(data: Uint8Array, subject: string): Promise<void> {
    const r = await this.#verifier.verify(data, { subject });
    if (!r.ok || r.envelope.type !== PRESENCE_TYPE) return;
    this.#presence.set(r.envelope.iss, r.envelope.exp * 1000);
    for (const u of this.#users.values()) if (u.key === r.envelope.iss) u.lastSeen = Date.now();
    this.#changed();
  }

  #scheduleReload(): void {
    if (this.#reload) clearTimeout(this.#reload);
    this.#reload = setTimeout(() => {
      this.#reload = undefined;
      this.reload().catch((err: Error) => {
        this.#error = err.message;
        this.#changed();
      });
    }, 300);
  }

  #set(state: AdminState, error: string | undefined): void {
    this.#state = state;
    this.#error = error;
    this.#changed();
  }

  #changed(): void {
    this.#snapshot = undefined;
    for (const cb of [...this.#listeners]) cb();
  }
}

/** The error text of a service reply, or undefined when it is not an error. */
function replyError(body: string, code: string | undefined): string | undefined {
  if (!code && !body.trimStart().startsWith("-ERR")) return undefined;
  const parsed = parseAccessReply(body, code);
  return parsed.ok ? undefined : parsed.message;
}
