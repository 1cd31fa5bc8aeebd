// Provisioning on chat.req.access. The request is a JWT signed by the client's own new user key
// (protocol's encodeAccessRequest); the reply is the user JWT, or `-ERR '<message>'` with a code.
// Steps, cheapest first: size and shape, the global rate limit, the signature and freshness
// check, the per-name and per-key limits, the replay check, then the registry:
//   - a free name: sign the JWT, then KV create (atomic; of two racing replicas one wins);
//   - the same name and key, not revoked: a renewal, KV update at the revision read;
//   - anything else: NAME_TAKEN or NAME_REVOKED.
// The JWT is signed before the registry write, so its iat is never after a revocation mark.
// The talk's plain-text request (a bare name in, a creds file with a server-made key out) is
// served only when `legacyPlaintext` is on.
import {
  ACCESS_REQUEST_MAX_BYTES,
  AccessError,
  type AccessErrorCode,
  formatCreds,
  InvalidNameError,
  newUserSigner,
  normalizeName,
  verifyAccessRequest,
} from "@natschat/protocol";
import type { IssuedJwt, UserIssuer } from "./issuer.ts";
import type { Logger } from "./log.ts";
import { describeLimited, type RateLimiter } from "./rate-limit.ts";
import type { Registry, RegistryRecord, StoredRecord } from "./registry.ts";
import type { ReplayGuard } from "./replay.ts";

/** A reply to send: the body, and the code when it is an error. */
export type ProvisionReply =
  | { ok: true; body: string; name: string; key: string; kind: "new" | "renewed" }
  | { ok: false; code: AccessErrorCode; message: string };

export interface ProvisionerOptions {
  registry: Registry;
  issuer: UserIssuer;
  limiter: RateLimiter;
  replay: ReplayGuard;
  log: Logger;
  /** Serve the talk's plain-text requests (server-made keys). Off by default. */
  legacyPlaintext?: boolean;
  /** Oldest accepted request, seconds (default 60). */
  requestMaxAgeSeconds?: number;
  /** Tolerated clock difference, seconds (default 30). */
  skewSeconds?: number;
}

const MAX_ROUNDS = 4;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function fail(code: AccessErrorCode, message: string, reason?: string): never {
  throw new AccessError(code, message, reason);
}

export class Provisioner {
  readonly #o: ProvisionerOptions;
  readonly #maxAge: number;
  readonly #skew: number;

  constructor(opts: ProvisionerOptions) {
    this.#o = opts;
    this.#maxAge = opts.requestMaxAgeSeconds ?? 60;
    this.#skew = opts.skewSeconds ?? 30;
  }

  /** Handles one request body; never throws (internal failures become INTERNAL replies). */
  async handle(data: Uint8Array, now = Date.now()): Promise<ProvisionReply> {
    try {
      return await this.#handle(data, now);
    } catch (err) {
      if (err instanceof AccessError) return { ok: false, code: err.code, message: err.message };
      this.#o.log.error("access request failed", { err });
      return {
        ok: false,
        code: "INTERNAL",
        message: "internal error in the access service; try again",
      };
    }
  }

