// Issue 11 (6, 7, 8): registration is bounded per client address, the address comes from the
// server (Nats-Request-Info through CHAT's import with share: true), junk costs only its sender's
// budget, refusals are counted by reason in $SRV.STATS, and the limits hold for the whole service
// when two replicas share the queue group. Clients come from distinct loopback addresses
// (127.0.0.x), each a BoundClient (see bound-client.ts for why not the library's transport).
import { readFile } from "node:fs/promises";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { type AccessService, DEFAULT_RATE_LIMITS, SERVICE_NAME } from "@natschat/access";
import {
  ACCESS_ERROR_HEADER,
  ACCESS_SUBJECT,
  encodeAccessRequest,
  inboxPrefixFor,
  newUserSigner,
} from "@natschat/protocol";
import { eventually, startTestStack, type TestStack } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BoundClient } from "./bound-client.ts";
import { connectAs, startService } from "./helpers.ts";

let stack: TestStack;
let admin: NatsConnection;
let bootstrapCreds: Uint8Array;
const clients: BoundClient[] = [];
let counter = 0;

beforeAll(async () => {
  stack = await startTestStack();
  admin = await connectAs(stack, "admin");
  bootstrapCreds = await readFile(stack.creds("bootstrap"));
});

afterAll(async () => {
  for (const c of clients) c.close();
  await admin?.close();
  await stack?.stop();
});

async function from(address: string): Promise<BoundClient> {
  const c = await BoundClient.connect({
    url: stack.urls[0] as string,
    localAddress: address,
    creds: bootstrapCreds,
    inboxPrefix: inboxPrefixFor("bootstrap"),
  });
  clients.push(c);
  return c;
}

/** A signed registration for a fresh name; resolves to the error code, or "ok". */
async function registerFrom(c: BoundClient): Promise<string> {
  const { signer } = await newUserSigner();
  const r = await c.request(ACCESS_SUBJECT, await encodeAccessRequest(signer, `addr-${counter++}`));
  return r.headers[ACCESS_ERROR_HEADER] ?? "ok";
}

async function accessData(svc: AccessService): Promise<Record<string, unknown>> {
  const client = new Svcm(admin).client({ strategy: "stall", stall: 300, maxWait: 2000 });
  for await (const s of await client.stats(SERVICE_NAME)) {
    if (s.id !== svc.id) continue;
    return s.endpoints?.find((e) => e.name === "access")?.data as Record<string, unknown>;
  }
  throw new Error("no stats from the service");
}

const tally = (codes: string[]) =>
  codes.reduce<Record<string, number>>((t, c) => {
    t[c] = (t[c] ?? 0) + 1;
    return t;
  }, {});

