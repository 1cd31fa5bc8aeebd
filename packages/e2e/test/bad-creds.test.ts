// Bad creds and keys. What matters most is the server's verdict: a JWT that is expired, signed
// by a key the CHAT account does not list, from another operator, altered, or presented with a
// seed that does not match it, is refused at connect by nats-server itself. Then the local
// verdicts: `natschat chat --creds` and `natschat pub --creds` name what is wrong with a file
// (one line, its code, exit 1, no stack trace, no seed), and ChatSession refuses mismatched
// creds before connecting. parseCreds' own cases are in packages/protocol/test/creds.test.ts.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeUser } from "@nats-io/jwt";
import { jwtAuthenticator } from "@nats-io/nats-core";
import { createAccount } from "@nats-io/nkeys";
import { connect } from "@nats-io/transport-node";
import { ChatSession } from "@natschat/client";
import { base64urlDecode, base64urlEncode, formatCreds, inboxPrefixFor } from "@natschat/protocol";
import {
  type MintedUser,
  mintChatUser,
  runCli,
  startTestStack,
  type TestStack,
} from "@natschat/testing";
import { CHAT_USER_MAX_PAYLOAD, chatUserPermissions, initTrust, layout } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SEED = /S[OACUNX][A-Z2-7]{56}/;

let stack: TestStack;
let tmp: string;
let alice: MintedUser;
let bob: MintedUser;

beforeAll(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(tmpdir(), "natschat-e2e-creds-"));
  [alice, bob] = await Promise.all([
    mintChatUser(stack.dir, "alice"),
    mintChatUser(stack.dir, "bob"),
  ]);
});

afterAll(async () => {
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Connects with a user JWT and a seed; resolves with the server's refusal (or "connected"). */
async function serverVerdict(jwt: string, seed: string, key: string): Promise<string> {
  try {
    const nc = await connect({
      servers: stack.urls,
      authenticator: jwtAuthenticator(jwt, new TextEncoder().encode(seed)),
      inboxPrefix: inboxPrefixFor(key),
      maxReconnectAttempts: 0,
      timeout: 5000,
    });
    await nc.close();
    return "connected";
  } catch (err) {
    return (err as Error).message;
  }
}

describe("the server refuses bad user JWTs at connect", () => {
  it("a valid user connects (the control)", async () => {
    expect(await serverVerdict(alice.jwt, alice.seed, alice.publicKey)).toBe("connected");
  });

  it("an expired user JWT", async () => {
    const old = await mintChatUser(stack.dir, "old", -60);
    expect(await serverVerdict(old.jwt, old.seed, old.publicKey)).toMatch(/authorization|expired/i);
  });

  it("a seed that does not match the JWT", async () => {
    expect(await serverVerdict(alice.jwt, bob.seed, alice.publicKey)).toMatch(/authorization/i);
  });

  it("a user JWT signed by a key that is not a CHAT signing key", async () => {
    const chat = stack.trust.summary.accounts.CHAT.publicKey;
    const jwt = await encodeUser(
      "forger",
      alice.publicKey,
      chat,
      { ...chatUserPermissions(alice.publicKey), payload: CHAT_USER_MAX_PAYLOAD },
      { signer: createAccount() },
    );
    expect(await serverVerdict(jwt, alice.seed, alice.publicKey)).toMatch(/authorization/i);
  });

  it("a user JWT of another operator's trust tree", async () => {
    const other = join(tmp, "other-tree");
    await initTrust({ dir: other });
    const stranger = await mintChatUser(other, "stranger");
    expect(await serverVerdict(stranger.jwt, stranger.seed, stranger.publicKey)).toMatch(
      /authorization/i,
    );
  });

  it("a user JWT whose permissions were edited (the signature no longer matches)", async () => {
    const [h, p, s] = alice.jwt.split(".") as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64urlDecode(p))) as {
      nats: { pub: { allow: string[] }; sub: { allow: string[] } };
    };
    claims.nats.pub.allow.push(">");
    claims.nats.sub.allow.push(">");
    const edited = `${h}.${base64urlEncode(new TextEncoder().encode(JSON.stringify(claims)))}.${s}`;
    expect(await serverVerdict(edited, alice.seed, alice.publicKey)).toMatch(/authorization/i);
  });
});

