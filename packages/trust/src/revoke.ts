// Adds a user revocation to an account JWT and re-signs it with the operator signing key.
import { type Account, decode, encodeAccount } from "@nats-io/jwt";
import type { KeyPair } from "@nats-io/nkeys";
import { TrustError } from "./errors.ts";

/**
 * Returns the account JWT with userKey revoked (every JWT for that key issued up to now).
 * operatorSigner must be one of the operator's signing keys.
 */
export async function revokeInAccountJwt(
  accountJwt: string,
  userKey: string,
  operatorSigner: KeyPair,
): Promise<string> {
  if (!/^U[A-Z2-7]{55}$/.test(userKey))
    throw new TrustError("BAD_USER_KEY", `"${userKey}" is not a user public key`);
  const claims = decode<Account>(accountJwt);
  const nats = { ...claims.nats };
  nats.revocations = { ...(nats.revocations ?? {}), [userKey]: Math.floor(Date.now() / 1000) };
  delete nats.type;
  delete nats.version;
  return encodeAccount(claims.name, claims.sub, nats, { signer: operatorSigner });
}

/** The revocations an account JWT carries: user key → unix time. */
export function revocationsOf(accountJwt: string): Record<string, number> {
  return decode<Account>(accountJwt).nats.revocations ?? {};
}
