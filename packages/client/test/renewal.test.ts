// Which saved user JWTs a client renews before it connects: expired or nearly, protocol v2, and
// v3 ones from before the presence feed or the private feed (their key could not subscribe to them).
import { encodeUser } from "@nats-io/jwt";
import { createAccount, createUser } from "@nats-io/nkeys";
import { PRESENCE_FEED, userFeedWildcard } from "@natschat/protocol";
import { chatUserPermissions } from "@natschat/trust";
import { describe, expect, it } from "vitest";
import { chatUserKind, renewBeforeConnect } from "../src/renewal.ts";

async function userJwt(perms: { pub: { allow: string[] }; sub: { allow: string[] } }) {
  return { jwt: await encodeUser("alice", createUser(), createAccount(), perms) };
}

describe("chatUserKind and renewBeforeConnect", () => {
  it("a current chat user JWT is v3 and is not renewed before its time", async () => {
    const key = createUser().getPublicKey();
    const perms = chatUserPermissions(key) as {
      pub: { allow: string[] };
      sub: { allow: string[] };
    };
    expect(perms.sub.allow).toContain(PRESENCE_FEED);
    const u = await userJwt(chatUserPermissions(key) as typeof perms);
    // the permissions name `key`, not the JWT's own subject: chatUserKind looks at `key`
    expect(chatUserKind(u.jwt, key)).toBe("v3");
    expect(renewBeforeConnect({ jwt: u.jwt, publicKey: key })).toBe(false);
  });

  it.each([
    [
      "the presence feed (before issue 12)",
      (key: string) => [PRESENCE_FEED, userFeedWildcard(key)],
    ],
    ["the private feed (before issue 13)", (key: string) => [userFeedWildcard(key)]],
  ])("a v3 JWT without %s is outdated and renewed before connecting", async (_, missing) => {
    const key = createUser().getPublicKey();
    const perms = chatUserPermissions(key) as {
      pub: { allow: string[] };
      sub: { allow: string[] };
    };
    const gone = missing(key);
    for (const s of gone) expect(perms.sub.allow).toContain(s);
    const old = {
      pub: perms.pub,
      sub: { allow: perms.sub.allow.filter((s) => !gone.includes(s)) },
    };
    const u = await userJwt(old);
    expect(chatUserKind(u.jwt, key)).toBe("outdated");
    expect(renewBeforeConnect({ jwt: u.jwt, publicKey: key })).toBe(true);
  });
});
