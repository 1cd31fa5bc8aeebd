// Every role connects through the JWT chain, and the server enforces each role's permissions:
// a table of allowed and denied subjects per role, where a denial is the server's error.
import type { NatsConnection } from "@nats-io/nats-core";
import { probePublish, probeSubscribe, startTestStack, type TestStack } from "@natschat/testing";
import { connectRole, type Role } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
const conns = new Map<Role, NatsConnection>();

beforeAll(async () => {
  stack = await startTestStack();
  for (const role of [
    "sys",
    "push",
    "access",
    "admin",
    "bootstrap",
    "leaf",
    "history",
    "history-api",
  ] as const) {
    conns.set(
      role,
      await connectRole({ servers: stack.urls, credsPath: stack.creds(role), inboxOwner: role }),
    );
  }
});

afterAll(async () => {
  for (const nc of conns.values()) await nc.close();
  await stack?.stop();
});

type Row = [Role, "pub" | "sub", string, "allowed" | "denied"];

const TABLE: Row[] = [
  // bootstrap: public; may only request access and read its own inbox
  ["bootstrap", "pub", "chat.req.access", "allowed"],
  ["bootstrap", "sub", "_INBOX_bootstrap.x", "allowed"],
  ["bootstrap", "pub", "_INBOX_bootstrap.x", "denied"],
  ["bootstrap", "pub", "_INBOX.abc", "denied"],
  ["bootstrap", "pub", "_INBOX_UABC.reply", "denied"],
  ["bootstrap", "sub", "_INBOX.>", "denied"],
  ["bootstrap", "sub", "_INBOX_admin.>", "denied"],
  ["bootstrap", "sub", ">", "denied"],
  ["bootstrap", "pub", "chat.KUBECON.posts.General", "denied"],
  ["bootstrap", "sub", "chat.KUBECON.posts.*", "denied"],
  ["bootstrap", "pub", "chat.req.revoke", "denied"],
  ["bootstrap", "pub", "$JS.API.INFO", "denied"],
  // admin: list and revoke only, separate from the access service
  ["admin", "pub", "chat.req.provisioned", "allowed"],
  ["admin", "pub", "chat.req.revoke", "allowed"],
  ["admin", "sub", "chat.req.provisioned.updates", "allowed"],
  ["admin", "sub", "chat.KUBECON.online.*", "allowed"],
  // inside ADMIN a request is not rewritten by an import: a forged Nats-Request-Info would reach
  // the services as sent, so no user but the services may publish on their subjects
  ["admin", "pub", "chat.svc.history.dms", "denied"],
  ["admin", "pub", "chat.svc.directory.lookup", "denied"],
  ["access", "pub", "chat.svc.history.dms", "denied"],
  ["history-api", "pub", "chat.svc.history.dms", "denied"],
  ["history-api", "sub", "chat.svc.history.posts", "allowed"],
  ["history-api", "sub", "chat.svc.directory.lookup", "denied"],
  ["history-api", "pub", "$JS.API.INFO", "denied"],
  ["history-api", "sub", "_INBOX_history-api.x", "allowed"],
  ["history-api", "sub", "_INBOX_access.>", "denied"],
  // history (CHAT): the writer takes live posts/DMs and alone writes the stores
  ["history", "sub", "chat.KUBECON.posts.*.*", "allowed"],
  ["history", "sub", "chat.KUBECON.dms.*.*", "allowed"],
  ["history", "pub", "chat.store.posts.General.UABC", "allowed"],
  ["history", "pub", "$JS.API.STREAM.INFO.CHAT_POSTS", "allowed"],
  ["history", "pub", "chat.KUBECON.posts.General.UABC", "denied"],
  ["history", "pub", "chat.KUBECON.online.UABC", "denied"],
  ["history", "pub", "_INBOX_UABC.x", "denied"],
  ["history", "sub", "_INBOX_UABC.>", "denied"],
  ["leaf", "pub", "chat.store.posts.General.UABC", "allowed"],
  ["bootstrap", "pub", "chat.store.posts.General.UABC", "denied"],
  ["bootstrap", "pub", "chat.svc.history.posts", "denied"],
  ["access", "sub", "chat.svc.directory.lookup", "allowed"],
  ["access", "sub", "chat.KUBECON.online.*", "allowed"],
  ["admin", "pub", "$SRV.PING", "allowed"],
  ["admin", "sub", "chat.req.access", "denied"],
  ["admin", "sub", "chat.req.revoke", "denied"],
  ["admin", "pub", "chat.req.provisioned.updates", "denied"],
  ["admin", "pub", "$JS.API.STREAM.CREATE.X", "denied"],
  ["admin", "sub", "_INBOX_access.>", "denied"],
  // access service: answers requests, owns the registry, follows presence
  ["access", "sub", "chat.req.access", "allowed"],
  ["access", "sub", "chat.req.revoke", "allowed"],

  ["access", "pub", "chat.req.provisioned.updates", "allowed"],
  ["access", "pub", "$JS.API.INFO", "allowed"],
  ["access", "pub", "chat.req.revoke", "denied"],
  ["access", "sub", "_INBOX_admin.>", "denied"],
  ["access", "pub", "$SYS.REQ.CLAIMS.UPDATE", "denied"],
  // push (SYS): account JWT updates, server pings and their JetStream state only
  ["push", "pub", "$SYS.REQ.CLAIMS.UPDATE", "allowed"],
  ["push", "pub", "$SYS.REQ.ACCOUNT.AXYZ.CLAIMS.LOOKUP", "allowed"],
  ["push", "pub", "$SYS.REQ.SERVER.PING", "allowed"],
  ["push", "pub", "$SYS.REQ.SERVER.PING.JSZ", "allowed"],
  ["push", "sub", "$SYS.>", "denied"],
  ["push", "pub", "$SYS.REQ.SERVER.PING.CONNZ", "denied"],
  ["push", "pub", "$SYS.REQ.ACCOUNT.AXYZ.CONNZ", "denied"],
  // sys: unrestricted within SYS
  ["sys", "sub", "$SYS.>", "allowed"],
];

describe("role permissions enforced by nats-server", () => {
  it("every role connects through the operator → account → user chain", async () => {
    for (const [role, nc] of conns) {
      await nc.flush();
      expect(nc.isClosed(), role).toBe(false);
    }
  });

  it.each(TABLE)("%s %s %s is %s", async (role, op, subject, expected) => {
    const nc = conns.get(role) as NatsConnection;
    const verdict =
      op === "pub" ? await probePublish(nc, subject) : await probeSubscribe(nc, subject);
    expect(verdict).toBe(expected);
  });

  it("a bootstrap holder cannot inject a reply into another bootstrap holder's request", async () => {
    const victim = conns.get("bootstrap") as NatsConnection;
    const attacker = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("bootstrap"),
      inboxOwner: "bootstrap",
    });
    try {
      const inbox = `_INBOX_bootstrap.victim-${Date.now()}`;
      const sub = victim.subscribe(inbox, { max: 1 });
      await victim.flush();
      expect(await probePublish(attacker, inbox)).toBe("denied");
      // nothing arrived at the victim's inbox
      await victim.flush();
      expect(sub.getProcessed()).toBe(0);
      sub.unsubscribe();
    } finally {
      await attacker.close();
    }
  });
});
