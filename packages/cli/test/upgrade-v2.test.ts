// Upgrading in place from the last protocol v2 release (a697e77), from a data dir that release
// wrote (fixtures/v2-release, made by `npm run fixture:v2`; a TEST FIXTURE with seeds): this
// release's `natschat up` on it revokes every v2 user JWT on the servers, re-issues the CHAT
// roles, and moves the v2 history whose signer the registry issued a name to into the v3
// layout; users renew through the bootstrap identity with their own key and keep their names;
// a revoked user stays out; a restart moves nothing twice.
import { chmod, cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decode } from "@nats-io/jwt";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { chatUserKind, renewBeforeConnect } from "@natschat/client";
import {
  type Creds,
  decodeJwtUnverified,
  EnvelopeVerifier,
  encodeHistoryDmsRequest,
  encodeHistoryPostsRequest,
  encodePost,
  formatCreds,
  HISTORY_DMS_SUBJECT,
  HISTORY_POSTS_SUBJECT,
  inboxPrefixFor,
  parseCreds,
  parseHistoryReply,
  parseStoreReply,
  postSubject,
  signerFromSeed,
} from "@natschat/protocol";
import { freePorts } from "@natschat/server";
import { runCli, startCli, stopCli } from "@natschat/testing";
import { ALL_USERS, loadTrust } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credsForName } from "../src/chat.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/v2-release", import.meta.url));

interface Manifest {
  commit: string;
  users: Record<"alice" | "bob" | "mallory", string>;
  unregistered: string;
}

let dir: string;
let manifest: Manifest;
let up: Awaited<ReturnType<typeof startCli>> | undefined;
let server: string;

async function startUp(): Promise<string> {
  const [port, ws, http, web] = (await freePorts(4)).map(String) as [
    string,
    string,
    string,
    string,
  ];
  server = `nats://127.0.0.1:${port}`;
  up = await startCli(
    ["up", "--dir", dir, "--port", port, "--ws-port", ws, "--http-port", http, "--web-port", web],
    /Ctrl-C stops everything/,
    120_000,
  );
  return up.output();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "natschat-upgrade-v2-"));
  await cp(join(FIXTURE, "data"), dir, { recursive: true });
  // git keeps no file modes: give the copy a data dir's (secrets 0600)
  for (const sub of ["keys", "creds", "users"])
    for (const f of await readdir(join(dir, sub))) await chmod(join(dir, sub, f), 0o600);
  manifest = JSON.parse(await readFile(join(FIXTURE, "manifest.json"), "utf8")) as Manifest;
}, 30_000);

afterAll(async () => {
  if (up) await stopCli(up.child, "SIGTERM", 20_000);
  await rm(dir, { recursive: true, force: true });
});

const wire = (m: { data: Uint8Array; headers?: { get(k: string): string } }) => ({
  data: m.data,
  header: (k: string) => m.headers?.get(k) || undefined,
});

async function userCreds(name: string): Promise<Creds> {
  return parseCreds(await readFile(join(dir, "users", `${name}.creds`), "utf8"), { now: 0 });
}

function connectUser(c: Creds): Promise<NatsConnection> {
  return connect({
    servers: server,
    authenticator: credsAuthenticator(new TextEncoder().encode(formatCreds(c.jwt, c.seed))),
    inboxPrefix: inboxPrefixFor(c.publicKey),
    maxReconnectAttempts: 0,
    timeout: 5000,
  });
}

/**
 * The message texts of a history page, oldest first, each checked as a receiver checks it (the
 * signature, and the live subject the page gives, whose last token must be the signer).
 */
async function texts(page: ReturnType<typeof parseHistoryReply>): Promise<string[]> {
  if (!page.ok) throw new Error(`history refused: ${page.code} ${page.message}`);
  const verifier = new EnvelopeVerifier();
  const out: string[] = [];
  for (const m of page.value.messages) {
    const v = await verifier.verify(m.token ?? "", { subject: m.subject });
    if (!v.ok) throw new Error(`a receiver would drop seq ${m.seq}: ${v.reason} ${v.detail}`);
    out.push((decodeJwtUnverified(m.token ?? "").payload.nats as { msg: string }).msg);
  }
  return out;
}

