// Unit tests of the client model without a server: conversation merge and dedupe, targets,
// the identity cache, and snapshot stability.
import { connect } from "@nats-io/transport-node";
import { ChatError, ChatSession, IdentityCache, parseTarget, shortKey } from "@natschat/client";
import { encodeJwt, newSigner, newUserSigner, type Signer } from "@natschat/protocol";
import { describe, expect, it } from "vitest";
import { Conversation, type MessageRecord } from "../src/conversation.ts";

const rec = (n: number, seq?: number): MessageRecord => ({
  id: `UKEY ${n}`,
  from: "UKEY",
  claimedName: "x",
  text: `m${n}`,
  time: n * 1000,
  ...(seq === undefined ? {} : { seq }),
});

describe("Conversation", () => {
  it("puts history before live messages and shows a message in both once", () => {
    const c = new Conversation("#c", "channel", "c", 1000);
    expect(c.append(rec(5))).toBe(true);
    expect(c.append(rec(6))).toBe(true);
    expect(c.append(rec(6))).toBe(false);
    const added = c.mergeHistory([rec(3, 1), rec(4, 2), rec(5, 3), rec(4, 2)]);
    expect(added).toBe(2);
    expect(c.messages.map((m) => m.text)).toEqual(["m3", "m4", "m5", "m6"]);
    expect(c.append(rec(3))).toBe(false);
  });

  it("keeps at most maxMessages, oldest dropped first", () => {
    const c = new Conversation("#c", "channel", "c", 3);
    for (let i = 1; i <= 5; i++) c.append(rec(i));
    expect(c.messages.map((m) => m.text)).toEqual(["m3", "m4", "m5"]);
  });
});

describe("parseTarget", () => {
  it("reads channels and DM peers and rejects anything else", async () => {
    const { signer } = await newUserSigner();
    expect(parseTarget("#KUBECON")).toEqual({ kind: "channel", channel: "KUBECON" });
    expect(parseTarget("General")).toEqual({ kind: "channel", channel: "General" });
    expect(parseTarget(`@${signer.publicKey}`)).toEqual({ kind: "dm", peer: signer.publicKey });
    expect(parseTarget(signer.publicKey)).toEqual({ kind: "dm", peer: signer.publicKey });
    expect(() => parseTarget("#no.dots")).toThrow(ChatError);
    expect(() => parseTarget("@bob")).toThrow(/user key/);
    expect(() => parseTarget("")).toThrow(ChatError);
  });
});

async function issue(
  signingKey: Signer,
  account: string,
  userKey: string,
  name: string,
  exp?: number,
  pub?: string,
): Promise<string> {
  return encodeJwt(signingKey, {
    jti: "j",
    iat: Math.floor(Date.now() / 1000),
    iss: signingKey.publicKey,
    sub: userKey,
    name,
    ...(exp === undefined ? {} : { exp }),
    nats: {
      type: "user",
      issuer_account: account,
      version: 2,
      // what chatUserPermissions grants: posting under its own key only
      pub: { allow: [pub ?? `chat.KUBECON.posts.*.${userKey}`] },
    },
  });
}

describe("IdentityCache", () => {
  it("learns a name only from a user JWT a CHAT signing key issued for that key", async () => {
    const account = (await newSigner("A")).signer.publicKey;
    const { signer: signing } = await newSigner("A");
    const { signer: rogue } = await newSigner("A");
    const { signer: alice } = await newUserSigner();
    const { signer: bob } = await newUserSigner();
    const cache = new IdentityCache({ chatAccount: account, chatSigningKeys: [signing.publicKey] });

    const good = await issue(signing, account, alice.publicKey, "alice");
    expect(await cache.learn(alice.publicKey, good)).toMatchObject({ ok: true, changed: true });
    expect(cache.nameOf(alice.publicKey)).toBe("alice");
    expect(await cache.learn(alice.publicKey, good)).toMatchObject({ ok: true, changed: false });

    // alice's JWT presented for bob's key
    expect(await cache.learn(bob.publicKey, good)).toMatchObject({
      ok: false,
      code: "ID_WRONG_KEY",
    });
    // a JWT for bob signed by a key that is not a CHAT signing key
    const forged = await issue(rogue, account, bob.publicKey, "alice");
    expect(await cache.learn(bob.publicKey, forged)).toMatchObject({
      ok: false,
      code: "ID_WRONG_SIGNER",
    });
    // another account
    const other = await issue(signing, rogue.publicKey, bob.publicKey, "bob");
    expect(await cache.learn(bob.publicKey, other)).toMatchObject({
      ok: false,
      code: "ID_WRONG_ACCOUNT",
    });
    // expired
    const old = await issue(
      signing,
      account,
      bob.publicKey,
      "bob",
      Math.floor(Date.now() / 1000) - 10,
    );
    expect(await cache.learn(bob.publicKey, old)).toMatchObject({ ok: false, code: "ID_EXPIRED" });
    expect(cache.nameOf(bob.publicKey)).toBeUndefined();
    expect(shortKey(bob.publicKey)).toBe(
      `~${bob.publicKey.slice(0, 5)}…${bob.publicKey.slice(-4)}`,
    );
  });
});

