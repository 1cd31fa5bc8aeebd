// Provisioning on chat.req.access. The request is a JWT signed by the client's own new user key
// (protocol's encodeAccessRequest); the reply is the user JWT, or `-ERR '<message>'` with a code.
// Steps, cheapest first, so junk costs only its sender's budget:
//   1. the client address's bucket (Nats-Request-Info host, set by the server on CHAT's import),
//      charged for every request, junk included;
//   2. size and shape (UTF-8, a JWT's parts, header and claims; signature not yet checked);
//   3. the global bucket (only a request of the right shape spends a token);
//   4. the signature and freshness check, the reserved names, the per-name and per-key limits,
//      the replay check;
//   5. the registry: the key's claim `key.<U…>` (KV create: one name per key, atomically across
//      replicas; a revoked key's claim refuses it for good), then the name:
//        - a free name: quota check, sign the JWT, then KV create (of two racing replicas one wins);
//        - the same name and key, not revoked: a renewal, KV update at the revision read;
//        - anything else: NAME_TAKEN or NAME_REVOKED (and a claim made for it is given back).
// The JWT is signed before the registry write, so its iat is never after a revocation mark.
// The talk's plain-text request (a bare name in, a creds file with a server-made key out) is
// served only when `legacyPlaintext` is on.
import {
  ACCESS_REQUEST_MAX_BYTES,
  AccessError,
  type AccessErrorCode,
  checkJwtHeader,
  decodeJwtUnverified,
  formatCreds,
  InvalidNameError,
  JwtError,
  newUserSigner,
  normalizeName,
  parseClaims,
  verifyAccessRequest,
} from "@natschat/protocol";
import type { IssuedJwt, UserIssuer } from "./issuer.ts";
import type { Logger } from "./log.ts";
import type { QuotaGuard } from "./quota.ts";
import { describeLimited, type RateLimiter } from "./rate-limit.ts";
import type { Registry, RegistryRecord, StoredRecord } from "./registry.ts";
import type { ReplayGuard } from "./replay.ts";
import type { ReservedNames } from "./reserved.ts";

/** A reply to send: the body, and the code when it is an error. */
export type ProvisionReply =
  | {
      ok: true;
      body: string;
      name: string;
      key: string;
      kind: "new" | "renewed";
      record: RegistryRecord;
      revision: number;
    }
  | { ok: false; code: AccessErrorCode; message: string; reason: string };

/** Who asks, as the server told us (Nats-Request-Info through CHAT's import). */
export interface RequestContext {
  /** The client's address; undefined when the request did not come through the import. */
  address?: string;
  /** The request has no reply subject (junk: nobody waits for an answer). */
  noReply?: boolean;
}

export interface ProvisionerOptions {
  registry: Registry;
  issuer: UserIssuer;
  limiter: RateLimiter;
  replay: ReplayGuard;
  reserved: ReservedNames;
  quota?: QuotaGuard;
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

/** True when `text` decodes as a JWT with our header and claims (no signature check). */
function hasJwtShape(text: string): boolean {
  try {
    const decoded = decodeJwtUnverified(text, ACCESS_REQUEST_MAX_BYTES);
    checkJwtHeader(decoded.header);
    parseClaims(decoded.payload);
    return true;
  } catch (err) {
    if (err instanceof JwtError) return false;
    throw err;
  }
}

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
  async handle(
    data: Uint8Array,
    ctx: RequestContext = {},
    now = Date.now(),
  ): Promise<ProvisionReply> {
    try {
      return await this.#handle(data, ctx, now);
    } catch (err) {
      if (err instanceof AccessError) {
        return { ok: false, code: err.code, message: err.message, reason: err.reason };
      }
      this.#o.log.error("access request failed", { err });
      return {
        ok: false,
        code: "INTERNAL",
        message: "internal error in the access service; try again",
        reason: "internal",
      };
    }
  }

