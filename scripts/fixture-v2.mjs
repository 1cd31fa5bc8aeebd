#!/usr/bin/env node
// Regenerates the upgrade test's fixture: a data dir written by an older natschat release (by
// default a697e77, the last release of protocol v2: subjects without the sender key, chat users
// with $JS access, streams written by clients). It unpacks that commit with `git archive` into a
// temp dir, installs its dependencies, runs its own `natschat up`, `join`, `revoke` and a small
// client of its own protocol package that posts, DMs and stores a few forgeries, stops it, and
// copies the data dir (minus logs and run state) to packages/cli/test/fixtures/v2-release/.
//
//   npm run fixture:v2 [-- --commit a697e77] [-- --out DIR]
//
// The fixture holds seeds: it is a TEST FIXTURE, never a deployment's trust.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: flags } = parseArgs({
  options: {
    commit: { type: "string", default: "a697e77" },
    out: { type: "string", default: join(root, "packages/cli/test/fixtures/v2-release") },
    keep: { type: "boolean", default: false },
  },
});

// Ports from a random base: `up` falls back to a free one when one is busy, and says so.
const ports = () => {
  const base = 20_000 + Math.floor(Math.random() * 20_000);
  return [
    "--port",
    `${base}`,
    "--ws-port",
    `${base + 1}`,
    "--http-port",
    `${base + 2}`,
    "--web-port",
    `${base + 3}`,
  ];
};
const log = (line) => console.error(`fixture-v2: ${line}`);
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", ...opts });

