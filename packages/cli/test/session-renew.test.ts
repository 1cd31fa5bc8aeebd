// A chat session outlives its user JWT: with the access service issuing 12 s JWTs, a session
// renews a quarter of the lifetime before expiry (renewAt), reconnects on the new JWT, hands the
// new creds to the UI (onRenewed), and is still connected, posting and receiving, well after the
// first JWT expired. The server would have closed it as expired otherwise.
import type { ChatCreds } from "@natschat/client";
import { renewAt, waitForSnapshot } from "@natschat/client";
import { decodeJwtUnverified } from "@natschat/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatStack, registerAt, sessionAt, startChatStack } from "./multi-region.ts";

const LIFETIME_S = 12;
let cs: ChatStack;
beforeAll(async () => {
  cs = await startChatStack({
    topology: "single",
    accessFlags: { "user-expiry": `${LIFETIME_S}s` },
  });
}, 120_000);
afterAll(async () => {
  await cs?.stop();
});

const claims = (jwt: string) =>
  decodeJwtUnverified(jwt).payload as { iat: number; exp: number; sub: string };

describe("a session renews its user JWT before it expires", () => {
  it("keeps chatting past the first JWT's expiry, on renewed creds for the same key", async () => {
    const server = cs.stack.topology.servers[0] as (typeof cs.stack.topology.servers)[0];
    const kim = await registerAt(cs, server, "kim");
    const lee = await registerAt(cs, server, "lee");
    const first = claims(kim.jwt);
    expect(first.exp - first.iat).toBe(LIFETIME_S);
    expect(renewAt(first)).toBe((first.exp - LIFETIME_S / 4) * 1000);

    const renewals: ChatCreds[] = [];
    const sk = await sessionAt(cs, server, kim, { onRenewed: (c) => renewals.push(c) });
    const sl = await sessionAt(cs, server, lee);

    // past the first JWT's expiry (and lee's, whose session renews too)
    const pastExpiry = first.exp * 1000 + 3000 - Date.now();
    await new Promise((r) => setTimeout(r, pastExpiry));
    expect(sk.state).toBe("connected");
    expect(renewals.length).toBeGreaterThanOrEqual(1);
    const renewed = renewals.at(-1) as ChatCreds;
    expect(renewed.seed).toBe(kim.seed);
    expect(claims(renewed.jwt).sub).toBe(kim.publicKey);
    expect(claims(renewed.jwt).exp).toBeGreaterThan(first.exp);

    await sk.send("#KUBECON", "still here after my first JWT expired");
    await waitForSnapshot(
      sl,
      (s) =>
        s.channels.some((c) =>
          c.messages.some(
            (m) => m.text === "still here after my first JWT expired" && m.name === "kim",
          ),
        ),
      { timeoutMs: 10_000, what: "lee to get kim's post on the renewed JWT" },
    );
    expect(sl.state).toBe("connected");
  });
});