describe("one replica", () => {
  let svc: AccessService;
  beforeAll(async () => {
    svc = await startService(stack, {
      replicaId: "one",
      rateLimits: {
        ...DEFAULT_RATE_LIMITS,
        global: { rate: 20, perSeconds: 60, burst: 20 },
        perAddress: { rate: 5, perSeconds: 60, burst: 5 },
      },
    });
  });
  afterAll(async () => svc?.stop());

  it("limits each client address, which the server reports through CHAT's import", async () => {
    const a = await from("127.0.0.2");
    const codes = [];
    for (let i = 0; i < 8; i++) codes.push(await registerFrom(a));
    expect(tally(codes)).toEqual({ ok: 5, RATE_LIMITED: 3 });
    // another address has a budget of its own
    const b = await from("127.0.0.3");
    expect(await registerFrom(b)).toBe("ok");
    const r = await a.request(ACCESS_SUBJECT, "eyJ");
    expect(r.body).toMatch(/too many requests from your network address/);
  });

  it("bounds the new names of one address (its quota); renewals from it still work", async () => {
    // q alone in the queue group: started after the other replica stopped, so it counts one
    // replica and holds the whole limit (a replica counts the others every 10 s)
    await svc.stop();
    const q = await startService(stack, {
      replicaId: "quota-address",
      rateLimits: {
        ...DEFAULT_RATE_LIMITS,
        perAddress: { rate: 100, perSeconds: 60, burst: 100 },
        perAddressNames: { rate: 3, perSeconds: 86400, burst: 3 },
      },
    });
    try {
      const c = await from("127.0.0.9");
      const { signer } = await newUserSigner();
      const first = await c.request(ACCESS_SUBJECT, await encodeAccessRequest(signer, "quota-0"));
      expect(first.headers[ACCESS_ERROR_HEADER]).toBeUndefined();
      const codes = [await registerFrom(c), await registerFrom(c), await registerFrom(c)];
      expect(codes).toEqual(["ok", "ok", "RATE_LIMITED"]);
      const refused = await c.request(
        ACCESS_SUBJECT,
        await encodeAccessRequest((await newUserSigner()).signer, "quota-x"),
      );
      expect(refused.body).toMatch(
        /too many new names from your network address \(limit 3 per day\)/,
      );
      // a renewal takes no new-name token
      const again = await c.request(ACCESS_SUBJECT, await encodeAccessRequest(signer, "quota-0"));
      expect(again.headers[ACCESS_ERROR_HEADER]).toBeUndefined();
      // another address has a quota of its own
      expect(await registerFrom(await from("127.0.0.10"))).toBe("ok");
    } finally {
      await q.stop();
      svc = await startService(stack, {
        replicaId: "one",
        rateLimits: {
          ...DEFAULT_RATE_LIMITS,
          global: { rate: 20, perSeconds: 60, burst: 20 },
          perAddress: { rate: 5, perSeconds: 60, burst: 5 },
        },
      });
    }
  });

  it("junk costs its sender's budget only: a flood does not starve a real user", async () => {
    const junk = await from("127.0.0.4");
    // no reply subject, garbage, and request-shaped junk: 3,000 messages in a burst
    for (let i = 0; i < 1000; i++) {
      junk.publish(ACCESS_SUBJECT, "x".repeat(7));
      junk.publish(ACCESS_SUBJECT, "eyJhbGciOi.junk.junk");
    }
    const replies = await Promise.all(
      Array.from({ length: 1000 }, () => junk.request(ACCESS_SUBJECT, "eyJunk", 20_000)),
    );
    expect(replies.filter((r) => r.headers[ACCESS_ERROR_HEADER] === "RATE_LIMITED").length).toBe(
      1000,
    );
    await junk.flush();
    const real = await from("127.0.0.5");
    expect(await registerFrom(real)).toBe("ok");
    // the refusals are counted by reason
    await eventually(async () => {
      const data = await accessData(svc);
      const refused = data.refused as Record<string, number>;
      return (refused.rate_address ?? 0) >= 2990 && refused.rate_global === 0;
    }, "the refusals counted in $SRV.STATS");
  }, 60_000);

  it("counts malformed, reserved and rate-limited refusals in $SRV.STATS", async () => {
    const c = await from("127.0.0.6");
    await c.request(ACCESS_SUBJECT, "{not a jwt}");
    const { signer } = await newUserSigner();
    await c.request(ACCESS_SUBJECT, await encodeAccessRequest(signer, "admin"));
    const data = await accessData(svc);
    expect(data.refused).toMatchObject({
      malformed: expect.any(Number),
      reserved: 1,
      rate_address: expect.any(Number),
    });
    expect((data.refused as Record<string, number>).malformed).toBeGreaterThanOrEqual(1);
    expect(data.registry).toMatchObject({ names: svc.registry.size, maxNames: expect.any(Number) });
    expect(data.unexpected_errors).toBe(0);
  });
});

describe("two replicas share one limit", () => {
  const replicas: AccessService[] = [];
  beforeAll(async () => {
    for (const id of ["r1", "r2"]) {
      replicas.push(
        await startService(stack, {
          replicaId: id,
          replicaCountEveryMs: 200,
          rateLimits: {
            ...DEFAULT_RATE_LIMITS,
            global: { rate: 1, perSeconds: 3600, burst: 16 },
            perAddress: { rate: 1, perSeconds: 3600, burst: 6 },
          },
        }),
      );
    }
    await eventually(
      async () => replicas.every((r) => r.limiter.replicas === 2),
      "both replicas counting two replicas",
    );
  });
  afterAll(async () => {
    for (const r of replicas) await r.stop();
  });

  it("per address: 20 requests from one address get at most the limit, not twice it", async () => {
    const c = await from("127.0.0.7");
    const codes = await Promise.all(Array.from({ length: 20 }, () => registerFrom(c)));
    const t = tally(codes);
    expect(t.ok ?? 0).toBeLessThanOrEqual(6);
    expect(t.ok ?? 0).toBeGreaterThanOrEqual(1);
  });

  it("globally: 40 requests from 20 addresses get at most the global limit", async () => {
    const codes: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const c = await from(`127.0.1.${i + 1}`);
        codes.push(await registerFrom(c), await registerFrom(c));
      }),
    );
    const t = tally(codes);
    // the first test's registrations took some of the global budget already
    expect(t.ok ?? 0).toBeLessThanOrEqual(16);
    expect(t.RATE_LIMITED).toBeGreaterThanOrEqual(24);
  });
});