describe("ChatSession before start", () => {
  it("keeps its snapshot stable between changes and refuses bad options", async () => {
    const account = (await newSigner("A")).signer.publicKey;
    const { signer: signing } = await newSigner("A");
    const { signer: me, seed } = await newUserSigner();
    const jwt = await issue(signing, account, me.publicKey, "me");
    const s = new ChatSession(
      { jwt, seed },
      {
        servers: "nats://127.0.0.1:1",
        connect,
        chatAccount: account,
        chatSigningKeys: [signing.publicKey],
      },
    );
    const a = s.snapshot();
    expect(s.snapshot()).toBe(a);
    expect(a.channels.map((c) => c.id)).toEqual(["#KUBECON", "#NATS", "#General"]);
    expect(a.selected).toBe("#KUBECON");
    expect(a.me.key).toBe(me.publicKey);
    expect(Object.isFrozen(a)).toBe(true);
    let calls = 0;
    const off = s.onChange(() => calls++);
    s.select("#NATS");
    s.select("#General");
    const b = s.snapshot();
    expect(b).not.toBe(a);
    expect(b.selected).toBe("#General");
    // the unchanged channel views are reused (#NATS is off screen in both, with nothing in it;
    // #KUBECON left the screen, which changes where its "new messages" separator goes)
    expect(b.channels[1]).toBe(a.channels[1]);
    await Promise.resolve();
    expect(calls).toBe(1);
    off();
    await expect(s.send("#KUBECON", "hi")).rejects.toThrow(/start\(\)/);
    expect(
      () =>
        new ChatSession(
          { jwt, seed },
          { servers: "x", connect, chatAccount: "", chatSigningKeys: [] },
        ),
    ).toThrow(/signing keys/);
    expect(
      () =>
        new ChatSession(
          { jwt, seed },
          {
            servers: "x",
            connect,
            chatAccount: account,
            chatSigningKeys: [signing.publicKey],
            channels: ["a.b"],
          },
        ),
    ).toThrow(/channel/);
  });

  it("fails to start with a clear error when the server is unreachable", async () => {
    const account = (await newSigner("A")).signer.publicKey;
    const { signer: signing } = await newSigner("A");
    const { signer: me, seed } = await newUserSigner();
    const jwt = await issue(signing, account, me.publicKey, "me");
    const s = new ChatSession(
      { jwt, seed },
      {
        servers: "nats://127.0.0.1:1",
        connect,
        chatAccount: account,
        chatSigningKeys: [signing.publicKey],
        connectTimeoutMs: 500,
      },
    );
    await expect(s.start()).rejects.toMatchObject({ code: "CHAT_CONNECT_FAILED" });
    // creds of another account are refused before connecting
    const { signer: rogue } = await newSigner("A");
    const s2 = new ChatSession(
      { jwt, seed },
      {
        servers: "nats://127.0.0.1:1",
        connect,
        chatAccount: account,
        chatSigningKeys: [rogue.publicKey],
      },
    );
    await expect(s2.start()).rejects.toMatchObject({ code: "CHAT_NOT_CHAT_USER" });
  });

  it("refuses the bootstrap identity (or a role) as a chat user, though CHAT signed it", async () => {
    const account = (await newSigner("A")).signer.publicKey;
    const { signer: signing } = await newSigner("A");
    const { signer: me, seed } = await newUserSigner();
    // the bootstrap user may only request access
    const jwt = await issue(
      signing,
      account,
      me.publicKey,
      "bootstrap",
      undefined,
      "chat.req.access",
    );
    const s = new ChatSession(
      { jwt, seed },
      {
        servers: "nats://127.0.0.1:1",
        connect,
        chatAccount: account,
        chatSigningKeys: [signing.publicKey],
      },
    );
    await expect(s.start()).rejects.toMatchObject({ code: "CHAT_NOT_CHAT_USER" });
  });
});