  async #handle(data: Uint8Array, ctx: RequestContext, now: number): Promise<ProvisionReply> {
    const { limiter, limits } = { limiter: this.#o.limiter, limits: this.#o.limiter.limits };
    const byAddress = limiter.checkAddress(ctx.address);
    if (byAddress) fail("RATE_LIMITED", describeLimited(byAddress, limits), "rate-address");
    if (ctx.noReply) fail("BAD_REQUEST", "access request without a reply subject", "no-reply");
    if (data.length === 0) {
      fail(
        "BAD_REQUEST",
        "access request is empty: send a request signed by your new user key",
        "empty",
      );
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
    if (!text.startsWith("eyJ")) return this.#plaintext(text, ctx.address);
    // Only a request with a JWT's shape spends a global token; anything else is refused by
    // verifyAccessRequest (with its usual message) before its signature check, at no shared cost.
    if (hasJwtShape(text)) this.#global();

    const req = await verifyAccessRequest(text, {
      now,
      maxAgeSeconds: this.#maxAge,
      skewSeconds: this.#skew,
    });
    this.#notReserved(req.name);
    const byIdentity = limiter.checkIdentity(req.name, req.publicKey);
    if (byIdentity) {
      fail("RATE_LIMITED", describeLimited(byIdentity, limits), `rate-${byIdentity.scope}`);
    }
    const forgetAt = now + (this.#maxAge + 2 * this.#skew) * 1000;
    if (!this.#o.replay.remember(req.jti, forgetAt, now)) {
      fail("REPLAY", "this access request was already used; sign a new one", "replay");
    }
    const c = await this.#claimKey(req.name, req.publicKey, req.jti, false, ctx.address);
    return { ok: true, body: c.issued.jwt, name: req.name, key: req.publicKey, ...c };
  }

  #global(): void {
    const limited = this.#o.limiter.checkGlobal();
    if (limited) {
      fail("RATE_LIMITED", describeLimited(limited, this.#o.limiter.limits), "rate-global");
    }
  }

  #notReserved(name: string): void {
    if (this.#o.reserved.has(name)) {
      fail("NAME_RESERVED", `name "${name}" is reserved; pick another`, "reserved");
    }
  }

  /** The talk's protocol: a bare name in, full creds out. Only with legacyPlaintext. */
  async #plaintext(text: string, address: string | undefined): Promise<ProvisionReply> {
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
    this.#global();
    let name: string;
    try {
      name = normalizeName(text);
    } catch (err) {
      if (!(err instanceof InvalidNameError)) throw err;
      fail("NAME_INVALID", err.message, "name");
    }
    this.#notReserved(name);
    const { signer, seed } = await newUserSigner();
    const byIdentity = this.#o.limiter.checkIdentity(name, signer.publicKey);
    if (byIdentity) {
      fail(
        "RATE_LIMITED",
        describeLimited(byIdentity, this.#o.limiter.limits),
        `rate-${byIdentity.scope}`,
      );
    }
    const c = await this.#claimKey(name, signer.publicKey, undefined, true, address);
    return { ok: true, body: formatCreds(c.issued.jwt, seed), name, key: signer.publicKey, ...c };
  }

  /** Refuses a request for an existing record unless it is a renewal by its own key. */
  #check(stored: StoredRecord, key: string, jti: string | undefined): void {
    const r = stored.record;
    if (r.key !== key) {
      if (r.revoked) {
        fail(
          "NAME_REVOKED",
          `name "${r.name}" is reserved (its access was revoked); pick another`,
          "revoked",
        );
      }
      fail("NAME_TAKEN", `name "${r.name}" is taken; pick another`, "taken");
    }
    if (r.revoked)
      fail("NAME_REVOKED", `access for "${r.name}" was revoked by the admin`, "revoked");
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
      jwt: issued.jwt,
    };
    if (jti !== undefined) rec.jti = jti;
    if (legacy) rec.legacy = true;
    return rec;
  }

