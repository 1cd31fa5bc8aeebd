// Test support: mints a chat user directly with the CHAT signing key (what the access service
// issues), so client tests do not depend on the registration path.
import { readFile } from "node:fs/promises";
import { encodeUser } from "@nats-io/jwt";
import type { Authenticator, NatsConnection } from "@nats-io/nats-core";
import type { KeyPair } from "@nats-io/nkeys";
import { connect } from "@nats-io/transport-node";
import {
  base64urlEncode,
  encodePresence,
  formatCreds,
  inboxPrefixFor,
  newUserSigner,
  presenceSubject,
  signerFromSeed,
} from "@natschat/protocol";
import {
  CHAT_USER_MAX_PAYLOAD,
  chatUserPermissions,
  connectWithCreds,
  layout,
  nativeKeyPair,
} from "@natschat/trust";

export interface MintedUser {
  name: string;
  publicKey: string;
  seed: string;
  jwt: string;
  creds: string;
}

/** The CHAT account's public key and signing key pair, per seed text: tests mint hundreds. */
const chatSigners = new Map<string, { account: string; signing: KeyPair }>();

async function chatSigner(dir: string): Promise<{ account: string; signing: KeyPair }> {
  const paths = layout(dir);
  const account = (await readFile(paths.key("CHAT"), "utf8")).trim();
  const signing = (await readFile(paths.key("CHAT-signing"), "utf8")).trim();
  const cacheKey = `${account} ${signing}`;
  let found = chatSigners.get(cacheKey);
  if (!found) {
    // node:crypto's Ed25519 throughout (byte-identical to tweetnacl, ~100× faster): a
    // tweetnacl key pair costs ~10-50 ms on this machine, and this was three of them per user
    found = { account: nativeKeyPair(account).getPublicKey(), signing: nativeKeyPair(signing) };
    // @nats-io/jwt asks the signer for its private key on every encode: its one tweetnacl call
    found.signing.getPrivateKey();
    chatSigners.set(cacheKey, found);
  }
  return found;
}

/** Issues a chat user JWT for a fresh key (or the key of `seed`), as the access service would. */
export async function mintChatUser(
  dir: string,
  name: string,
  expiresInSeconds = 3600,
  seed?: string,
): Promise<MintedUser> {
  const chat = await chatSigner(dir);
  const fresh = seed === undefined ? await newUserSigner() : undefined;
  const userSeed = fresh?.seed ?? (seed as string);
  const publicKey = fresh?.signer.publicKey ?? nativeKeyPair(userSeed).getPublicKey();
  const jwt = await encodeUser(
    name,
    publicKey,
    chat.account,
    { ...chatUserPermissions(publicKey), payload: CHAT_USER_MAX_PAYLOAD },
    { signer: chat.signing, exp: Math.floor(Date.now() / 1000) + expiresInSeconds },
  );
  return { name, publicKey, seed: userSeed, jwt, creds: formatCreds(jwt, userSeed) };
}

/** Connects as a minted chat user, with its own inbox prefix (what a chat client does). */
export function connectChatUser(
  stack: { urls: string[]; caFile?: string },
  user: MintedUser,
): Promise<NatsConnection> {
  return connectWithCreds(new TextEncoder().encode(user.creds), user.name, {
    servers: stack.urls,
    inboxOwner: user.publicKey,
    name: `test-${user.name}`,
    tlsCaFile: stack.caFile,
  });
}

/**
 * A creds authenticator that signs the server's nonce with Node's native Ed25519: nats.js signs
 * with tweetnacl, slow enough that hundreds of simulated users connecting at once miss the
 * server's authentication timeout on this machine.
 */
export function nativeCredsAuthenticator(user: { jwt: string; seed: string }): Authenticator {
  const kp = nativeKeyPair(user.seed);
  return (nonce?: string) => ({
    jwt: user.jwt,
    nkey: kp.getPublicKey(),
    sig: nonce ? base64urlEncode(kp.sign(new TextEncoder().encode(nonce))) : "",
  });
}

/** A simulated chat user for presence tests: its own connection and key, heartbeating as a client does. */
export interface SimulatedUser {
  nc: NatsConnection;
  /** Publishes a signed heartbeat, or a goodbye (a heartbeat that expires at once). */
  beat(goodbye?: boolean): Promise<void>;
}

/** Connects `user` (native Ed25519 for the nonce: hundreds connect at once); it beats when told. */
export async function simulateUser(
  servers: string | string[],
  user: MintedUser,
): Promise<SimulatedUser> {
  const nc = await connect({
    servers,
    authenticator: nativeCredsAuthenticator(user),
    inboxPrefix: inboxPrefixFor(user.publicKey),
  });
  const signer = await signerFromSeed(user.seed);
  const beat = async (goodbye = false) => {
    const token = await encodePresence(signer, {
      name: user.name,
      ...(goodbye ? { ttlSeconds: 0 } : {}),
    });
    nc.publish(presenceSubject(user.publicKey), token);
    await nc.flush();
  };
  return { nc, beat };
}
