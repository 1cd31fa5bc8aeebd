// The permission matrix: every role against every subject class, publish and subscribe, with
// the verdict taken from nats-server itself (a publish violation it reports, a subscription it
// closes), not from what our clients choose to do. Roles: the public bootstrap user, a chat user,
// the access service, the admin, the pusher (SYS), sys, and the leaf binding. Each role is
// probed in its own account; "another's" inbox or DMs belong to another identity. Security
// properties 2 and 4 of DESIGN.md; a permission widened in packages/trust makes a row fail.
import type { NatsConnection } from "@nats-io/nats-core";
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

type Role = "bootstrap" | "chat user" | "access" | "admin" | "push" | "sys" | "leaf";
type Verdict = "allowed" | "denied";

let stack: TestStack;
let alice: MintedUser;
let bob: MintedUser;
const conns = new Map<Role, NatsConnection>();

/** The identity whose inbox/DMs count as "own" for a role (a chat user: alice). */
const self = (role: Role) => (role === "chat user" ? alice.publicKey : role);
/** Someone else: bob for the chat user, alice for every role. */
const other = (role: Role) => (role === "chat user" ? bob.publicKey : alice.publicKey);

/** A subject class: a name, and the concrete subject for a role. */
type SubjectClass = [name: string, subject: (role: Role) => string];

const CLASSES: SubjectClass[] = [
  ["access request", () => "chat.req.access"],
  ["registry list", () => "chat.req.provisioned"],
  ["registry updates", () => "chat.req.provisioned.updates"],
  ["revoke", () => "chat.req.revoke"],
  ["presence", () => "chat.KUBECON.online"],
  ["channel posts", () => "chat.KUBECON.posts.General"],
  ["own DMs", (r) => `chat.KUBECON.dms.${r === "chat user" ? alice.publicKey : bob.publicKey}`],
  ["another's DMs", (r) => `chat.KUBECON.dms.${other(r)}`],
  ["own inbox", (r) => `${inboxPrefixFor(self(r))}.x`],
  ["another's inbox", (r) => `${inboxPrefixFor(other(r))}.x`],
  ["plain _INBOX", () => "_INBOX.x"],
  [
    "history: read a channel",
    () => "$JS.API.CONSUMER.CREATE.CHAT_POSTS.c.chat.KUBECON.posts.General",
  ],
  [
    "history: read own DMs",
    (r) =>
      `$JS.API.CONSUMER.CREATE.CHAT_DMS.c.chat.KUBECON.dms.${r === "chat user" ? alice.publicKey : bob.publicKey}`,
  ],
  [
    "history: read another's DMs",
    (r) => `$JS.API.CONSUMER.CREATE.CHAT_DMS.c.chat.KUBECON.dms.${other(r)}`,
  ],
  ["history: stream info", () => "$JS.API.STREAM.INFO.CHAT_POSTS"],
  ["stream create", () => "$JS.API.STREAM.CREATE.CHAT_POSTS"],
  ["stream update", () => "$JS.API.STREAM.UPDATE.CHAT_POSTS"],
  ["stream delete", () => "$JS.API.STREAM.DELETE.CHAT_POSTS"],
  ["stream purge", () => "$JS.API.STREAM.PURGE.CHAT_POSTS"],
  ["message delete", () => "$JS.API.STREAM.MSG.DELETE.CHAT_POSTS"],
  ["registry bucket write", () => "$KV.natschat-users.matrix-probe"],
  ["service discovery", () => "$SRV.PING"],
  ["account JWT update", () => "$SYS.REQ.CLAIMS.UPDATE"],
  ["system events", () => "$SYS.ACCOUNT.x.CONNECT"],
  ["everything", () => ">"],
];