async function channel(nc: NatsConnection, name: string): Promise<string[]> {
  return await texts(
    parseHistoryReply(
      wire(
        await nc.request(HISTORY_POSTS_SUBJECT, encodeHistoryPostsRequest({ channel: name }), {
          timeout: 10_000,
        }),
      ),
    ),
  );
}

describe("upgrading a v2 data dir in place", () => {
  it("revokes the v2 JWTs, keeps names, moves trusted history only, and a restart moves nothing twice", async () => {
    const chatAccount = (await loadTrust(dir)).summary.accounts.CHAT;
    const old = await userCreds("alice");
    expect(chatUserKind(old.jwt, old.publicKey)).toBe("v2");
    expect(renewBeforeConnect(old)).toBe(true);

    const out = await startUp();
    expect(out).toContain("revoked every CHAT user JWT issued before this upgrade");
    expect(out).toContain("CHAT_POSTS: 4 of 8 v2 messages moved to the v3 layout");
    expect(out).toMatch(/left unserved: .*1 untrusted-signer/);
    expect(out).toContain("CHAT_DMS: 2 of 3 v2 messages moved to the v3 layout");

    // every v2 user JWT is refused by the server itself, the revoked user's too
    const chatJwt = decode<{ revocations?: Record<string, number> }>(
      (await readFile(join(dir, "jwt", "CHAT.jwt"), "utf8")).trim(),
    );
    expect(chatJwt.nats.revocations?.[ALL_USERS]).toBeGreaterThanOrEqual(decode(old.jwt).iat ?? 0);
    for (const name of ["alice", "bob", "mallory"])
      await expect(connectUser(await userCreds(name))).rejects.toThrow(/authoriz|revoked/i);

    // users renew through the bootstrap identity (re-issued by the upgrade) and keep their names
    const chat = { chatAccount: chatAccount.publicKey, chatSigningKeys: chatAccount.signingKeys };
    const alice = await credsForName(dir, server, "alice", chat);
    const bob = await credsForName(dir, server, "bob", chat);
    expect(alice.publicKey).toBe(manifest.users.alice);
    expect(alice.claims.name).toBe("alice");
    expect(chatUserKind(alice.jwt, alice.publicKey)).toBe("v3");
    expect(renewBeforeConnect(alice)).toBe(false); // renewed once, used as it is from now on
    await expect(credsForName(dir, server, "mallory", chat)).rejects.toThrow(/revoked/);

    const a = await connectUser(alice);
    const b = await connectUser(bob);
    try {
      // the trusted v2 posts, in their order; not the forgeries (unregistered signer, not a JWT,
      // tampered, moved to another channel)
      expect(await channel(a, "General")).toEqual([
        "hello from v2",
        "hi alice, v2 here too",
        "mallory before being revoked",
      ]);
      expect(await channel(a, "NATS")).toEqual(["streams before the upgrade"]);
      const dms = await texts(
        parseHistoryReply(
          wire(
            await b.request(HISTORY_DMS_SUBJECT, encodeHistoryDmsRequest({}), { timeout: 10_000 }),
          ),
        ),
      );
      expect(dms).toEqual(["a v2 DM for bob", "and one back"]);
      // and v3 posts go after them
      const token = await encodePost(await signerFromSeed(alice.seed), {
        name: "alice",
        channel: "General",
        msg: "hello from v3",
      });
      const ack = parseStoreReply(
        wire(await a.request(postSubject("General", alice.publicKey), token, { timeout: 10_000 })),
      );
      expect(ack.ok).toBe(true);
    } finally {
      await Promise.allSettled([a.close(), b.close()]);
    }

    // a restart on the upgraded dir: nothing moved again, nothing revoked again
    expect(await stopCli((up as NonNullable<typeof up>).child, "SIGTERM", 20_000)).toBe(0);
    const again = await startUp();
    expect(again).not.toContain("v2 messages moved");
    expect(again).not.toContain("revoked every CHAT user JWT");
    const a2 = await connectUser(alice);
    try {
      expect(await channel(a2, "General")).toEqual([
        "hello from v2",
        "hi alice, v2 here too",
        "mallory before being revoked",
        "hello from v3",
      ]);
    } finally {
      await a2.close();
    }
    // what a deployment runs (its history service scaled to zero): nothing left to move
    const verb = await runCli(["upgrade", "--dir", dir]);
    expect(verb.stdout).toContain("history stores are current: nothing to move");
    expect(verb.code).toBe(0);
  }, 300_000);
});
