// Registration and renewal in the browser: a fresh user key made here (WebCrypto Ed25519), a
// signed access request over the public bootstrap creds, and the returned user JWT checked to be
// for our key and signed by a CHAT signing key. The creds are composed locally: the seed never
// leaves.
import type { NatsConnection } from "@nats-io/nats-core";
import { type RegisterOptions, register, renew } from "@natschat/client";
import {
  AccessError,
  checkIssuedUserJwt,
  formatCreds,
  IdentityError,
  InvalidNameError,
  normalizeName,
  parseCreds,
  signerFromSeed,
} from "@natschat/protocol";
import type { WebRuntimeConfig } from "../../config.ts";
import type { StoredIdentity } from "../identity-store.ts";
import { connectRoleWs } from "../nats.ts";

/** A registration that did not work; `code` is the service's AccessErrorCode when it has one. */
export class RegistrationError extends Error {
  override name = "RegistrationError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What to tell the user for each service error code (the service's own text follows). */
const FRIENDLY: Record<string, (name: string, detail: string) => string> = {
  NAME_TAKEN: (name) =>
    `The name "${name}" is already taken. If it is yours, get back in with its creds file ("Have a creds file? Use it" below); otherwise pick another one.`,
  NAME_INVALID: (_n, detail) => `That name is not allowed: ${detail}`,
  NAME_REVOKED: (name) =>
    `The name "${name}" was revoked by an administrator and stays reserved. Pick another one.`,
  RATE_LIMITED: () => "Too many registrations right now. Wait a few seconds and try again.",
  UNAVAILABLE: () =>
    "The access service is not answering right now. Make sure `natschat up` is running, then try again.",
};

/** Registers `name` for a key made here; resolves with the checked identity to store. */
export async function registerName(
  config: WebRuntimeConfig,
  rawName: string,
): Promise<StoredIdentity> {
  let name: string;
  try {
    name = normalize(rawName);
  } catch (err) {
    throw new RegistrationError(
      "NAME_INVALID",
      `That name is not allowed: ${(err as Error).message}`,
    );
  }
  return asBootstrap(config, name, async (nc, opts) => {
    // register() makes the key here, sends only the signed request, and checks that the JWT it
    // gets back is for that key and signed by one of the CHAT signing keys.
    const r = await register(nc, name, opts);
    return { name: r.name, key: r.publicKey, creds: r.creds };
  });
}

/** Gets a fresh JWT for a stored identity's own key and name; the seed stays here. */
export async function renewIdentity(
  config: WebRuntimeConfig,
  identity: StoredIdentity,
): Promise<StoredIdentity> {
  const { seed } = await parseCreds(identity.creds, { now: 0 });
  return asBootstrap(config, identity.name, async (nc, opts) => {
    const r = await renew(nc, await signerFromSeed(seed), identity.name, opts);
    return { name: r.name, key: r.publicKey, creds: formatCreds(r.jwt, seed) };
  });
}

/** Runs one access request over a bootstrap connection; errors become RegistrationErrors. */
async function asBootstrap(
  config: WebRuntimeConfig,
  name: string,
  request: (nc: NatsConnection, opts: RegisterOptions) => Promise<StoredIdentity>,
): Promise<StoredIdentity> {
  const nc = await connectRoleWs(config.websocketUrls, config.bootstrapCreds, "bootstrap", {
    maxReconnectAttempts: 0,
  });
  try {
    return await request(nc, {
      chatAccount: config.chatAccount,
      chatSigningKeys: config.chatSigningKeys,
      timeoutMs: 10_000,
    });
  } catch (err) {
    if (err instanceof AccessError) {
      throw new RegistrationError(err.code, FRIENDLY[err.code]?.(name, err.message) ?? err.message);
    }
    if (err instanceof IdentityError) {
      throw new RegistrationError(
        "BAD_REPLY",
        `The reply was refused: it is not a valid grant for this browser's key (${err.message}).`,
      );
    }
    if (err instanceof InvalidNameError) throw new RegistrationError("NAME_INVALID", err.message);
    throw err;
  } finally {
    await nc.close();
  }
}

/** Uses an existing creds file (e.g. from `natschat join`): it must be a chat user of this CHAT. */
export async function identityFromCredsFile(
  config: WebRuntimeConfig,
  text: string,
): Promise<StoredIdentity> {
  const creds = await parseCreds(text).catch((err: Error) => {
    throw new RegistrationError("CREDS", `That file is not usable creds: ${err.message}`);
  });
  try {
    const issued = await checkIssuedUserJwt(creds.jwt, {
      expectedKey: creds.publicKey,
      chatAccount: config.chatAccount,
      chatSigningKeys: config.chatSigningKeys,
    });
    return { name: issued.name, key: creds.publicKey, creds: text };
  } catch (err) {
    if (!(err instanceof IdentityError)) throw err;
    throw new RegistrationError(
      "CREDS",
      `Those creds are not a chat user of this server: ${err.message}`,
    );
  }
}

function normalize(name: string): string {
  try {
    return normalizeName(name);
  } catch (err) {
    if (err instanceof InvalidNameError) throw err;
    throw new InvalidNameError(String(err));
  }
}
