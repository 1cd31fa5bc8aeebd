// The permission matrix: every role against every subject class, publish and subscribe, with
// the verdict taken from nats-server itself (a publish violation it reports, a subscription it
// closes), not from what our clients choose to do. Roles: the public bootstrap user, a chat user,
// the access service, the admin, the history writer (CHAT) and readers (ADMIN), the pusher (SYS),
// sys, and the leaf binding. Each role is probed in its own account; "self" is the chat user
// alice, "another" is bob. Security properties 2, 3 and 4 of DESIGN.md, protocol v3 (issue 10):
// a chat user publishes only under its own key and holds no $JS.API subject at all; history and
// the directory are services it reaches through CHAT's share:true imports. A permission widened
// in packages/trust makes a row fail.
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { createUser } from "@nats-io/nkeys";
import { inboxPrefixFor } from "@natschat/protocol";
import {
  type MintedUser,
  mintChatUser,
  probePublish,
  probeSubscribe,
  startTestStack,
  type TestStack,
} from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type Role =
  | "bootstrap"
  | "chat user"
  | "access"
  | "admin"
  | "history"
  | "history-api"
  | "push"
  | "sys"
  | "leaf";
type Verdict = "allowed" | "denied";

let stack: TestStack;
let alice: MintedUser;
let bob: MintedUser;
/** A third key, for DMs between two others. */
const carol = createUser().getPublicKey();
const conns = new Map<Role, NatsConnection>();

/** The identity whose inbox counts as "own" for a role (a chat user: alice). */
const self = (role: Role) => (role === "chat user" ? alice.publicKey : role);
/** Someone else: bob for the chat user, alice for every role. */
const other = (role: Role) => (role === "chat user" ? bob.publicKey : alice.publicKey);
const A = () => alice.publicKey;
const B = () => bob.publicKey;

/** A subject class: a name, and the concrete subject for a role. */
type SubjectClass = [name: string, subject: (role: Role) => string];

const CLASSES: SubjectClass[] = [
  ["access request", () => "chat.req.access"],
  ["registry list", () => "chat.req.provisioned"],
  ["registry updates", () => "chat.req.provisioned.updates"],
  ["revoke", () => "chat.req.revoke"],
  ["presence as self", () => `chat.KUBECON.online.${A()}`],
  ["presence as another", () => `chat.KUBECON.online.${B()}`],
  ["presence, everyone", () => "chat.KUBECON.online.*"],
  ["presence feed", () => "chat.KUBECON.presence.>"],
  ["presence change", () => `chat.KUBECON.presence.change.${A()}`],
  ["presence tick", () => "chat.KUBECON.presence.tick"],
  ["post as self", () => `chat.KUBECON.posts.General.${A()}`],
  ["post as another", () => `chat.KUBECON.posts.General.${B()}`],
  ["posts, everyone", () => "chat.KUBECON.posts.*.*"],
  ["DM as self", () => `chat.KUBECON.dms.${B()}.${A()}`],
  ["DM as another, to self", () => `chat.KUBECON.dms.${A()}.${B()}`],
  ["DMs to self", () => `chat.KUBECON.dms.${A()}.*`],
  ["DMs sent by self", () => `chat.KUBECON.dms.*.${A()}`],
  ["DM between others", () => `chat.KUBECON.dms.${B()}.${carol}`],
  ["another's DMs", () => `chat.KUBECON.dms.${B()}.*`],
  ["v2 presence", () => "chat.KUBECON.online"],
  ["v2 posts", () => "chat.KUBECON.posts.General"],
  ["v2 DMs", () => `chat.KUBECON.dms.${A()}`],
  // issue 13: events and typing go to the history service only; what it publishes back (channel
  // updates, relayed typing, private feeds) no user may publish
  ["event as self", () => `chat.KUBECON.events.posts.General.${A()}`],
  ["event as another", () => `chat.KUBECON.events.dms.${A()}.${B()}`],
  ["events, everyone", () => "chat.KUBECON.events.>"],
  ["typing as self", () => `chat.KUBECON.typing.posts.General.${A()}`],
  ["typing as another", () => `chat.KUBECON.typing.posts.General.${B()}`],
  ["typing, everyone", () => "chat.KUBECON.typing.>"],
  ["channel updates", () => "chat.KUBECON.updates.posts.General"],
  ["relayed typing", () => `chat.KUBECON.typers.posts.General.${B()}`],
  ["own private feed", () => `chat.KUBECON.user.${A()}.read`],
  ["another's private feed", () => `chat.KUBECON.user.${B()}.updates`],
  ["moderation", () => "chat.mod.remove"],
  ["state bucket write", () => "$KV.natschat-state.matrix-probe"],
  ["read-state bucket write", () => "$KV.natschat-read.matrix-probe"],
  ["stored posts", () => `chat.store.posts.General.${A()}`],
  ["stored DMs", () => `chat.store.dms.${B()}.${A()}`],
  ["history service", () => "chat.svc.history.dms"],
  ["directory service", () => "chat.svc.directory.lookup"],
  ["own inbox", (r) => `${inboxPrefixFor(self(r))}.x`],
  ["another's inbox", (r) => `${inboxPrefixFor(other(r))}.x`],
  ["plain _INBOX", () => "_INBOX.x"],
  ["JetStream API", () => "$JS.API.INFO"],
  ["consumer create", () => "$JS.API.CONSUMER.CREATE.CHAT_POSTS.c.chat.store.posts.General.*"],
  ["direct get", () => "$JS.API.DIRECT.GET.CHAT_DMS"],
  ["stream info", () => "$JS.API.STREAM.INFO.CHAT_DMS"],
  ["stream create", () => "$JS.API.STREAM.CREATE.CHAT_POSTS"],
  ["stream update", () => "$JS.API.STREAM.UPDATE.CHAT_POSTS"],
  ["stream delete", () => "$JS.API.STREAM.DELETE.CHAT_POSTS"],
  ["stream purge", () => "$JS.API.STREAM.PURGE.CHAT_POSTS"],
  ["message delete", () => "$JS.API.STREAM.MSG.DELETE.CHAT_POSTS"],
  ["quota bucket write", () => "$KV.natschat-quota.matrix-probe"],
  ["registry bucket write", () => "$KV.natschat-users.matrix-probe"],
  ["online bucket write", () => "$KV.natschat-online.matrix-probe"],
  ["service discovery", () => "$SRV.PING"],
  ["account JWT update", () => "$SYS.REQ.CLAIMS.UPDATE"],
  ["system events", () => "$SYS.ACCOUNT.x.CONNECT"],
  ["everything", () => ">"],
];

