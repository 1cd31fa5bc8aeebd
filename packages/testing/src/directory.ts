// Test support: a stand-in for the access service's directory (chat.svc.directory.lookup and
// .online), answering on the ADMIN side as the `access` role does, from the users a test
// registers with it (minted users, not the registry's). It answers the wire shape of
// directory-wire.ts: `{"keys":[…]}` → `{"users":{"U…":{"name","jwt","revoked"?}}}`, unknown keys
// absent. Presence is the real thing: it verifies the registered users' heartbeats and runs
// the access service's own OnlineSet (the online bucket and the presence feed) on them.
import type { NatsConnection } from "@nats-io/nats-core";
import { OnlineSet, silentLogger } from "@natschat/access";
import {
  DIRECTORY_LOOKUP_SUBJECT,
  DIRECTORY_ONLINE_SUBJECT,
  EnvelopeVerifier,
  encodeOnlineReply,
  ONLINE_WILDCARD,
  PRESENCE_INTERVAL_SECONDS,
  PRESENCE_TYPE,
  parseOnlineQuery,
} from "@natschat/protocol";
import { connectRole } from "@natschat/trust";
import type { TestStack } from "./stack.ts";
import type { MintedUser } from "./users.ts";

/** A running stand-in directory. */
export interface TestDirectory {
  /** Makes `user` known under its issued name (and JWT). */
  register(user: MintedUser, opts?: { revoked?: boolean }): void;
  /** Keys asked for, per request. */
  readonly requests: string[][];
  /** The online set it keeps. */
  readonly online: OnlineSet;
  stop(): Promise<void>;
}

/** Starts the stand-in on the stack's ADMIN account (access role creds). */
export async function startTestDirectory(
  stack: Pick<TestStack, "urls" | "creds" | "caFile">,
  opts: { presencePeriodMs?: number } = {},
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
  const online = await OnlineSet.open(nc, {
    log: silentLogger,
    periodMs: opts.presencePeriodMs ?? PRESENCE_INTERVAL_SECONDS * 1000,
  });
  await online.ready;
  online.start();
  const verifier = new EnvelopeVerifier();
  nc.subscribe(ONLINE_WILDCARD, {
    callback: (_err, m) => {
      void verifier.verify(m.data, { subject: m.subject }).then((r) => {
        if (!r.ok || r.envelope.type !== PRESENCE_TYPE) return;
        const u = users.get(r.envelope.iss);
        if (!u || u.revoked) return;
        online.heartbeat(r.envelope.iss, u.name, r.envelope.exp <= r.envelope.iat);
      });
    },
  });
  nc.subscribe(DIRECTORY_ONLINE_SUBJECT, {
    queue: "natschat-access",
    callback: (_err, m) => {
      const q = parseOnlineQuery(m.string());
      m.respond(encodeOnlineReply(online.page(q.after, q.limit)));
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
      if (opts.revoked) void online.remove(user.publicKey);
    },
    requests,
    online,
    stop: async () => {
      await online.stop();
      await nc.close();
    },
  };
}
