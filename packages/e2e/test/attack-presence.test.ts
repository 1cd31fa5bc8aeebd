// Attack (issue 10): phantom presence. Before issue 10, 2,000 presence messages signed by
// unregistered keys, published by one connection on the one presence subject, made a client
// list 2,001 users online: the server delivered them with nothing tying them to the connection
// that sent them. Now a key may announce itself only on chat.KUBECON.online.<its key>: the server
// refuses a publish for any other key, and what it delivers names, in its subject, the key that
// the server authenticated. An unregistered key cannot connect at all.
import { encodeUser } from "@nats-io/jwt";
import type { NatsConnection } from "@nats-io/nats-core";
import { createAccount, createUser } from "@nats-io/nkeys";
import { encodePresence, formatCreds, newUserSigner } from "@natschat/protocol";
import { type MintedUser, mintChatUser, probePublish, probeSubscribe } from "@natschat/testing";
import { connectWithCreds } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttackStack, connectUser, startAttackStack, subjects, V3 } from "../src/mod.ts";

let s: AttackStack;
let mallory: MintedUser;
let watcher: MintedUser;
let m: NatsConnection;
let w: NatsConnection;

beforeAll(async () => {
  s = await startAttackStack();
  mallory = await mintChatUser(s.stack.dir, "mallory");
  watcher = await mintChatUser(s.stack.dir, "watcher");
  m = await connectUser(s.stack, mallory);
  w = await connectUser(s.stack, watcher);
}, 60_000);

afterAll(async () => {
  await m?.close();
  await w?.close();
  await s?.stop();
});

/** Whether a chat user may still subscribe to everyone's heartbeats (before issue 12). */
async function mayWatch(nc: NatsConnection): Promise<boolean> {
  return (await probeSubscribe(nc, "chat.KUBECON.online.*")) === "allowed";
}

describe("attack: phantom presence from unregistered keys", () => {
  it("the server refuses presence for any key but the connection's own", async () => {
    const phantoms = await Promise.all(Array.from({ length: 50 }, () => newUserSigner()));
    let denied = 0;
    for (const { signer } of phantoms) {
      const subject = subjects.presence(signer.publicKey);
      if ((await probePublish(m, subject)) === "denied") denied++;
    }
    expect(denied).toBe(phantoms.length);
  });

  it("what the server delivers names the authenticated sender, never the signer it claims", async () => {
    const seen: string[] = [];
    // chat users no longer receive heartbeats (issue 12); the leaf binding, the whole CHAT
    // account, sees what the server delivers, as the directory does through ADMIN's import
    const watch = V3 && !(await mayWatch(w)) ? s.leaf : w;
    watch.subscribe(V3 ? "chat.KUBECON.online.*" : "chat.KUBECON.online", {
      callback: (_e, msg) => {
        seen.push(msg.subject);
      },
    });
    await w.flush();
    const phantoms = await Promise.all(Array.from({ length: 200 }, () => newUserSigner()));
    for (const { signer } of phantoms) {
      const token = await encodePresence(signer, { name: "ghost", first: true });
      // the only subject mallory may use: her own
      m.publish(subjects.presence(mallory.publicKey), token);
    }
    await m.flush();
    await watch.flush();
    expect(seen.length).toBeGreaterThan(0);
    // every delivery carries mallory's key: none can be attributed to a phantom
    for (const subject of seen) expect(subject).toBe(`chat.KUBECON.online.${mallory.publicKey}`);
  });

  it("an unregistered key cannot connect (its JWT is not one the CHAT account signed)", async () => {
    const user = createUser();
    const fakeAccount = createAccount();
    const jwt = await encodeUser("ghost", user, fakeAccount, {});
    const creds = formatCreds(jwt, new TextDecoder().decode(user.getSeed()));
    await expect(
      connectWithCreds(new TextEncoder().encode(creds), "ghost", {
        servers: s.stack.urls,
        inboxOwner: user.getPublicKey(),
        timeoutMs: 3000,
      }),
    ).rejects.toThrow();
  });
});