// The expected verdicts: pub then sub, one letter each (a: allowed, d: denied, -: not probed,
// for a publish to ">" which is not a subject).
const EXPECTED: Record<Role, Record<string, string>> = {
  bootstrap: {
    "access request": "ad",
    "registry list": "dd",
    "registry updates": "dd",
    revoke: "dd",
    presence: "dd",
    "channel posts": "dd",
    "own DMs": "dd",
    "another's DMs": "dd",
    "own inbox": "da",
    "another's inbox": "dd",
    "plain _INBOX": "dd",
    "history: read a channel": "dd",
    "history: read own DMs": "dd",
    "history: read another's DMs": "dd",
    "history: stream info": "dd",
    "stream create": "dd",
    "stream update": "dd",
    "stream delete": "dd",
    "stream purge": "dd",
    "message delete": "dd",
    "registry bucket write": "dd",
    "service discovery": "dd",
    "account JWT update": "dd",
    "system events": "dd",
    everything: "-d",
  },
  "chat user": {
    "access request": "ad",
    "registry list": "dd",
    "registry updates": "dd",
    revoke: "dd",
    presence: "aa",
    "channel posts": "aa",
    "own DMs": "aa",
    "another's DMs": "ad",
    "own inbox": "da",
    "another's inbox": "dd",
    "plain _INBOX": "dd",
    "history: read a channel": "ad",
    "history: read own DMs": "ad",
    "history: read another's DMs": "dd",
    "history: stream info": "ad",
    "stream create": "dd",
    "stream update": "dd",
    "stream delete": "dd",
    "stream purge": "dd",
    "message delete": "dd",
    "registry bucket write": "dd",
    "service discovery": "dd",
    "account JWT update": "dd",
    "system events": "dd",
    everything: "-d",
  },
  access: {
    "access request": "da",
    "registry list": "da",
    "registry updates": "ad",
    revoke: "da",
    presence: "da",
    "channel posts": "dd",
    "own DMs": "dd",
    "another's DMs": "dd",
    "own inbox": "aa",
    "another's inbox": "dd",
    "plain _INBOX": "dd",
    // JetStream in its own account (ADMIN), where the registry bucket lives
    "history: read a channel": "ad",
    "history: read own DMs": "ad",
    "history: read another's DMs": "ad",
    "history: stream info": "ad",
    "stream create": "ad",
    "stream update": "ad",
    "stream delete": "ad",
    "stream purge": "ad",
    "message delete": "ad",
    "registry bucket write": "ad",
    "service discovery": "aa",
    "account JWT update": "dd",
    "system events": "dd",
    everything: "-d",
  },
  admin: {
    "access request": "dd",
    "registry list": "ad",
    "registry updates": "da",
    revoke: "ad",
    presence: "da",
    "channel posts": "dd",
    "own DMs": "dd",
    "another's DMs": "dd",
    "own inbox": "da",
    "another's inbox": "dd",
    "plain _INBOX": "dd",
    "history: read a channel": "dd",
    "history: read own DMs": "dd",
    "history: read another's DMs": "dd",
    "history: stream info": "dd",
    "stream create": "dd",
    "stream update": "dd",
    "stream delete": "dd",
    "stream purge": "dd",
    "message delete": "dd",
    "registry bucket write": "dd",
    "service discovery": "ad",
    "account JWT update": "dd",
    "system events": "dd",
    everything: "-d",
  },
  push: {
    "access request": "dd",
    "registry list": "dd",
    "registry updates": "dd",
    revoke: "dd",
    presence: "dd",
    "channel posts": "dd",
    "own DMs": "dd",
    "another's DMs": "dd",
    "own inbox": "da",
    "another's inbox": "dd",
    "plain _INBOX": "dd",
    "history: read a channel": "dd",
    "history: read own DMs": "dd",
    "history: read another's DMs": "dd",
    "history: stream info": "dd",
    "stream create": "dd",
    "stream update": "dd",
    "stream delete": "dd",
    "stream purge": "dd",
    "message delete": "dd",
    "registry bucket write": "dd",
    "service discovery": "dd",
    "account JWT update": "ad",
    "system events": "dd",
    everything: "-d",
  },
  // unrestricted inside their own account: SYS has no chat subjects; the leaf binding is the
  // whole CHAT account (its creds belong in an edge server's Secret, nowhere else)
  sys: Object.fromEntries(CLASSES.map(([n]) => [n, n === "everything" ? "-a" : "aa"])),
  leaf: Object.fromEntries(CLASSES.map(([n]) => [n, n === "everything" ? "-a" : "aa"])),
};

const ROLE_CREDS: Record<Exclude<Role, "chat user">, string> = {
  bootstrap: "bootstrap",
  access: "access",
  admin: "admin",
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
    expect(ROWS.length).toBe(7 * CLASSES.length * 2 - 7);
  });

  it.each(ROWS)("%s × %s: %s is %s", async (role, name, op, expected) => {
    const nc = conns.get(role) as NatsConnection;
    const subject = (CLASSES.find(([n]) => n === name) as SubjectClass)[1](role);
    const verdict =
      op === "pub" ? await probePublish(nc, subject) : await probeSubscribe(nc, subject);
    expect(verdict, `${role} ${op} ${subject}`).toBe(expected);
  });
});