const work = await mkdtemp(join(tmpdir(), "natschat-fixture-v2-"));
const src = join(work, "src");
const data = join(work, "data");
const commit = run("git", ["-C", root, "rev-parse", flags.commit]).trim();
log(`unpacking ${commit} into ${src}`);
await mkdir(src);
execFileSync("sh", ["-c", `git -C "${root}" archive ${commit} | tar -x -C "${src}"`], {
  stdio: "inherit",
});
log("installing its dependencies (npm ci)");
run("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: src, stdio: "inherit" });
// The server the tests run (the old release would otherwise look for one, or install its own).
const cached = join(root, ".cache/nats-server/usr/sbin/nats-server");
const natsServer = process.env.NATS_SERVER ?? (existsSync(cached) ? cached : undefined);
const env = {
  ...process.env,
  NATSCHAT_DIR: data,
  ...(natsServer ? { NATS_SERVER: natsServer } : {}),
};
const cli = (...args) => run(process.execPath, [join(src, "bin/natschat.js"), ...args], { env });

// The old release's own `up`, on free ports (it falls back from busy ones and says so in up.json).
log("starting the old release's natschat up");
const up = spawn(process.execPath, [join(src, "bin/natschat.js"), "up", ...ports()], {
  env,
  stdio: ["ignore", "pipe", "pipe"],
});
let upOut = "";
await new Promise((ok, fail) => {
  const timer = setTimeout(() => fail(new Error(`up did not start:\n${upOut}`)), 120_000);
  const onData = (d) => {
    upOut += d;
    if (/natschat is up/.test(upOut)) {
      clearTimeout(timer);
      ok();
    }
  };
  up.stdout.on("data", onData);
  up.stderr.on("data", onData);
  up.once("exit", (code) => fail(new Error(`up exited ${code}:\n${upOut}`)));
});
const stopUp = () =>
  new Promise((ok) => {
    if (up.exitCode !== null) return ok();
    up.once("exit", () => ok());
    up.kill("SIGINT");
  });

try {
  for (const name of ["alice", "bob", "mallory"]) log(cli("join", name).trim() || `joined ${name}`);
  // The old release's own protocol package signs and publishes; v2 clients published straight
  // into the streams' subjects, so anything a user sent there was stored, forgeries included.
  const poster = join(src, "fixture-post.ts");
  await writeFile(poster, posterSource());
  const posted = JSON.parse(
    run(join(src, "node_modules/.bin/tsx"), [poster, data], { cwd: src, env }),
  );
  log(`stored ${posted.posts} posts and ${posted.dms} DMs`);
  log(cli("revoke", "mallory").trim().split("\n")[0]);
  await stopUp();
  const manifest = {
    about:
      "TEST FIXTURE ONLY: a data dir written by an older natschat release. It holds seeds and creds; never deploy it.",
    commit,
    made: new Date().toISOString(),
    regenerate: `npm run fixture:v2 -- --commit ${commit.slice(0, 7)}`,
    ...posted,
    revoked: ["mallory"],
  };
  await rm(flags.out, { recursive: true, force: true });
  await mkdir(flags.out, { recursive: true });
  await cp(data, join(flags.out, "data"), {
    recursive: true,
    filter: (path) => !/(\.log|up\.json|up\.lock)$/.test(path) && !path.includes("/web"),
  });
  await writeFile(join(flags.out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const files = await readdir(join(flags.out, "data"), { recursive: true });
  log(`wrote ${files.length} entries to ${flags.out}`);
} finally {
  await stopUp();
  if (!flags.keep) await rm(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}

// Runs inside the old release's tree (its protocol and trust packages). Prints what it stored.
function posterSource() {
  return String.raw`
import { readFile } from "node:fs/promises";
import { credsAuthenticator } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  dmSubject, encodeDm, encodePost, inboxPrefixFor, newUserSigner, parseCreds, postsSubject,
  signerFromSeed,
} from "@natschat/protocol";
import { installNodeEd25519 } from "@natschat/trust";

installNodeEd25519();
const dir = process.argv[2];
const up = JSON.parse(await readFile(dir + "/up.json", "utf8"));
const user = async (name) => {
  const text = await readFile(dir + "/users/" + name + ".creds", "utf8");
  const creds = await parseCreds(text);
  const signer = await signerFromSeed(creds.seed);
  const nc = await connect({
    servers: up.client,
    authenticator: credsAuthenticator(new TextEncoder().encode(text)),
    inboxPrefix: inboxPrefixFor(signer.publicKey),
  });
  return { name, signer, nc };
};
const alice = await user("alice");
const bob = await user("bob");
const mallory = await user("mallory");
let posts = 0;
let dms = 0;
// each publish is flushed before the next, so the streams hold them in this order
const post = async (u, channel, msg, signer = u.signer, name = u.name) => {
  u.nc.publish(postsSubject(channel), await encodePost(signer, { name, channel, msg }));
  await u.nc.flush();
  posts++;
};
const dm = async (u, to, msg, signer = u.signer, name = u.name) => {
  u.nc.publish(dmSubject(to), await encodeDm(signer, { name, to, msg }));
  await u.nc.flush();
  dms++;
};
await post(alice, "General", "hello from v2");
await post(bob, "General", "hi alice, v2 here too");
await post(alice, "NATS", "streams before the upgrade");
await dm(alice, bob.signer.publicKey, "a v2 DM for bob");
await dm(bob, alice.signer.publicKey, "and one back");
await post(mallory, "General", "mallory before being revoked");
// forgeries v2 let through (the stream stored what a user published on the subject):
const stranger = (await newUserSigner()).signer; // a key the access service never issued
await post(mallory, "General", "signed by an unregistered key", stranger, "alice");
await dm(mallory, bob.signer.publicKey, "unregistered key DM", stranger, "alice");
mallory.nc.publish(postsSubject("General"), "not a JWT at all");
posts++;
const token = await encodePost(mallory.signer, { name: "mallory", channel: "General", msg: "x" });
const [head, body, sig] = token.split(".");
const tampered = JSON.parse(Buffer.from(body, "base64url").toString());
tampered.nats.msg = "tampered after signing";
mallory.nc.publish(postsSubject("General"),
  [head, Buffer.from(JSON.stringify(tampered)).toString("base64url"), sig].join("."));
posts++;
// a post to NATS whose signed channel says General (moved by its sender)
mallory.nc.publish(postsSubject("NATS"),
  await encodePost(mallory.signer, { name: "mallory", channel: "General", msg: "moved" }));
posts++;
for (const u of [alice, bob, mallory]) await u.nc.flush();
// wait until both streams hold everything (read with the leaf role: unrestricted in CHAT)
const leaf = await connect({
  servers: up.client,
  authenticator: credsAuthenticator(await readFile(dir + "/creds/leaf.creds")),
  inboxPrefix: inboxPrefixFor("leaf"),
});
const jsm = await jetstreamManager(leaf);
for (let i = 0; i < 200; i++) {
  const np = (await jsm.streams.info("CHAT_POSTS")).state.messages;
  const nd = (await jsm.streams.info("CHAT_DMS")).state.messages;
  if (np === posts && nd === dms) break;
  await new Promise((r) => setTimeout(r, 50));
}
const p = (await jsm.streams.info("CHAT_POSTS")).state.messages;
const d = (await jsm.streams.info("CHAT_DMS")).state.messages;
if (p !== posts || d !== dms) throw new Error("streams hold " + p + "/" + d);
for (const u of [alice, bob, mallory]) await u.nc.close();
await leaf.close();
console.log(JSON.stringify({
  posts, dms,
  users: { alice: alice.signer.publicKey, bob: bob.signer.publicKey, mallory: mallory.signer.publicKey },
  unregistered: stranger.publicKey,
}));
`;
}
