// Forging Nats-Request-Info (found by an attack run after issue 10 landed). nats-server 2.10.27
// replaces a requester's own copy only when it is the first header line of that name; sent twice,
// or after another header whose value holds the name, the forged copy stays, before the server's.
// The services took the first: mallory read alice's DMs, and registered past the per-address
// limit with a new forged address on every request. Now a request with more than one copy is
// refused. Checked through the real imports of a real server.
import type { NatsConnection } from "@nats-io/nats-core";
import { headers } from "@nats-io/nats-core";
import {
  type AccessService,
  resolveAccessConfig,
  silentLogger,
  startAccessService,
} from "@natschat/access";
import {
  ACCESS_ERROR_HEADER,
  ACCESS_SUBJECT,
  encodeAccessRequest,
  encodeHistoryDmsRequest,
  HISTORY_DMS_SUBJECT,
  newUserSigner,
  parseHistoryReply,
  REQUEST_INFO_HEADER,
} from "@natschat/protocol";
import type { MintedUser } from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttackStack, aliceDmsBob, connectUser, startAttackStack } from "../src/mod.ts";

let s: AttackStack;
let alice: MintedUser;
let mallory: MintedUser;
let m: NatsConnection;
let chatAccount: string;
let access: AccessService;

beforeAll(async () => {
  s = await startAttackStack();
  access = await startAccessService({
    ...(await resolveAccessConfig({ flags: {}, env: {}, dir: s.stack.dir })),
    servers: s.stack.urls,
    replicaId: "attack",
    log: silentLogger,
  });
  chatAccount = s.stack.trust.summary.accounts.CHAT.publicKey;
  ({ alice, mallory } = await aliceDmsBob(s, "secret for bob"));
  m = await connectUser(s.stack, mallory);
}, 60_000);

afterAll(async () => {
  await m?.close();
  await access?.stop();
  await s?.stop();
});

/** The ways a requester got its own copy past the server's replacement. */
const forgeries: [string, (h: ReturnType<typeof headers>, forged: string) => void][] = [
  [
    "sent twice",
    (h, forged) => {
      h.append(REQUEST_INFO_HEADER, forged);
      h.append(REQUEST_INFO_HEADER, forged);
    },
  ],
  [
    "after a decoy header that names it",
    (h, forged) => {
      h.set("X-Decoy", REQUEST_INFO_HEADER);
      h.set(REQUEST_INFO_HEADER, forged);
    },
  ],
];

describe("a forged Nats-Request-Info", () => {
  for (const [how, forge] of forgeries) {
    it(`${how}: reads nothing of another user's DMs`, async () => {
      const h = headers();
      forge(h, JSON.stringify({ acc: chatAccount, user: alice.publicKey, kind: "Client" }));
      const r = await m.request(HISTORY_DMS_SUBJECT, encodeHistoryDmsRequest({}), {
        headers: h,
        timeout: 5000,
      });
      const reply = parseHistoryReply({
        data: r.data,
        header: (k) => r.headers?.get(k) || undefined,
      });
      expect(r.string()).not.toContain(alice.publicKey);
      expect(reply.ok ? reply.value.messages.length : reply.code).toBe("NO_IDENTITY");
    });

    it(`${how}: registers no name under a made-up address`, async () => {
      const boot = await connectRole({
        servers: s.stack.urls,
        credsPath: s.stack.creds("bootstrap"),
        inboxOwner: "bootstrap",
      });
      try {
        const { signer } = await newUserSigner();
        const h = headers();
        forge(h, JSON.stringify({ acc: chatAccount, user: signer.publicKey, host: "10.66.0.1" }));
        const r = await boot.request(
          ACCESS_SUBJECT,
          await encodeAccessRequest(signer, `sybil-${how.length}`),
          { headers: h, timeout: 5000 },
        );
        expect(r.headers?.get(ACCESS_ERROR_HEADER)).toBe("BAD_REQUEST");
        expect(r.string()).toMatch(/only the server may set it/);
      } finally {
        await boot.close();
      }
    });
  }
});
