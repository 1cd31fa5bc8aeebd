// The identity cache: binds a sender's user key to the name the access service issued for it
// (security property 3). A name enters the cache only from an issued user JWT that
// checkIssuedUserJwt accepts for exactly that key (signed by a CHAT signing key, issuer_account
// CHAT, not expired). The name a sender writes into its own messages never does.
import { checkIssuedUserJwt, IdentityError } from "@natschat/protocol";

/** A key whose issued name is known. */
export interface KnownIdentity {
  key: string;
  name: string;
  /** Expiry of the issued user JWT (ms since the epoch), if it has one. */
  expires?: number;
}

/** Options of IdentityCache. */
export interface IdentityCacheOptions {
  chatAccount: string;
  chatSigningKeys: readonly string[];
  now?: () => number;
}

/** Outcome of IdentityCache.learn. */
export type LearnResult =
  | { ok: true; identity: KnownIdentity; changed: boolean }
  | { ok: false; code: string; detail: string };

/** key → issued name, learned only from checked user JWTs. */
export class IdentityCache {
  readonly #opts: IdentityCacheOptions;
  readonly #now: () => number;
  /** key → identity and the JWT it was learned from (a repeated JWT is not checked again). */
  readonly #known = new Map<string, KnownIdentity & { jwt: string }>();

  constructor(opts: IdentityCacheOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** The issued name of `key`, or undefined while it is unknown (or its JWT expired). */
  nameOf(key: string): string | undefined {
    const hit = this.#known.get(key);
    if (!hit) return undefined;
    if (hit.expires !== undefined && hit.expires <= this.#now()) return undefined;
    return hit.name;
  }

  /** Every known identity. */
  all(): KnownIdentity[] {
    return [...this.#known.values()].map(({ key, name, expires }) => ({
      key,
      name,
      ...(expires === undefined ? {} : { expires }),
    }));
  }

  /** Checks `userJwt` as the issued identity of `key` and remembers it. Never throws for bad input. */
  async learn(key: string, userJwt: string): Promise<LearnResult> {
    const hit = this.#known.get(key);
    if (hit && hit.jwt === userJwt && (hit.expires === undefined || hit.expires > this.#now())) {
      return { ok: true, identity: hit, changed: false };
    }
    try {
      const issued = await checkIssuedUserJwt(userJwt, {
        expectedKey: key,
        chatAccount: this.#opts.chatAccount,
        chatSigningKeys: this.#opts.chatSigningKeys,
        now: this.#now(),
      });
      const identity = {
        key,
        name: issued.name,
        jwt: userJwt,
        ...(issued.expires ? { expires: issued.expires.getTime() } : {}),
      };
      const changed = hit?.name !== identity.name;
      this.#known.set(key, identity);
      return { ok: true, identity, changed };
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      return { ok: false, code: err.code, detail: err.message };
    }
  }
}

/** A short, clearly unverified label for a key whose issued name is unknown: `~UABCD…WXYZ`. */
export function shortKey(key: string): string {
  return `~${key.slice(0, 5)}…${key.slice(-4)}`;
}
