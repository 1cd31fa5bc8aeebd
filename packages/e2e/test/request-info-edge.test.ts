// What a service in ADMIN learns from Nats-Request-Info when a chat user asks from a leaf edge.
// The edge has an ADMIN leafnode remote, so it applies CHAT's share:true import itself and the
// service sees the user (kind "Client"). The CHAT remote does not carry the imported service
// subjects (deny_exports), so no copy crosses the import again at the hub, where the server could
// only name the link (kind "Leafnode"); a service drops such a copy should one come
// (protocol/request-info.ts). Without the ADMIN remote only the link's copy arrives (checked
// when this test was written: the user's DMs were then read as the link's).
import type { NatsConnection } from "@nats-io/nats-core";
import {
  HISTORY_DMS_SUBJECT,
  type RequestInfo,
  relayedByLeafnode,
  requestInfoOf,
} from "@natschat/protocol";
import { connectChatUser, mintChatUser, startTestStack, type TestStack } from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let responder: NatsConnection;
const seen: RequestInfo[] = [];

beforeAll(async () => {
  stack = await startTestStack({ topology: "leaf" });
  const hub = stack.topology.servers.filter((s) => s.spec.region !== "edge").map((s) => s.url);
  // stands where the history readers stand: the history-api role in ADMIN, on the hub
  responder = await connectRole({
    servers: hub,
    credsPath: stack.creds("history-api"),
    inboxOwner: "history-api",
  });
  responder.subscribe(HISTORY_DMS_SUBJECT, {
    queue: "probe",
    callback: (_e, m) => {
      const info = requestInfoOf(m.headers);
      if (info) seen.push(info);
      if (!relayedByLeafnode(info)) m.respond(JSON.stringify(info ?? {}));
    },
  });
  await responder.flush();
}, 120_000);

afterAll(async () => {
  await responder?.close();
  await stack?.stop();
});

describe("Nats-Request-Info names the user, wherever the user connects", () => {
  for (const where of ["hub", "edge"] as const) {
    it(`from the ${where}`, async () => {
      seen.length = 0;
      const server = stack.topology.servers.at(where === "hub" ? 0 : -1) as { url: string };
      const user = await mintChatUser(stack.dir, `probe-${where}`);
      const nc = await connectChatUser({ urls: [server.url] }, user);
      try {
        // the edge learns the hub's interest over its links a moment after the stack is up
        let reply: RequestInfo | undefined;
        for (let i = 0; i < 50 && !reply; i++) {
          reply = await nc
            .request(HISTORY_DMS_SUBJECT, "{}", { timeout: 1000 })
            .then((m) => m.json<RequestInfo>())
            .catch(() => undefined);
        }
        expect(reply).toMatchObject({ user: user.publicKey, kind: "Client" });
        // every copy the service took as the user's names the user; a link's copy names the link
        for (const info of seen.filter((i) => !relayedByLeafnode(i))) {
          expect(info.user).toBe(user.publicKey);
        }
      } finally {
        await nc.close();
      }
    });
  }
});
