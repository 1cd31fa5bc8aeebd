// The directory, client side: a sender is shown under the name the access service issued for
// its key, looked up on chat.svc.directory.lookup (a service that learns nothing from us but
// keys, and answers only for registered users: never for the bootstrap identity or a role).
// Keys are looked up in batches (at most DIRECTORY_BATCH a request, one request per burst),
// and cached: a known key is never asked again, an unknown one again after UNKNOWN_RETRY_MS
// (it may register meanwhile). Until a key resolves it has no name, and the UIs show its short
// form. A hostile sender can mention any number of made-up keys (live posts are not quota'd), so
// what a client keeps and asks is bounded: at most UNKNOWN_MAX unknown keys remembered (the
// oldest forgotten first) and WANTED_MAX waiting to be asked (more are dropped, and asked when
// seen again); store.ts looks up at most a few mentions per message.
//
// An entry that carries the issued user JWT is believed only if that JWT was signed by a CHAT
// signing key for exactly that key (its expiry does not matter: a user long gone keeps the name
// it was issued).
import { errors, type NatsConnection } from "@nats-io/nats-core";
import {
  ACCESS_ERROR_HEADER,
  checkIssuedUserJwt,
  DIRECTORY_LOOKUP_SUBJECT,
  decodeJwtUnverified,
  encodeLookupRequest,
  IdentityError,
  isPublicKey,
  parseLookupReply,
  parseServiceError,
} from "@natschat/protocol";
import { ChatError } from "./errors.ts";
import type { Scope, ScopedTimer } from "./scope.ts";

/** Most keys in one lookup (the service's limit). */
export const DIRECTORY_BATCH = 100;
/** How long a key the directory does not know stays unknown before it is asked again. */
const UNKNOWN_RETRY_MS = 30_000;
/** First wait before a failed lookup is tried again; doubles up to MAX_RETRY_MS. */
const RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
/** Most keys remembered as unknown. */
const UNKNOWN_MAX = 10_000;
/** Most keys waiting to be looked up. */
const WANTED_MAX = 1_000;

/** What the directory says of one key. */
export interface DirectoryEntry {
  name: string;
  /** The user JWT the access service issued for the key, when the directory has it. */
  jwt?: string;
  revoked?: boolean;
}

/** Looks up keys (at most DIRECTORY_BATCH); keys the directory does not know are absent. */
export type DirectoryLookup = (keys: readonly string[]) => Promise<Record<string, DirectoryEntry>>;

/** What a key resolved to. */
export type Resolution =
  | { status: "user"; name: string; revoked: boolean }
  | { status: "unknown"; since: number };

/** Options of Directory. */
export interface DirectoryOptions {
  lookup: DirectoryLookup;
  scope: Scope;
  chatAccount: string;
  chatSigningKeys: readonly string[];
  now: () => number;
  /** Called after keys resolved (with those keys). */
  onResolved: (keys: string[]) => void;
  /** Called when a lookup failed (it is retried). */
  onError?: (err: unknown) => void;
}

/** key → issued name, from the directory service; batched and cached. */
export class Directory {
  readonly #o: DirectoryOptions;
  readonly #known = new Map<string, Resolution>();
  readonly #wanted = new Set<string>();
  /** The keys #known holds as unknown, oldest first. */
  readonly #unknown = new Set<string>();
  #timer: ScopedTimer | undefined;
  #inFlight = false;
  #retryMs = RETRY_MS;

  constructor(opts: DirectoryOptions) {
    this.#o = opts;
  }

  /** Sets what we know of a key without asking (our own key, from our checked creds). */
  set(key: string, name: string): void {
    this.#remember(key, { status: "user", name, revoked: false });
  }

  /** The issued name of `key`, once resolved. */
  nameOf(key: string): string | undefined {
    const r = this.#known.get(key);
    return r?.status === "user" ? r.name : undefined;
  }

  /** The registered, unrevoked users resolved so far (mention candidates). */
  *users(): Iterable<{ key: string; name: string }> {
    for (const [key, r] of this.#known) {
      if (r.status === "user" && !r.revoked) yield { key, name: r.name };
    }
  }

  /** Whether `key` is a registered user that is not revoked (false while unresolved). */
  isActiveUser(key: string): boolean {
    const r = this.#known.get(key);
    return r?.status === "user" && !r.revoked;
  }

