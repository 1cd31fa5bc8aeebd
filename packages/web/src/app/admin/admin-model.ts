// The admin page's model: an ADMIN-role connection (inbox prefix `_INBOX_admin`) that lists the
// registry (chat.req.provisioned, detail pages), follows its changes
// (chat.req.provisioned.updates) and presence (chat.KUBECON.online, verified), and revokes
// (chat.req.revoke). UI-agnostic: onChange + snapshot, like ChatSession.
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import {
  ACCESS_ERROR_HEADER,
  EnvelopeVerifier,
  ONLINE_SUBJECT,
  PRESENCE_TTL_SECONDS,
  PRESENCE_TYPE,
  PROVISIONED_SUBJECT,
  PROVISIONED_UPDATES_SUBJECT,
  parseAccessReply,
  parseCreds,
  REVOKE_SUBJECT,
} from "@natschat/protocol";
import { connectRoleWs } from "../nats.ts";

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
  /** Name of the admin identity (from its creds). */
  identity?: string;
  loaded: boolean;
  users: readonly AdminUser[];
  /** The registry's total, when the service reports it. */
  total?: number;
}

const REQUEST_TIMEOUT_MS = 10_000;
const PAGE = 1000;

interface Page {
  users: Partial<AdminUser>[];
  next?: string;
  total?: number;
}

/** Parses a registry reply: the detail form `{users:[...]}` or the talk's `{name: key}` map. */
export function parseRegistry(text: string): Page {
  const v = JSON.parse(text) as unknown;
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new Error("the registry reply is not a JSON object");
  }
  const o = v as Record<string, unknown>;
  if (Array.isArray(o.users)) {
    const users = o.users
      .filter((u): u is Record<string, unknown> => typeof u === "object" && u !== null)
      .filter((u) => typeof u.name === "string" && typeof u.key === "string")
      .map(
        (u): Partial<AdminUser> => ({
          name: u.name as string,
          key: u.key as string,
          ...(typeof u.issued === "string" ? { issued: u.issued } : {}),
          ...(typeof u.expires === "string" ? { expires: u.expires } : {}),
          revoked: u.revoked === true,
          ...(typeof u.revokedAt === "string" ? { revokedAt: u.revokedAt } : {}),
          ...(typeof u.lastSeen === "string" ? { lastSeen: Date.parse(u.lastSeen) } : {}),
        }),
      );
    return {
      users,
      ...(typeof o.next === "string" ? { next: o.next } : {}),
      ...(typeof o.total === "number" ? { total: o.total } : {}),
    };
  }
  return {
    users: Object.entries(o)
      .filter(([, key]) => typeof key === "string")
      .map(([name, key]) => ({ name, key: key as string, revoked: false })),
  };
}

/** The admin connection and what it knows. */
export class AdminModel {
  readonly #servers: string[];
  readonly #listeners = new Set<() => void>();
  readonly #users = new Map<string, AdminUser>();
  /** user key → presence expiry, ms. */
  readonly #presence = new Map<string, number>();
  readonly #verifier = new EnvelopeVerifier({ maxAgeSeconds: 240 });
  #nc: NatsConnection | undefined;
  #subs: Subscription[] = [];
  #state: AdminState = "idle";
  #error: string | undefined;
  #identity: string | undefined;
  #loaded = false;
  #total: number | undefined;
  #snapshot: AdminSnapshot | undefined;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #reload: ReturnType<typeof setTimeout> | undefined;
  #closedByUs = false;

  constructor(servers: string[]) {
    this.#servers = servers;
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

  /** Connects with the admin creds (the text of admin.creds) and loads the registry. */
  async connect(credsText: string): Promise<void> {
    this.#closedByUs = false;
    this.#set("connecting", undefined);
    try {
      const creds = await parseCreds(credsText);
      this.#identity = creds.claims.name ?? creds.publicKey;
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
        nc.subscribe(ONLINE_SUBJECT, {
          callback: (err, m) => {
            if (!err) void this.#onPresence(m.data);
          },
        }),
      );
      await nc.flush();
      this.#sweep = setInterval(() => this.#changed(), 5000);
      this.#set("connected", undefined);
      await this.reload();
    } catch (err) {
      await this.close();
      this.#set("closed", (err as Error).message);
      throw err;
    }
  }

  /** Reads the whole registry again, page by page. */
  async reload(): Promise<void> {
    const nc = this.#nc;
    if (!nc) return;
    const seen = new Set<string>();
    let after = "";
    for (;;) {
      const reply = await nc.request(
        PROVISIONED_SUBJECT,
        JSON.stringify({ detail: true, after, limit: PAGE }),
        { timeout: REQUEST_TIMEOUT_MS },
      );
      const error = replyError(reply.string(), reply.headers?.get(ACCESS_ERROR_HEADER));
      if (error) throw new Error(`listing users failed: ${error}`);
      const page = parseRegistry(reply.string());
      for (const u of page.users) {
        if (!u.name || !u.key) continue;
        seen.add(u.name);
        this.#users.set(u.name, { ...this.#users.get(u.name), ...u, online: false } as AdminUser);
        // Until we hear a user's presence ourselves, the service's last-seen time stands in.
        if (u.lastSeen !== undefined && !this.#presence.has(u.key)) {
          this.#presence.set(u.key, u.lastSeen + PRESENCE_TTL_SECONDS * 1000);
        }
      }
      if (page.total !== undefined) this.#total = page.total;
      if (!page.next) break;
      after = page.next;
    }
    for (const name of [...this.#users.keys()]) if (!seen.has(name)) this.#users.delete(name);
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
    const u = this.#users.get(name);
    if (u) this.#users.set(name, { ...u, revoked: true, revokedAt: new Date().toISOString() });
    this.#changed();
    this.#scheduleReload();
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
    let change: unknown;
    try {
      change = JSON.parse(text);
    } catch {
      return; // not a registry change; nothing to apply
    }
    if (typeof change !== "object" || change === null) return;
    for (const [name, v] of Object.entries(change as Record<string, unknown>)) {
      const old = this.#users.get(name);
      if (v === null) this.#users.delete(name);
      else if (typeof v === "string") {
        this.#users.set(name, {
          name,
          key: v,
          revoked: false,
          issued: new Date().toISOString(),
          online: false,
        });
      } else if (typeof v === "object" && typeof (v as { key?: unknown }).key === "string") {
        const o = v as { key: string; revoked?: unknown };
        this.#users.set(name, {
          ...old,
          name,
          key: o.key,
          revoked: o.revoked === true,
          online: false,
        });
      }
    }
    this.#changed();
    // The broadcast is terse; the detail list has the issue and expiry times.
    this.#scheduleReload();
  }

  async #onPresence(data: Uint8Array): Promise<void> {
    const r = await this.#verifier.verify(data, { subject: ONLINE_SUBJECT });
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
