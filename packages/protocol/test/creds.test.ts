import { encodeUser, fmtCreds, parseCreds as jwtParseCreds } from "@nats-io/jwt";
import { createAccount, createUser, type KeyPair } from "@nats-io/nkeys";
import { beforeAll, describe, expect, it } from "vitest";
import { CredsError, formatCreds, parseCreds } from "../src/mod.ts";
import { flipSignature, nowSeconds, seedOf } from "./fixtures.ts";

let user: KeyPair;
let account: KeyPair;
let jwt: string;
let seed: string;

beforeAll(async () => {
  user = createUser();
  account = createAccount();
  jwt = await encodeUser("alice", user, account, {}, { signer: createAccount() });
  seed = seedOf(user);
});

async function fails(text: string, code: string, opts = {}): Promise<CredsError> {
  try {
    await parseCreds(text, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(CredsError);
    expect((err as CredsError).code).toBe(code);
    // A seed never ends up in an error message.
    expect((err as Error).message).not.toMatch(/(^|[^A-Z2-7])S[UAO][A-Z2-7]{20}/);
    return err as CredsError;
  }
  throw new Error(`accepted, expected ${code}`);
}

describe("creds", () => {
  it("round trips and matches @nats-io/jwt's format both ways", async () => {
    const text = formatCreds(jwt, seed);
    const c = await parseCreds(text);
    expect(c).toMatchObject({ jwt, seed, publicKey: user.getPublicKey() });
    expect(c.claims.name).toBe("alice");
    const theirs = new TextDecoder().decode(fmtCreds(jwt, user));
    expect((await parseCreds(theirs)).publicKey).toBe(user.getPublicKey());
    const back = await jwtParseCreds(new TextEncoder().encode(text));
    expect(back.key).toBe(seed);
    expect(back.jwt).toBe(jwt);
  });

  it("accepts CRLF line ends and the talk's seed marker", async () => {
    const crlf = formatCreds(jwt, seed).replace(/\n/g, "\r\n");
    expect((await parseCreds(crlf)).seed).toBe(seed);
    const legacy = formatCreds(jwt, seed).replace(/USER NKEY SEED/g, "USER PRIVATE KEY");
    expect((await parseCreds(legacy)).seed).toBe(seed);
  });

  it("says what is wrong", async () => {
    const text = formatCreds(jwt, seed);
    await fails("", "CREDS_EMPTY");
    await fails(" \n\t\n", "CREDS_EMPTY");
    await fails(text.slice(0, 60), "CREDS_TRUNCATED");
    await fails(text.slice(0, text.indexOf("***")), "CREDS_NO_SEED");
    await fails(text.slice(text.indexOf("***")), "CREDS_NO_JWT");
    await fails("hello world", "CREDS_NO_JWT");
    await fails(text.replace(/NATS USER JWT/g, "NATS ACCOUNT JWT"), "CREDS_MARKERS");
    await fails(
      text.replace("------END NATS USER JWT------", "------END USER NKEY SEED------"),
      "CREDS_MARKERS",
    );
    await fails(formatCreds("abc.def.ghi", seed), "CREDS_BAD_JWT");
    await fails(formatCreds(flipSignature(jwt), seed), "CREDS_BAD_JWT");
    // one character changed (a random seed has an "A" there 1 time in 32: then use "B")
    const other = seed[30] === "A" ? "B" : "A";
    const bad = await fails(
      text.replace(seed, `${seed.slice(0, 30)}${other}${seed.slice(31)}`),
      "CREDS_BAD_SEED",
    );
    expect(bad.message).toMatch(/checksum/);
    await fails(text.replace(seed, "SUNOTASEED"), "CREDS_BAD_SEED");
    const acct = await fails(text.replace(seed, seedOf(account)), "CREDS_SEED_TYPE");
    expect(acct.message).toMatch(/'SA' seed/);
    await fails(text.replace(seed, seedOf(createUser())), "CREDS_KEY_MISMATCH");
  });

  it("refuses an account JWT in the user block", async () => {
    const { encodeAccount } = await import("@nats-io/jwt");
    const accountJwt = await encodeAccount("CHAT", account);
    await fails(formatCreds(accountJwt, seed), "CREDS_BAD_JWT");
  });

  it("refuses expired creds and names the date", async () => {
    const exp = nowSeconds() - 3600;
    const old = await encodeUser("alice", user, account, {}, { exp });
    const err = await fails(formatCreds(old, seed), "CREDS_EXPIRED");
    expect(err.message).toContain(new Date(exp * 1000).toISOString());
    const c = await parseCreds(formatCreds(old, seed), { now: (exp - 10) * 1000 });
    expect(c.expires?.getTime()).toBe(exp * 1000);
  });

  it("formats only user seeds", () => {
    expect(() => formatCreds(jwt, seedOf(account))).toThrow(CredsError);
    expect(() => formatCreds("nojwt", seed)).toThrow(CredsError);
  });
});
