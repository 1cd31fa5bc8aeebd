// `natschat backup` and `natschat restore` end to end: back up a running system, wipe its data
// dir (keys, stores, everything), restore the trust tree, start `up` on it, restore the registry
// and history, and find users, revocations and history back, with the revoked user refused by
// the server, and the messages' states (issue 13: a reaction, a deletion) on the same messages,
// although the restored streams number them differently. Bad, truncated, damaged or foreign files are refused before anything is written.
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { renew } from "@natschat/client";
import {
  type Creds,
  decodeJwtUnverified,
  dmSubject,
  encodeDelete,
  encodeDm,
  encodeHistoryDmsRequest,
  encodeHistoryPostsRequest,
  encodePost,
  encodeReaction,
  eventSubject,
  formatCreds,
  HISTORY_DMS_SUBJECT,
  HISTORY_POSTS_SUBJECT,
  inboxPrefixFor,
  parseCreds,
  parseEventReply,
  parseHistoryReply,
  parseStoreReply,
  postSubject,
  type Signer,
  signerFromSeed,
} from "@natschat/protocol";
import { freePorts } from "@natschat/server";
import { runCli, startCli, stopCli } from "@natschat/testing";
import { connectRole, loadTrust } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let tmp: string;
let dir: string;
let backup: string;
let server: string;
let up: Awaited<ReturnType<typeof startCli>> | undefined;

async function startUp(): Promise<void> {
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
}

async function stopUp(): Promise<void> {
  if (up) expect(await stopCli(up.child, "SIGTERM", 20_000)).toBe(0);
  up = undefined;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "natschat-backup-"));
  dir = join(tmp, "data");
  backup = join(tmp, "natschat.backup");
});

afterAll(async () => {
  // SIGTERM: `up` stops its nats-server (a SIGKILL would leave it running); SIGKILL only after 20 s
  if (up) await stopCli(up.child, "SIGTERM", 20_000);
  await rm(tmp, { recursive: true, force: true });
});

const wire = (m: { data: Uint8Array; headers?: { get(k: string): string } }) => ({
  data: m.data,
  header: (k: string) => m.headers?.get(k) || undefined,
});

