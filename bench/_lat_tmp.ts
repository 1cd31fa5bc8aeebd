import type { Authenticator, NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { EnvelopeVerifier, encodePost, inboxPrefixFor, postsSubject, signerFromSeed } from "@natschat/protocol";
import { type MintedUser, mintChatUser, startTestStack } from "@natschat/testing";
import { installNodeEd25519, nativeKeyPair } from "@natschat/trust";
if (process.env.NODE_PROV) installNodeEd25519();
const now = () => performance.now();
function auth(user: MintedUser): Authenticator {
  const key = nativeKeyPair(user.seed);
  return (nonce?: string) => ({ jwt: user.jwt, nkey: user.publicKey, sig: Buffer.from(key.sign(new TextEncoder().encode(nonce ?? ""))).toString("base64url") });
}
const stack = await startTestStack();
try {
  const url = stack.urls[0] as string;
  const sender = await mintChatUser(stack.dir, "s");
  const receiver = await mintChatUser(stack.dir, "r");
  const tx = await connect({ servers: url, authenticator: auth(sender), inboxPrefix: inboxPrefixFor(sender.publicKey) });
  const rx = await connect({ servers: url, authenticator: auth(receiver), inboxPrefix: inboxPrefixFor(receiver.publicKey) });
  const signer = await signerFromSeed(sender.seed);
  const subject = postsSubject("bench");
  const verifier = new EnvelopeVerifier();
  let done: (() => void) | undefined;
  let tRecv = 0, tVer = 0;
  let mode = "raw";
  rx.subscribe(subject, { callback: (_e, m) => { tRecv = now(); if (mode === "raw") { done?.(); return; } void verifier.verify(m.data, { subject: m.subject }).then((r) => { tVer = now(); if (!r.ok) throw new Error(r.detail); done?.(); }); } });
  await rx.flush();
  const enc: number[] = [], net: number[] = [], ver: number[] = [], tot: number[] = [], raw: number[] = [];
  for (let i = 0; i < 3000; i++) {
    for (const k of ["raw", "chat"]) {
      mode = k;
      const arrived = new Promise<void>((r) => { done = r; });
      const t0 = now();
      let t1 = t0;
      if (k === "raw") tx.publish(subject, "x".repeat(485));
      else { const token = await encodePost(signer, { name: "s", channel: "bench", msg: "x".repeat(64) }); t1 = now(); tx.publish(subject, token); }
      await arrived;
      const t3 = now();
      if (i < 500) continue;
      if (k === "raw") raw.push(t3 - t0); else { enc.push(t1 - t0); net.push(tRecv - t1); ver.push(tVer - tRecv); tot.push(t3 - t0); }
    }
  }
  const p = (a: number[], q: number) => { const s = [...a].sort((x, y) => x - y); return (s[Math.ceil(q * s.length) - 1] as number * 1000).toFixed(0); };
  for (const [n, a] of Object.entries({ raw, enc, net, ver, tot })) console.log(n.padEnd(5), "p50", p(a, 0.5), "us p90", p(a, 0.9), "us p99", p(a, 0.99), "us");
  await tx.close(); await rx.close();
} finally { await stack.stop(); }
