// Issues CHAT user JWTs with the CHAT account's signing key, on the hot path: @nats-io/jwt builds
// the claims and trust's nativeKeyPair signs them with Node's Ed25519 (tweetnacl manages ~9/s).
import { encodeUser, type User } from "@nats-io/jwt";
import type { KeyPair } from "@nats-io/nkeys";
import { CHAT_USER_MAX_PAYLOAD, chatUserPermissions, nativeKeyPair } from "@natschat/trust";

/** Tag of every user JWT the access service issues to a chat user (role users have none). */
export const CHAT_USER_TAG = "natschat-chat-user";

/** Default lifetime of an issued user JWT: 30 days. */
export const DEFAULT_USER_EXPIRY_SECONDS = 30 * 24 * 3600;

/** An issued user JWT and its times. */
export interface IssuedJwt {
  jwt: string;
  issued: Date;
  expires: Date;
}

/** Signs CHAT user JWTs. Holds the CHAT signing key; never exposes it. */
export class UserIssuer {
  readonly #signer: KeyPair;
  readonly chatAccount: string;
  readonly expirySeconds: number;

  constructor(opts: { chatAccount: string; chatSigningSeed: string; expirySeconds?: number }) {
    this.chatAccount = opts.chatAccount;
    this.expirySeconds = opts.expirySeconds ?? DEFAULT_USER_EXPIRY_SECONDS;
    this.#signer = nativeKeyPair(opts.chatSigningSeed);
  }

  /** The CHAT signing key's public key. */
  get signingKey(): string {
    return this.#signer.getPublicKey();
  }

  /** A chat user JWT for `userKey` named `name`: chat permissions, payload limit, expiry. */
  async issue(name: string, userKey: string, now = Date.now()): Promise<IssuedJwt> {
    const iat = Math.floor(now / 1000);
    const exp = iat + this.expirySeconds;
    const user: Partial<User> = {
      ...chatUserPermissions(userKey),
      payload: CHAT_USER_MAX_PAYLOAD,
      // tells a chat identity from the role users of the same account (bootstrap, leaf, …)
      tags: [CHAT_USER_TAG],
    };
    const jwt = await encodeUser(name, userKey, this.chatAccount, user, {
      signer: this.#signer,
      exp,
    });
    return { jwt, issued: new Date(iat * 1000), expires: new Date(exp * 1000) };
  }
}