  /** Whether the directory has answered for `key` (either way). */
  isResolved(key: string): boolean {
    return this.#known.has(key);
  }

  /** Asks for `key` (batched with others asked in the same burst), unless it is known. */
  want(key: string): void {
    const r = this.#known.get(key);
    if (r?.status === "user") return;
    if (r?.status === "unknown" && this.#o.now() - r.since < UNKNOWN_RETRY_MS) return;
    if (!isPublicKey(key, "U") || this.#wanted.size >= WANTED_MAX) return;
    this.#wanted.add(key);
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#timer || this.#inFlight) return;
    this.#timer = this.#o.scope.timeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, ms);
  }

  async #flush(): Promise<void> {
    if (this.#inFlight || this.#wanted.size === 0) return;
    this.#inFlight = true;
    const keys = [...this.#wanted].slice(0, DIRECTORY_BATCH);
    for (const k of keys) this.#wanted.delete(k);
    let failed = false;
    try {
      const found = await this.#o.lookup(keys);
      if (!this.#o.scope.live) return;
      const now = this.#o.now();
      for (const key of keys) {
        const entry = Object.hasOwn(found, key) ? found[key] : undefined;
        this.#remember(
          key,
          (entry && (await this.#check(key, entry))) ?? { status: "unknown", since: now },
        );
      }
      this.#retryMs = RETRY_MS;
      this.#o.onResolved(keys);
    } catch (err) {
      failed = true;
      for (const k of keys) this.#wanted.add(k);
      this.#o.onError?.(err);
    } finally {
      this.#inFlight = false;
    }
    if (!this.#o.scope.live || this.#wanted.size === 0) return;
    if (failed) {
      const wait = this.#retryMs;
      this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
      this.#schedule(wait);
    } else this.#schedule(0);
  }

  #remember(key: string, r: Resolution): void {
    this.#known.set(key, r);
    this.#unknown.delete(key);
    if (r.status !== "unknown") return;
    this.#unknown.add(key);
    for (const oldest of this.#unknown) {
      if (this.#unknown.size <= UNKNOWN_MAX) break;
      this.#unknown.delete(oldest);
      this.#known.delete(oldest);
    }
  }

  /** An entry as a resolution, or undefined if its JWT does not bind its name to its key. */
  async #check(key: string, e: DirectoryEntry): Promise<Resolution | undefined> {
    if (e.jwt === undefined) return { status: "user", name: e.name, revoked: e.revoked === true };
    let iat: unknown;
    try {
      iat = decodeJwtUnverified(e.jwt).payload.iat;
    } catch {
      return undefined; // an entry we cannot read names nobody
    }
    try {
      const issued = await checkIssuedUserJwt(e.jwt, {
        expectedKey: key,
        chatAccount: this.#o.chatAccount,
        chatSigningKeys: this.#o.chatSigningKeys,
        // the name it was issued stays its name after the JWT expires: judge it as of its issue
        now: typeof iat === "number" ? iat * 1000 : this.#o.now(),
      });
      return { status: "user", name: issued.name, revoked: e.revoked === true };
    } catch (err) {
      if (err instanceof IdentityError) return undefined;
      throw err;
    }
  }
}

/** A lookup on the connection of the moment: one request to chat.svc.directory.lookup. */
export function natsDirectoryLookup(
  nc: () => NatsConnection | undefined,
  timeoutMs = 5000,
): DirectoryLookup {
  return async (keys) => {
    const conn = nc();
    if (!conn || conn.isClosed()) throw new errors.ClosedConnectionError();
    const m = await conn.request(DIRECTORY_LOOKUP_SUBJECT, encodeLookupRequest(keys), {
      timeout: timeoutMs,
    });
    const header = (h: string) => m.headers?.get(h) || undefined;
    // the access service marks its error replies with its own code header, or the
    // micro-protocol's (Nats-Service-Error-Code)
    const err = parseServiceError({ data: m.data, header });
    const code = header(ACCESS_ERROR_HEADER) ?? err?.code;
    if (err || code) {
      throw new ChatError(
        "CHAT_DIRECTORY_FAILED",
        `the directory refused a lookup: ${err?.message ?? code}`,
        code ? { serviceCode: code } : {},
      );
    }
    try {
      return parseLookupReply(m.string()).users;
    } catch (err) {
      throw new ChatError("CHAT_DIRECTORY_FAILED", "the directory's reply does not parse", {
        cause: err,
      });
    }
  };
}
