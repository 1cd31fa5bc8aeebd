// Test fixtures: keys from @nats-io/nkeys and JWTs built by hand, independent of our encoder.
import type { KeyPair } from "@nats-io/nkeys";

/** Seconds since the epoch. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The seed of an nkeys KeyPair as a string. */
export function seedOf(kp: KeyPair): string {
  return new TextDecoder().decode(kp.getSeed());
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** A JWT with any header and payload, signed by `kp` over "header.payload" with tweetnacl. */
export function forge(
  kp: KeyPair,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = { typ: "JWT", alg: "ed25519-nkey" },
): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const sig = Buffer.from(kp.sign(new TextEncoder().encode(input))).toString("base64url");
  return `${input}.${sig}`;
}

/** Decodes a JWT payload without any check. */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
}

/** Replaces the payload of a signed token, keeping its header and signature. */
export function swapPayload(token: string, payload: Record<string, unknown>): string {
  const [h, , s] = token.split(".");
  return `${h}.${b64url(payload)}.${s}`;
}

/** Flips one character of the signature. */
export function flipSignature(token: string): string {
  const i = token.lastIndexOf(".") + 5;
  const c = token[i] === "A" ? "B" : "A";
  return token.slice(0, i) + c + token.slice(i + 1);
}