  /** Claims the key for the name (atomic), then the name; gives a fresh claim back on failure. */
  async #claimKey(
    name: string,
    key: string,
    jti: string | undefined,
    legacy: boolean,
    address: string | undefined,
  ): Promise<{
    issued: IssuedJwt;
    kind: "new" | "renewed";
    record: RegistryRecord;
    revision: number;
  }> {
    const { registry } = this.#o;
    // The view refuses early what the bucket would refuse anyway.
    const seen = registry.claimOf(key)?.claim;
    this.#checkClaim(seen, name);
    // A renewal: the key already claims this name. A revocation marks the name before the claim,
    // so #claimName's check of the name (read from the bucket) still refuses a revoked one.
    if (seen) return this.#claimName(name, key, jti, legacy, address);
    const owner = registry.nameOf(key);
    if (owner !== undefined && owner !== name) this.#keyInUse(owner);
    let claimRevision: number | undefined;
    for (let round = 0; round < MAX_ROUNDS && claimRevision === undefined; round++) {
      const made = await registry.claimKey(key, { name });
      if (made !== "exists") {
        claimRevision = made;
        break;
      }
      const stored = await registry.fetchClaim(key);
      if (!stored) continue; // given back meanwhile: claim it again
      this.#checkClaim(stored.claim, name);
      // claimed for this very name: a renewal, or a twin request racing us to the same name
      return this.#claimName(name, key, jti, legacy, address);
    }
    if (claimRevision === undefined) {
      fail("INTERNAL", "this key's claim kept changing; try again", "contention");
    }
    try {
      return await this.#claimName(name, key, jti, legacy, address);
    } catch (err) {
      // the name was not ours after all: give the key's claim back, so it may ask for another
      await registry.releaseClaim(key, claimRevision).catch((e: unknown) => {
        this.#o.log.warn("giving a key claim back failed", { key, err: e });
      });
      throw err;
    }
  }

  #checkClaim(claim: { name: string; revoked?: boolean } | undefined, name: string): void {
    if (!claim) return;
    if (claim.revoked) {
      const message =
        claim.name === name
          ? `access for "${name}" was revoked by the admin`
          : `this key's access (as "${claim.name}") was revoked by the admin; it gets no name`;
      fail("NAME_REVOKED", message, "revoked");
    }
    if (claim.name !== name) this.#keyInUse(claim.name);
  }

  #keyInUse(owner: string): never {
    fail(
      "BAD_REQUEST",
      `this key is already registered as "${owner}"; make a new key for a new name`,
      "key-in-use",
    );
  }

  async #claimName(
    name: string,
    key: string,
    jti: string | undefined,
    legacy: boolean,
    address: string | undefined,
  ): Promise<{
    issued: IssuedJwt;
    kind: "new" | "renewed";
    record: RegistryRecord;
    revision: number;
  }> {
    const { registry, issuer } = this.#o;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const seen = registry.get(name);
      // The view is fast but may lag: it can only refuse early a name held by another key.
      if (seen && seen.record.key !== key) this.#check(seen, key, jti);
      if (!seen) {
        this.#o.quota?.checkNewName();
        // the address's quota of new names (a renewal takes none)
        const byQuota = this.#o.limiter.checkAddressNames(address);
        if (byQuota) {
          fail(
            "RATE_LIMITED",
            describeLimited(byQuota, this.#o.limiter.limits),
            "rate-address-names",
          );
        }
        const issued = await issuer.issue(name, key);
        const record = this.#record(name, key, issued, jti, legacy);
        const rev = await registry.create(record);
        if (rev !== "exists") return { issued, kind: "new", record, revision: rev };
      }
      // Registered (maybe a moment ago by another replica): decide on the bucket's own state.
      const stored = await registry.fetch(name);
      if (!stored) continue; // released meanwhile: try the free path again
      this.#check(stored, key, jti);
      const issued = await issuer.issue(name, key);
      const record = { ...stored.record, ...this.#record(name, key, issued, jti, legacy) };
      if (!legacy) delete record.legacy;
      const rev = await registry.update(record, stored.revision);
      if (rev !== "conflict") return { issued, kind: "renewed", record, revision: rev };
    }
    fail(
      "INTERNAL",
      `name "${name}" kept changing while being registered; try again`,
      "contention",
    );
  }
}
