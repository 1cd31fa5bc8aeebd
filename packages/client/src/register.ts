// Registration and renewal, client side (isomorphic: Node and browsers, any NatsConnection,
// connect or wsconnect). The client makes its own user key, sends only a request signed by it,
// and checks that the JWT it gets back is for that key and was issued by a CHAT signing key, so
// a forged or misrouted reply is refused. The private key never leaves this process.
import { errors, type NatsConnection } from "@nats-io/nats-core";
import {
  ACCESS_ERROR_HEADER,
  ACCESS_SUBJECT,
  AccessError,
  checkIssuedUserJwt,
  encodeAccessRequest,
  formatCreds,
  newUserSigner,
  parseAccessReply,
  type Signer,
} from "@natschat/protocol";

/** What the client needs to know about the CHAT account (from trust.json or the server config). */
export interface RegisterOptions {
  /** The CHAT account public key ('A...'). */
  chatAccount: string;
  /** The CHAT account's signing keys: only these may issue chat users. */
  chatSigningKeys: readonly string[];
  /** Reply timeout (default 5000 ms). */
  timeoutMs?: number;
}

/** A renewed identity: the fresh JWT for an existing key. */
export interface Renewal {
  /** The name the access service issued (normalized: see protocol names.ts). */
  name: string;
  publicKey: string;
  jwt: string;
  expires?: Date;
}

/** A new identity. `seed` and `creds` are secrets: store them 0600, never log them. */
export interface Registration extends Renewal {
  seed: string;
  /** The creds file text (JWT + seed), composed locally. */
  creds: string;
}

/** Sends one signed request and checks the reply; throws AccessError or IdentityError. */
async function exchange(
  nc: NatsConnection,
  signer: Signer,
  name: string,
  opts: RegisterOptions,
): Promise<Renewal> {
  const token = await encodeAccessRequest(signer, name);
  let reply: Awaited<ReturnType<NatsConnection["request"]>>;
  try {
    reply = await nc.request(ACCESS_SUBJECT, token, { timeout: opts.timeoutMs ?? 5000 });
  } catch (err) {
    throw transportError(err);
  }
  const parsed = parseAccessReply(
    reply.string(),
    reply.headers?.get(ACCESS_ERROR_HEADER) || undefined,
  );
  if (!parsed.ok) {
    const code = parsed.code === "UNKNOWN" ? "INTERNAL" : parsed.code;
    throw new AccessError(code, parsed.message, parsed.code === "UNKNOWN" ? "unknown-code" : code);
  }
  const id = await checkIssuedUserJwt(parsed.jwt, {
    expectedKey: signer.publicKey,
    chatAccount: opts.chatAccount,
    chatSigningKeys: opts.chatSigningKeys,
  });
  return {
    name: id.name,
    publicKey: signer.publicKey,
    jwt: parsed.jwt,
    ...(id.expires ? { expires: id.expires } : {}),
  };
}

function transportError(err: unknown): AccessError {
  const noResponders =
    err instanceof errors.NoRespondersError ||
    (err instanceof errors.RequestError && err.isNoResponders());
  if (noResponders) {
    return new AccessError(
      "UNAVAILABLE",
      `no access service answers on ${ACCESS_SUBJECT}; is it running?`,
      "no-responders",
      { cause: err },
    );
  }
  if (
    err instanceof errors.TimeoutError ||
    (err instanceof Error && err.cause instanceof errors.TimeoutError)
  ) {
    return new AccessError(
      "UNAVAILABLE",
      "the access service did not answer in time; try again",
      "timeout",
      { cause: err },
    );
  }
  const why = err instanceof Error ? err.message : String(err);
  return new AccessError("UNAVAILABLE", `registration request failed: ${why}`, "transport", {
    cause: err,
  });
}

/** Registers `name` with a new user key made here; returns the identity and its creds. */
export async function register(
  nc: NatsConnection,
  name: string,
  opts: RegisterOptions,
): Promise<Registration> {
  const { signer, seed } = await newUserSigner();
  const issued = await exchange(nc, signer, name, opts);
  return { ...issued, seed, creds: formatCreds(issued.jwt, seed) };
}

/** Asks for a fresh JWT for an existing key and name (before it expires or after). */
export function renew(
  nc: NatsConnection,
  signer: Signer,
  name: string,
  opts: RegisterOptions,
): Promise<Renewal> {
  return exchange(nc, signer, name, opts);
}
