// Unit tests of the client's directory (names from chat.svc.directory.lookup) with a fake
// lookup: batching (at most 100 keys a request, one request per burst), caching, the check of
// an entry's issued JWT (an expired one still names its key; another signer's names nobody),
// revoked users, unknown keys, and retries after a failed lookup.

import { randomBytes } from "node:crypto";
import { Directory, type DirectoryEntry, Scope } from "@natschat/client";
import {
  encodeJwt,
  encodePublicKey,
  newSigner,
  newUserSigner,
  parseLookupReply,
  type Signer,
  WireFormatError,
} from "@natschat/protocol";
import { afterEach, describe, expect, it } from "vitest";

const scopes: Scope[] = [];
afterEach(() => {
  for (const s of scopes.splice(0)) s.close();
});

async function issue(
  signing: Signer,
  account: string,
  key: string,
  name: string,
  iat: number,
  exp: number,
): Promise<string> {
  return encodeJwt(signing, {
    jti: "j",
    iat,
    iss: signing.publicKey,
    sub: key,
    name,
    exp,
    nats: { type: "user", issuer_account: account, version: 2 },
  });
}

async function keys(n: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, async () => (await newUserSigner()).signer.publicKey),
  );
}

/** A directory over a fake lookup that answers from `entries` and logs each request's keys. */
function directory(
  entries: Record<string, DirectoryEntry>,
  opts: { account?: string; signing?: string[]; now?: () => number; fail?: () => boolean } = {},
) {
  const requests: string[][] = [];
  const resolved: string[][] = [];
  const errors: unknown[] = [];
  const scope = new Scope();
  scopes.push(scope);
  let wake: () => void = () => {};
  const d = new Directory({
    lookup: async (ks) => {
      requests.push([...ks]);
      if (opts.fail?.()) throw new Error("no responders");
      return Object.fromEntries(
        ks.filter((k) => entries[k]).map((k) => [k, entries[k] as DirectoryEntry]),
      );
    },
    scope,
    chatAccount: opts.account ?? "ACCOUNT",
    chatSigningKeys: opts.signing ?? ["SIGNER"],
    now: opts.now ?? Date.now,
    onResolved: (ks) => {
      resolved.push(ks);
      wake();
    },
    onError: (err) => {
      errors.push(err);
      wake();
    },
  });
  const settle = (what: () => boolean, ms = 3000) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("directory did not settle")), ms);
      const check = () => {
        if (what()) {
          clearTimeout(t);
          resolve();
        }
      };
      wake = check;
      check();
    });
  return { d, requests, resolved, errors, settle };
}

