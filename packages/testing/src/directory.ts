// Test support: a stand-in for the access service's directory endpoint
// (chat.svc.directory.lookup), answering on the ADMIN side as the `access` role does, from the
// users a test registers with it. It answers the wire shape of PLAN.md / directory-wire.ts:
// `{"keys":[…]}` → `{"users":{"U…":{"name","jwt","revoked"?}}}`, unknown keys absent.
import type { NatsConnection } from "@nats-io/nats-core";
import { DIRECTORY_LOOKUP_SUBJECT } from "@natschat/protocol";
import { connectRole } from "@natschat/trust";
import type { TestStack } from "./stack.ts";
import type { MintedUser } from "./users.ts";

/** A running stand-in directory. */
export interface TestDirectory {
  /** Makes `user` known under its issued name (and JWT). */
  register(user: MintedUser, opts?: { revoked?: boolean }): void;
  /** Keys asked for, per request. */
  readonly requests: string[][];
  stop(): Promise<void>;
}

/** Starts the stand-in on the stack's ADMIN account (access role creds). */
export async function startTestDirectory(
  stack: Pick<TestStack, "urls" | "creds" | "caFile">,
): Promise<TestDirectory> {
  const nc: NatsConnection = await connectRole({
    servers: stack.urls,
    credsPath: stack.creds("access"),
    inboxOwner: "access",
    tlsCaFile: stack.caFile,
  });
  const users = new Map<string, { name: string; jwt: string; revoked?: true }>();
  const requests: string[][] = [];
  nc.subscribe(DIRECTORY_LOOKUP_SUBJECT, {
    queue: "natschat-access",
    callback: (_err, m) => {
      const { keys } = m.json<{ keys: string[] }>();
      requests.push(keys);
      const found = Object.fromEntries(
        keys.flatMap((k) => {
          const u = users.get(k);
          return u ? [[k, u]] : [];
        }),
      );
      m.respond(JSON.stringify({ users: found }));
    },
  });
  await nc.flush();
  return {
    register(user, opts = {}) {
      users.set(user.publicKey, {
        name: user.name,
        jwt: user.jwt,
        ...(opts.revoked ? { revoked: true as const } : {}),
      });
    },
    requests,
    stop: () => nc.close(),
  };
}
