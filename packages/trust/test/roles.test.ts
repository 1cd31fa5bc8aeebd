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
  for (const role of ["sys", "push", "access", "admin", "bootstrap", "leaf"] as const) {
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
  ["admin", "sub", "chat.KUBECON.online", "allowed"],
  ["admin", "pub", "$SRV.PING", "allowed"],
  ["admin", "sub", "chat.req.access", "denied"],
  ["admin", "sub", "chat.req.revoke", "denied"],
  ["admin", "pub", "chat.req.provisioned.updates", "denied"],
  ["admin", "pub", "$JS.API.STREAM.CREATE.X", "denied"],
  ["admin", "sub", "_INBOX_access.>", "denied"],
  // access service: answers requests, owns the registry, follows presence
  ["access", "sub", "chat.req.access", "allowed"],
  ["access", "sub", "chat.req.revoke", "allowed"],
  ["access", "sub", "chat.KUBECON.online", "allowed"],
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