/** Classes that are wildcards: a publish to them is not a subject, so only sub is probed. */
const SUB_ONLY = new Set([
  "presence, everyone",
  "presence feed",
  "posts, everyone",
  "DMs to self",
  "DMs sent by self",
  "another's DMs",
  "events, everyone",
  "typing, everyone",
  "everything",
]);

/** Every class denied both ways, then the exceptions (pub then sub: a allowed, d denied, - not probed). */
function row(except: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    CLASSES.map(([n]) => [n, except[n] ?? (SUB_ONLY.has(n) ? "-d" : "dd")]),
  );
}

const JETSTREAM = [
  "JetStream API",
  "consumer create",
  "direct get",
  "stream info",
  "stream create",
  "stream update",
  "stream delete",
  "stream purge",
  "message delete",
];

const EXPECTED: Record<Role, Record<string, string>> = {
  bootstrap: row({ "access request": "ad", "own inbox": "da" }),
  // bound to its own key; no JetStream; history and the directory only as services; presence
  // from the directory's feed, never everyone's heartbeats (issue 12), and it may not forge the
  // feed
  "chat user": row({
    "access request": "ad",
    "presence as self": "ad",
    "presence feed": "-a",
    "presence change": "da",
    "presence tick": "da",
    "post as self": "aa",
    "post as another": "da",
    "posts, everyone": "-a",
    "DM as self": "aa",
    "DM as another, to self": "da",
    "DMs to self": "-a",
    "DMs sent by self": "-a",
    "history service": "ad",
    "directory service": "ad",
    "own inbox": "da",
    "event as self": "ad",
    "typing as self": "ad",
    "channel updates": "da",
    "relayed typing": "da",
    "own private feed": "da",
  }),
  access: row({
    "access request": "da",
    "registry list": "da",
    "registry updates": "ad",
    revoke: "da",
    "presence as self": "da",
    "presence as another": "da",
    "presence, everyone": "-a",
    "directory service": "da",
    "own inbox": "aa",
    // JetStream in its own account (ADMIN), where the registry and online buckets live; the feed's
    // changes are the online bucket's republish, so it publishes only the tick itself
    ...Object.fromEntries(JETSTREAM.map((n) => [n, "ad"])),
    "registry bucket write": "ad",
    "online bucket write": "ad",
    "presence tick": "ad",
    "service discovery": "aa",
  }),
  // may not publish on chat.svc.>: inside ADMIN no import rewrites Nats-Request-Info
  admin: row({
    "registry list": "ad",
    "registry updates": "da",
    revoke: "ad",
    "presence as self": "da",
    "presence as another": "da",
    "presence, everyone": "-a",
    "own inbox": "da",
    "service discovery": "ad",
    moderation: "ad",
  }),
  // the writer (CHAT): takes live posts and DMs, alone writes the stores
  history: row({
    "post as self": "da",
    "post as another": "da",
    "posts, everyone": "-a",
    "DM as self": "da",
    "DM as another, to self": "da",
    "DMs to self": "-a",
    "DMs sent by self": "-a",
    "DM between others": "da",
    "another's DMs": "-a",
    "stored posts": "ad",
    "stored DMs": "ad",
    "own inbox": "aa",
    "event as self": "da",
    "event as another": "da",
    "events, everyone": "-a",
    "typing as self": "da",
    "typing as another": "da",
    "typing, everyone": "-a",
    "channel updates": "ad",
    "relayed typing": "ad",
    "own private feed": "ad",
    "another's private feed": "ad",
    "state bucket write": "ad",
    "read-state bucket write": "ad",
    ...Object.fromEntries(JETSTREAM.map((n) => [n, "ad"])),
    // it never removes anything
    "stream delete": "dd",
    "stream purge": "dd",
    "message delete": "dd",
    "quota bucket write": "ad",
  }),
  // the readers (ADMIN): serve chat.svc.history.*, read the stores through the writer's account
  "history-api": row({
    "history service": "da",
    moderation: "da",
    "own inbox": "aa",
    "service discovery": "aa",
  }),
  push: row({ "own inbox": "da", "account JWT update": "ad" }),
  // unrestricted inside their own account: SYS has no chat subjects; the leaf binding is the
  // whole CHAT account (its creds belong in an edge server's Secret, nowhere else)
  sys: Object.fromEntries(CLASSES.map(([n]) => [n, SUB_ONLY.has(n) ? "-a" : "aa"])),
  leaf: Object.fromEntries(CLASSES.map(([n]) => [n, SUB_ONLY.has(n) ? "-a" : "aa"])),
};