describe("ChatSession refuses mismatched creds before it connects", () => {
  const options = () => {
    const chat = stack.trust.summary.accounts.CHAT;
    return {
      servers: stack.urls,
      connect,
      chatAccount: chat.publicKey,
      chatSigningKeys: chat.signingKeys,
    };
  };

  it("a seed that does not match the JWT", async () => {
    const s = new ChatSession({ jwt: alice.jwt, seed: bob.seed }, options());
    await expect(s.start()).rejects.toMatchObject({
      code: "CHAT_CREDS_MISMATCH",
      message: expect.stringMatching(/different keys/),
    });
  });

  it("a user JWT not issued by a CHAT signing key", async () => {
    const chat = stack.trust.summary.accounts.CHAT.publicKey;
    const jwt = await encodeUser("forger", alice.publicKey, chat, {}, { signer: createAccount() });
    const s = new ChatSession({ jwt, seed: alice.seed }, options());
    await expect(s.start()).rejects.toMatchObject({ code: "CHAT_NOT_CHAT_USER" });
  });

  it("a seed that is not a seed", async () => {
    const s = new ChatSession({ jwt: alice.jwt, seed: "SUNOTASEED" }, options());
    await expect(s.start()).rejects.toMatchObject({ code: "CHAT_CREDS_MISMATCH" });
  });
});

describe("the CLI names what is wrong with a creds file", () => {
  const good = () => formatCreds(alice.jwt, alice.seed);
  const cases: [string, () => Promise<string>, string, RegExp][] = [
    ["empty", async () => "", "CREDS_EMPTY", /empty/],
    ["truncated", async () => good().slice(0, 150), "CREDS_TRUNCATED", /looks truncated/],
    [
      "wrong PEM markers",
      async () => good().replaceAll("NATS USER JWT", "NATS ACCOUNT JWT"),
      "CREDS_MARKERS",
      /unexpected block "NATS ACCOUNT JWT"/,
    ],
    [
      "END marker of the other block",
      async () => good().replace("------END NATS USER JWT------", "------END USER NKEY SEED------"),
      "CREDS_MARKERS",
      /no matching BEGIN/,
    ],
    [
      "a seed that does not match the JWT",
      async () => good().replace(alice.seed, bob.seed),
      "CREDS_KEY_MISMATCH",
      /mixes two identities/,
    ],
    [
      "an account seed where the user seed belongs",
      async () =>
        good().replace(alice.seed, (await readFile(layout(stack.dir).key("CHAT"), "utf8")).trim()),
      "CREDS_SEED_TYPE",
      /'SA' seed, a creds file needs a user seed/,
    ],
    [
      "an expired user JWT",
      async () => {
        const old = await mintChatUser(stack.dir, "expired", -60);
        return old.creds;
      },
      "CREDS_EXPIRED",
      /expired on .*renew it or register again/,
    ],
  ];

  it.concurrent.each(cases)("chat --creds: %s", async (label, make, code, message) => {
    const file = join(tmp, `${label.replaceAll(" ", "-")}.creds`);
    await writeFile(file, await make(), { mode: 0o600 });
    const r = await runCli(["chat", "--creds", file, "--dir", stack.dir]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^natschat chat: \\[${code}\\] `));
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(SEED);
  });

  it.concurrent("pub --creds: a truncated file, before any connection is tried", async () => {
    const file = join(tmp, "pub-truncated.creds");
    await writeFile(file, good().slice(0, 150), { mode: 0o600 });
    const r = await runCli([
      "pub",
      "chat.KUBECON.posts.General",
      "hi",
      "--creds",
      file,
      "--dir",
      stack.dir,
      "--server",
      stack.urls[0] as string,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^natschat pub: \[CREDS_TRUNCATED\] /);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(SEED);
  });
});