describe("Directory", () => {
  it("looks up a burst of keys in batches of at most 100, each key once, then from cache", async () => {
    const ks = await keys(250);
    const entries = Object.fromEntries(ks.map((k, i) => [k, { name: `user-${i}` }]));
    const { d, requests, settle } = directory(entries);
    for (const k of ks) d.want(k);
    for (const k of ks) d.want(k); // asked twice in the burst: still once
    await settle(() => ks.every((k) => d.isResolved(k)));
    expect(requests.map((r) => r.length)).toEqual([100, 100, 50]);
    expect(new Set(requests.flat()).size).toBe(250);
    expect(d.nameOf(ks[7] as string)).toBe("user-7");
    expect(d.isActiveUser(ks[7] as string)).toBe(true);
    for (const k of ks) d.want(k);
    await new Promise((r) => setTimeout(r, 20));
    expect(requests).toHaveLength(3);
  });

  it("shows no name for a key it does not know, and asks again only after a while", async () => {
    const [unknown] = (await keys(1)) as [string];
    let now = 1_000_000;
    const { d, requests, settle } = directory({}, { now: () => now });
    d.want(unknown);
    await settle(() => d.isResolved(unknown));
    expect(d.nameOf(unknown)).toBeUndefined();
    expect(d.isActiveUser(unknown)).toBe(false);
    d.want(unknown);
    await new Promise((r) => setTimeout(r, 20));
    expect(requests).toHaveLength(1);
    now += 31_000; // it may have registered meanwhile
    d.want(unknown);
    await settle(() => requests.length === 2);
  });

  it("keeps at most 10,000 unknown keys and 1,000 waiting, whatever a mention storm names", async () => {
    // well-formed keys nobody registered, as a hostile sender's mentions can name
    const made = (n: number) =>
      Array.from({ length: n }, () => encodePublicKey("U", randomBytes(32)));
    const { d, requests, settle } = directory({});
    const storm = made(1500);
    for (const k of storm) d.want(k);
    // one more key once the storm is answered: lookups go out in order, so all are asked by then
    await settle(() => storm.slice(0, 1000).every(d.isResolved, d));
    const [probe] = made(1) as [string];
    d.want(probe);
    await settle(() => d.isResolved(probe));
    expect(requests.flat().length, "asked about the first 1,000 only (and the probe)").toBe(1001);
    expect(storm.slice(1000).some((k) => d.isResolved(k))).toBe(false);
    const later = made(10_000);
    for (let i = 0; i < later.length; i += 1000) {
      const chunk = later.slice(i, i + 1000);
      for (const k of chunk) d.want(k);
      await settle(() => chunk.every(d.isResolved, d));
    }
    expect(later.every(d.isResolved, d), "the newest 10,000 are remembered").toBe(true);
    expect(
      storm.some((k) => d.isResolved(k)),
      "the oldest are forgotten",
    ).toBe(false);
  });

  it("believes an entry's JWT only if a CHAT signing key issued it for that key; expiry does not matter", async () => {
    const account = (await newSigner("A")).signer.publicKey;
    const { signer: signing } = await newSigner("A");
    const { signer: rogue } = await newSigner("A");
    const [gone, forged, revoked, plain] = (await keys(4)) as [string, string, string, string];
    const longAgo = Math.floor(Date.now() / 1000) - 90 * 24 * 3600;
    const entries: Record<string, DirectoryEntry> = {
      // a user whose JWT expired long ago keeps its issued name
      [gone]: {
        name: "gone",
        jwt: await issue(signing, account, gone, "gone", longAgo, longAgo + 3600),
      },
      // an entry whose JWT another key signed names nobody
      [forged]: {
        name: "admin",
        jwt: await issue(rogue, account, forged, "admin", longAgo, longAgo + 3600),
      },
      [revoked]: { name: "ex", revoked: true },
      [plain]: { name: "plain" },
    };
    const { d, settle } = directory(entries, { account, signing: [signing.publicKey] });
    for (const k of [gone, forged, revoked, plain]) d.want(k);
    await settle(() => [gone, forged, revoked, plain].every((k) => d.isResolved(k)));
    expect(d.nameOf(gone)).toBe("gone");
    expect(d.nameOf(forged)).toBeUndefined();
    expect(d.isActiveUser(forged)).toBe(false);
    // a revoked user's old messages keep its name; it never shows online
    expect(d.nameOf(revoked)).toBe("ex");
    expect(d.isActiveUser(revoked)).toBe(false);
    expect(d.nameOf(plain)).toBe("plain");
  });

  it("tries a failed lookup again, and reports the failure", async () => {
    const [k] = (await keys(1)) as [string];
    let down = true;
    const { d, requests, errors, settle } = directory({ [k]: { name: "k" } }, { fail: () => down });
    d.want(k);
    await settle(() => errors.length === 1);
    expect(d.isResolved(k)).toBe(false);
    down = false;
    await settle(() => d.nameOf(k) === "k", 3000);
    expect(requests).toHaveLength(2);
  });

  it("never asks about our own key, and nothing after the scope closed", async () => {
    const [me, other] = (await keys(2)) as [string, string];
    const { d, requests } = directory({ [other]: { name: "o" } });
    d.set(me, "me");
    d.want(me);
    expect(d.nameOf(me)).toBe("me");
    scopes[0]?.close();
    d.want(other);
    await new Promise((r) => setTimeout(r, 20));
    expect(requests).toHaveLength(0);
  });

  it("reads a lookup reply with the protocol's parser: a bad entry or a bad reply is an error", async () => {
    const [k] = (await keys(1)) as [string];
    const good = JSON.stringify({ users: { [k]: { name: "ok", jwt: "x", revoked: true } } });
    expect(parseLookupReply(good).users).toEqual({ [k]: { name: "ok", jwt: "x", revoked: true } });
    expect(() => parseLookupReply(JSON.stringify({ users: { notakey: { name: "x" } } }))).toThrow(
      WireFormatError,
    );
    expect(() => parseLookupReply(JSON.stringify({ users: { [k]: { name: "" } } }))).toThrow(
      /no valid name/,
    );
    expect(() => parseLookupReply("nope")).toThrow(/not JSON/);
    expect(() => parseLookupReply("[]")).toThrow(/no users/);
  });
});
