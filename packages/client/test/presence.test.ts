// Unit tests of presence without a server: an announcement counts only once the directory has
// said its key is a registered, unrevoked user; until then it waits (and the directory is
// asked); a non-user's announcement is dropped and counted. (Expiry by the sweep is tested
// against a server in session.test.ts.)
import { ChatStore, Scope } from "@natschat/client";
import { PRESENCE_TYPE, type PresenceEnvelope } from "@natschat/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { Presence } from "../src/presence.ts";

const scopes: Scope[] = [];
afterEach(() => {
  for (const s of scopes.splice(0)) s.close();
});

function presence(iss: string, now: number, ttl = 60): PresenceEnvelope {
  return {
    type: PRESENCE_TYPE,
    jti: `${iss}-${now}`,
    iat: Math.floor(now / 1000),
    iss,
    claimedName: "claimed",
    sub: "",
    exp: Math.floor(now / 1000) + ttl,
    first: false,
  };
}

function setup() {
  let now = 1_000_000_000;
  const resolved = new Map<string, boolean>(); // key → active user?
  const asked: string[] = [];
  const scope = new Scope();
  scopes.push(scope);
  const store = new ChatStore({
    me: { key: "UME", name: "me" },
    channels: ["#General"],
    maxMessages: 100,
    names: () => undefined,
  });
  const p = new Presence({
    store,
    scope,
    nc: () => undefined,
    signer: () => undefined,
    userJwt: () => "",
    intervalMs: 30_000,
    ttlSeconds: 60,
    sweepIntervalMs: 5000,
    answerDelayMs: 0,
    now: () => now,
    onGap: () => {},
    directory: {
      isResolved: (k) => resolved.has(k),
      isActiveUser: (k) => resolved.get(k) === true,
      want: (k) => asked.push(k),
    },
  });
  return {
    p,
    store,
    resolved,
    asked,
    tick: (ms: number) => {
      now += ms;
    },
    at: () => now,
  };
}

const online = (store: ChatStore, key: string) =>
  store.snapshot().users.find((u) => u.key === key)?.online;

describe("Presence", () => {
  it("counts an announcement only once the directory says the key is an active user", () => {
    const { p, store, resolved, asked, at } = setup();
    p.receive(presence("UALICE", at()), undefined);
    expect(asked).toEqual(["UALICE"]);
    expect(online(store, "UALICE")).toBeUndefined(); // not even in the roster yet
    resolved.set("UALICE", true);
    p.resolved(["UALICE"]);
    expect(online(store, "UALICE")).toBe(true);
  });

  it("drops the announcements of keys that are not (or no longer) users", () => {
    const { p, store, resolved, at } = setup();
    p.receive(presence("UPHANTOM", at()), undefined);
    resolved.set("UPHANTOM", false);
    p.resolved(["UPHANTOM"]);
    resolved.set("UREVOKED", false);
    p.receive(presence("UREVOKED", at()), undefined);
    const snap = store.snapshot();
    expect(snap.users.map((u) => u.key)).toEqual([]);
    expect(snap.drops["not-a-user"]).toBe(2);
  });

  it("drops a presence whose user JWT is not the key's issued one", () => {
    const { p, store, at } = setup();
    p.receive(presence("UMALLORY", at()), { ok: false, code: "ID_WRONG_KEY", detail: "x" });
    expect(store.snapshot().drops["bad-identity"]).toBe(1);
  });
});