const ROLE_CREDS: Record<Exclude<Role, "chat user">, string> = {
  bootstrap: "bootstrap",
  access: "access",
  admin: "admin",
  history: "history",
  "history-api": "history-api",
  push: "push",
  sys: "sys",
  leaf: "leaf",
};

beforeAll(async () => {
  stack = await startTestStack();
  [alice, bob] = await Promise.all([
    mintChatUser(stack.dir, "alice"),
    mintChatUser(stack.dir, "bob"),
  ]);
  for (const [role, creds] of Object.entries(ROLE_CREDS) as [Role, string][]) {
    conns.set(
      role,
      await connectRole({ servers: stack.urls, credsPath: stack.creds(creds), inboxOwner: creds }),
    );
  }
  const { connect } = await import("@nats-io/transport-node");
  const { credsAuthenticator } = await import("@nats-io/nats-core");
  conns.set(
    "chat user",
    await connect({
      servers: stack.urls,
      authenticator: credsAuthenticator(new TextEncoder().encode(alice.creds)),
      inboxPrefix: inboxPrefixFor(alice.publicKey),
    }),
  );
});

afterAll(async () => {
  for (const nc of conns.values()) await nc.close().catch(() => undefined);
  await stack?.stop();
});

const ROWS: [Role, string, "pub" | "sub", Verdict][] = [];
for (const role of Object.keys(EXPECTED) as Role[]) {
  for (const [name] of CLASSES) {
    const v = EXPECTED[role][name];
    if (v === undefined) throw new Error(`no expectation for ${role} × ${name}`);
    const [pub, sub] = v.split("") as [string, string];
    if (pub !== "-") ROWS.push([role, name, "pub", pub === "a" ? "allowed" : "denied"]);
    ROWS.push([role, name, "sub", sub === "a" ? "allowed" : "denied"]);
  }
}

describe("permission matrix: every role × every subject class (verdicts by nats-server)", () => {
  it("has a row for every role, subject class and operation", () => {
    const roles = Object.keys(EXPECTED).length;
    expect(roles).toBe(9);
    expect(ROWS.length).toBe(roles * (CLASSES.length * 2 - SUB_ONLY.size));
  });

  it.each(ROWS)("%s × %s: %s is %s", async (role, name, op, expected) => {
    const nc = conns.get(role) as NatsConnection;
    const subject = (CLASSES.find(([n]) => n === name) as SubjectClass)[1](role);
    const verdict =
      op === "pub" ? await probePublish(nc, subject) : await probeSubscribe(nc, subject);
    expect(verdict, `${role} ${op} ${subject}`).toBe(expected);
  });
});

describe("Nats-Request-Info through CHAT's share:true service imports", () => {
  it("the responder in ADMIN sees the requester the server authenticated, not a forged header", async () => {
    // the history-api role answers on chat.svc.history.>; here it echoes the header it got
    const api = conns.get("history-api") as NatsConnection;
    const sub = api.subscribe("chat.svc.history.echo", {
      callback: (_e, m) => {
        m.respond(m.headers?.get("Nats-Request-Info") ?? "none");
      },
    });
    await api.flush();
    try {
      const user = conns.get("chat user") as NatsConnection;
      const forged = headers();
      forged.set(
        "Nats-Request-Info",
        JSON.stringify({ acc: stack.trust.summary.accounts.CHAT.publicKey, user: bob.publicKey }),
      );
      for (const opts of [{}, { headers: forged }]) {
        const r = await user.request("chat.svc.history.echo", "", { timeout: 5000, ...opts });
        const info = JSON.parse(r.string()) as { acc?: string; user?: string };
        expect(info.acc).toBe(stack.trust.summary.accounts.CHAT.publicKey);
        expect(info.user).toBe(alice.publicKey); // the server's value, never bob's
      }
    } finally {
      sub.unsubscribe();
    }
  });
});