async function userCreds(name: string): Promise<Creds> {
  return parseCreds(await readFile(join(dir, "users", `${name}.creds`), "utf8"));
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

async function history(nc: NatsConnection, subject: string, body: string): Promise<string[]> {
  const page = parseHistoryReply(wire(await nc.request(subject, body, { timeout: 10_000 })));
  if (!page.ok) throw new Error(`history refused: ${page.code} ${page.message}`);
  return page.value.messages.map(
    (m) => (decodeJwtUnverified(m.token ?? "").payload.nats as { msg: string }).msg,
  );
}

/** The channel page's messages as `text [state]` (a tombstone as `-`). */
async function withStates(nc: NatsConnection, channel: string): Promise<string[]> {
  const body = encodeHistoryPostsRequest({ channel });
  const page = parseHistoryReply(
    wire(await nc.request(HISTORY_POSTS_SUBJECT, body, { timeout: 10_000 })),
  );
  if (!page.ok) throw new Error(`history refused: ${page.code} ${page.message}`);
  return page.value.messages.map((m) => {
    const text = m.token ? (decodeJwtUnverified(m.token).payload.nats as { msg: string }).msg : "-";
    return m.state
      ? `${text} ${JSON.stringify({ ...m.state, deleted: m.state.deleted?.by })}`
      : text;
  });
}

/** Sends one signed event as `signer` and expects it applied. */
async function event(nc: NatsConnection, signer: Signer, channel: string, token: string) {
  const conv = { kind: "post" as const, channel };
  const r = await nc.request(eventSubject(conv, signer.publicKey), token, { timeout: 10_000 });
  expect(parseEventReply(wire(r)).ok).toBe(true);
}

async function cli(...args: string[]) {
  return runCli([...args, "--dir", dir]);
}

describe("natschat backup and restore", () => {
  it("brings back users, revocations and history after the data dir is wiped", async () => {
    await startUp();
    for (const name of ["alice", "bob", "mallory"]) expect((await cli("join", name)).code).toBe(0);
    const alice = await userCreds("alice");
    const bob = await userCreds("bob");
    // a stored message the backup leaves out (not a chat subject): the restored posts stream
    // numbers alice's posts from 1, not 2, so states keyed by sequence must be moved
    const historyRole = await connectRole({
      servers: server,
      credsPath: join(dir, "creds", "history.creds"),
      inboxOwner: "history",
    });
    try {
      await historyRole.request("chat.store.posts.General.junk", "x", { timeout: 10_000 });
    } finally {
      await historyRole.close();
    }
    const a = await connectUser(alice);
    const b = await connectUser(bob);
    try {
      const signer = await signerFromSeed(alice.seed);
      const bobSigner = await signerFromSeed(bob.seed);
      const conv = { kind: "post" as const, channel: "General" };
      const post = await encodePost(signer, { name: "alice", channel: "General", msg: "kept" });
      const gone = await encodePost(signer, { name: "alice", channel: "General", msg: "gone" });
      const idOf = (t: string) => {
        const p = decodeJwtUnverified(t).payload as { iss: string; jti: string };
        return `${p.iss}.${p.jti}`;
      };
      const dm = await encodeDm(signer, { name: "alice", to: bob.publicKey, msg: "kept too" });
      for (const [subject, token] of [
        [postSubject("General", alice.publicKey), post],
        [dmSubject(bob.publicKey, alice.publicKey), dm],
      ] as const)
        expect(parseStoreReply(wire(await a.request(subject, token, { timeout: 10_000 }))).ok).toBe(
          true,
        );
      const ack = parseStoreReply(
        wire(await a.request(postSubject("General", alice.publicKey), gone, { timeout: 10_000 })),
      );
      expect(ack.ok).toBe(true);
      const like = { name: "bob", conv, target: idOf(post), emoji: "👍", op: "add" as const };
      await event(b, bobSigner, "General", await encodeReaction(bobSigner, like));
      const del = { name: "alice", conv, target: idOf(gone) };
      await event(a, signer, "General", await encodeDelete(signer, del));
    } finally {
      await Promise.allSettled([a.close(), b.close()]);
    }
    expect((await cli("revoke", "mallory")).code).toBe(0);

    const made = await cli("backup", "--out", backup);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/CHAT_POSTS: 2 messages \(1 unserved v2 ones left out\)/);
    expect(made.stdout).toMatch(/CHAT_DMS: 1 messages/);
    expect(made.stdout).toMatch(/KV_natschat-state: 2 messages/);
    expect((await stat(backup)).mode & 0o777).toBe(0o600);
    // a second backup over it is refused without --force
    expect((await cli("backup", "--out", backup)).stderr).toMatch(/exists; pass --force/);

    // wipe everything: keys, JWTs, creds, server stores
    await stopUp();
    await rm(dir, { recursive: true, force: true });

    // 1. the trust tree into the empty dir
    const first = await cli("restore", backup);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/trust tree restored into/);
    expect(first.stdout).toMatch(/no system runs on .*run `natschat restore .*` again/);
    expect((await stat(join(dir, "keys", "operator.nk"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "users", "alice.creds"))).mode & 0o777).toBe(0o600);

    // 2. the system on it, then the registry and history into it
    await startUp();
    const second = await cli("restore", backup);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/CHAT_POSTS: 2 messages restored/);
    expect(second.stdout).toMatch(/KV_natschat-state: 2 messages restored/);
    expect(second.stdout).toMatch(/KV_natschat-users: \d+ messages restored/);

    const users = await cli("users");
    expect(users.stdout).toMatch(/alice .* active/);
    expect(users.stdout).toMatch(/bob .* active/);
    expect(users.stdout).toMatch(/mallory .* revoked/);

    const a2 = await connectUser(alice);
    const b2 = await connectUser(bob);
    try {
      // the states are on the same messages, under the sequences the restore gave them
      expect(await withStates(a2, "General")).toEqual([
        `kept {"reactions":{"👍":["${bob.publicKey}"]}}`,
        '- {"deleted":"author"}',
      ]);
      expect(await history(b2, HISTORY_DMS_SUBJECT, encodeHistoryDmsRequest({}))).toEqual([
        "kept too",
      ]);
    } finally {
      await Promise.allSettled([a2.close(), b2.close()]);
    }

    // the revoked user stays out: the server refuses its JWT, the access service its key and name
    const mallory = await userCreds("mallory");
    await expect(connectUser(mallory)).rejects.toThrow(/authoriz|revoked/i);
    const chat = (await loadTrust(dir)).summary.accounts.CHAT;
    const boot = await connectRole({
      servers: server,
      credsPath: join(dir, "creds", "bootstrap.creds"),
      inboxOwner: "bootstrap",
    });
    try {
      const renewal = renew(boot, await signerFromSeed(mallory.seed), "mallory", {
        chatAccount: chat.publicKey,
        chatSigningKeys: chat.signingKeys,
      });
      await expect(renewal.then(() => "renewed")).rejects.toThrow(/revoked/);
    } finally {
      await boot.close();
    }
    const squat = await cli("join", "mallory", "--out", join(tmp, "squat.creds"));
    expect(squat.code).not.toBe(0);

    // restoring again into the system that now holds the data is refused, naming the stream
    const again = await cli("restore", backup);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/\[RESTORE_CONFLICT\] stream \S+ already holds \d+ messages/);
    await stopUp();
  }, 300_000);

  it("refuses a bad, truncated, damaged or foreign backup before writing anything", async () => {
    const target = join(tmp, "fresh");
    const restore = (file: string) => runCli(["restore", file, "--dir", target]);
    const bytes = await readFile(backup);

    const missing = await restore(join(tmp, "nope.backup"));
    expect(missing.stderr).toMatch(/\[BACKUP_UNREADABLE\] cannot read .*nope\.backup \(ENOENT\)/);

    await writeFile(join(tmp, "text.backup"), "just some text\n");
    expect((await restore(join(tmp, "text.backup"))).stderr).toMatch(
      /\[BACKUP_DAMAGED\] .* is not a readable natschat backup/,
    );

    await writeFile(join(tmp, "cut.backup"), bytes);
    await truncate(join(tmp, "cut.backup"), Math.floor(bytes.length / 2));
    expect((await restore(join(tmp, "cut.backup"))).stderr).toMatch(/\[BACKUP_TRUNCATED\]/);

    // whole lines cut off the end (a valid gzip stream, no trailer)
    const lines = gunzipSync(bytes).toString().split("\n").filter(Boolean);
    await writeFile(join(tmp, "short.backup"), gzipSync(`${lines.slice(0, -3).join("\n")}\n`));
    expect((await restore(join(tmp, "short.backup"))).stderr).toMatch(
      /\[BACKUP_TRUNCATED\] .* has no trailer/,
    );

    // one changed line: the checksum no longer matches
    const changed = [...lines];
    const edited = JSON.parse(changed[1] as string) as { text: string };
    changed[1] = JSON.stringify({ ...edited, text: `${edited.text}#` });
    await writeFile(join(tmp, "edited.backup"), gzipSync(`${changed.join("\n")}\n`));
    expect((await restore(join(tmp, "edited.backup"))).stderr).toMatch(
      /\[BACKUP_DAMAGED\] .* does not match its checksum/,
    );

    await writeFile(join(tmp, "other.backup"), gzipSync('{"kind":"header","format":"x"}\n'));
    expect((await restore(join(tmp, "other.backup"))).stderr).toMatch(
      /\[BACKUP_INVALID\] line 1 of the backup is not a natschat backup header/,
    );

    // none of them wrote a thing
    expect(await readdir(target).catch(() => [])).toEqual([]);

    // the backup's tree into a dir that holds another operator's tree is refused
    const other = join(tmp, "other");
    expect((await runCli(["init", "--dir", other])).code).toBe(0);
    expect((await runCli(["restore", backup, "--dir", other])).stderr).toMatch(
      /\[RESTORE_CONFLICT\] .* holds another trust tree/,
    );
    // and a backup to a path that cannot be written fails before it connects anywhere
    const unwritable = join(tmp, "no-such-dir", "x.backup");
    expect((await runCli(["backup", "--out", unwritable, "--dir", other])).stderr).toMatch(
      /\[BACKUP_UNWRITABLE\] cannot write .*x\.backup \(ENOENT\)/,
    );
  }, 120_000);
});