  async #handle(data: Uint8Array, now: number): Promise<ProvisionReply> {
    const { limiter, limits } = { limiter: this.#o.limiter, limits: this.#o.limiter.limits };
    if (data.length === 0) {
      fail("BAD_REQUEST", "access request is empty: send a request signed by your new user key");
    }
    if (data.length > ACCESS_REQUEST_MAX_BYTES) {
      fail(
        "BAD_REQUEST",
        `access request is ${data.length} bytes, the limit is ${ACCESS_REQUEST_MAX_BYTES}`,
        "oversize",
      );
    }
    let text: string;
    try {
      text = utf8.decode(data).trim();
    } catch {
      fail("BAD_REQUEST", "access request is not UTF-8 text", "garbage");
    }
    const limited = limiter.checkGlobal();
    if (limited) fail("RATE_LIMITED", describeLimited(limited, limits), "global");

    if (!text.startsWith("eyJ")) return this.#plaintext(text);

    const req = await verifyAccessRequest(text, {
      now,
      maxAgeSeconds: this.#maxAge,
      skewSeconds: this.#skew,
    });
    const byIdentity = limiter.checkIdentity(req.name, req.publicKey);
    if (byIdentity) fail("RATE_LIMITED", describeLimited(byIdentity, limits), byIdentity.scope);
    const forgetAt = now + (this.#maxAge + 2 * this.#skew) * 1000;
    if (!this.#o.replay.remember(req.jti, forgetAt, now)) {
      fail("REPLAY", "this access request was already used; sign a new one", "replay");
    }
    const { issued, kind } = await this.#claim(req.name, req.publicKey, req.jti, false);
    return { ok: true, body: issued.jwt, name: req.name, key: req.publicKey, kind };
  }

  /** The talk's protocol: a bare name in, full creds out. Only with legacyPlaintext. */
  async #plaintext(text: string): Promise<ProvisionReply> {
    const looksLikeName = text.length <= 256 && !/^[{[]/.test(text) && !/[\r\n]/.test(text);
    if (!looksLikeName) {
      fail(
        "BAD_REQUEST",
        "access request is not a signed JWT: send the request made by encodeAccessRequest",
        "garbage",
      );
    }
    if (!this.#o.legacyPlaintext) {
      fail(
        "LEGACY_DISABLED",
        "plain-text access requests (server-made keys) are disabled: use a current client, which keeps its key",
        "legacy",
      );
    }
    let name: string;
    try {
      name = normalizeName(text);
    } catch (err) {
      if (!(err instanceof InvalidNameError)) throw err;
      fail("NAME_INVALID", err.message, "name");
    }
    const { signer, seed } = await newUserSigner();
    const byIdentity = this.#o.limiter.checkIdentity(name, signer.publicKey);
    if (byIdentity) {
      fail("RATE_LIMITED", describeLimited(byIdentity, this.#o.limiter.limits), byIdentity.scope);
    }
    const { issued } = await this.#claim(name, signer.publicKey, undefined, true);
    return {
      ok: true,
      body: formatCreds(issued.jwt, seed),
      name,
      key: signer.publicKey,
      kind: "new",
    };
  }

  /** Refuses a request for an existing record unless it is a renewal by its own key. */
  #check(stored: StoredRecord, key: string, jti: string | undefined): void {
    const r = stored.record;
    if (r.key !== key) {
      if (r.revoked) {
        fail("NAME_REVOKED", `name "${r.name}" is reserved (its access was revoked); pick another`);
      }
      fail("NAME_TAKEN", `name "${r.name}" is taken; pick another`);
    }
    if (r.revoked) fail("NAME_REVOKED", `access for "${r.name}" was revoked by the admin`);
    if (jti !== undefined && r.jti === jti) {
      fail("REPLAY", "this access request was already used; sign a new one", "replay");
    }
  }

  #record(name: string, key: string, issued: IssuedJwt, jti: string | undefined, legacy: boolean) {
    const rec: RegistryRecord = {
      name,
      key,
      issued: issued.issued.toISOString(),
      expires: issued.expires.toISOString(),
    };
    if (jti !== undefined) rec.jti = jti;
    if (legacy) rec.legacy = true;
    return rec;
  }

  async #claim(
    name: string,
    key: string,
    jti: string | undefined,
    legacy: boolean,
  ): Promise<{ issued: IssuedJwt; kind: "new" | "renewed" }> {
    const { registry, issuer } = this.#o;
    const owner = registry.nameOf(key);
    if (owner !== undefined && owner !== name) {
      fail(
        "BAD_REQUEST",
        `this key is already registered as "${owner}"; make a new key for a new name`,
        "key-in-use",
      );
    }
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const seen = registry.get(name);
      // The view is fast but may lag: it can only refuse early a name held by another key.
      if (seen && seen.record.key !== key) this.#check(seen, key, jti);
      if (!seen) {
        const issued = await issuer.issue(name, key);
        const rev = await registry.create(this.#record(name, key, issued, jti, legacy));
        if (rev !== "exists") return { issued, kind: "new" };
      }
      // Registered (maybe a moment ago by another replica): decide on the bucket's own state.
      const stored = await registry.fetch(name);
      if (!stored) continue; // released meanwhile: try the free path again
      this.#check(stored, key, jti);
      const issued = await issuer.issue(name, key);
      const record = { ...stored.record, ...this.#record(name, key, issued, jti, legacy) };
      if (!legacy) delete record.legacy;
      const rev = await registry.update(record, stored.revision);
      if (rev !== "conflict") return { issued, kind: "renewed" };
    }
    fail(
      "INTERNAL",
      `name "${name}" kept changing while being registered; try again`,
      "contention",
    );
  }
}
