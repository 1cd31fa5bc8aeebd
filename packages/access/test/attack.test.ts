// Issue 11: the access service as a hostile holder of the public bootstrap creds tried it, each
// attack against real servers. (1) a registry too big for one reply must not crash the service;
// (2) replies are pages, the revoke reply is the revoked user, not the registry; (3) one key
// gets one name, on one replica and on two; (4) revocation is for good, with --release too;
// (5) reserved names are refused; the admin role cannot speak on the service's subjects (it
// could forge Nats-Request-Info there).
import { readFile } from "node:fs/promises";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { type AccessService, CHAT_USER_TAG, SERVICE_NAME } from "@natschat/access";
import { register, renew } from "@natschat/client";
import {
  ACCESS_SUBJECT,
  AccessError,
  decodeJwtUnverified,
  encodePublicKey,
  encodeRegistryQuery,
  newUserSigner,
  PROVISIONED_SUBJECT,
  parseCreds,
  parseRegistryPage,
  parseRevokeResult,
  REGISTRY_PAGE_DEFAULT,
  REGISTRY_PAGE_MAX,
  REVOKE_SUBJECT,
  type Signer,
} from "@natschat/protocol";
import { probePublish, startTestStack, type TestStack } from "@natschat/testing";
import { REGISTRY_BUCKET } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatOptions, connectAs, startService } from "./helpers.ts";

let stack: TestStack;
let svc: AccessService;
let admin: NatsConnection;
let bootstrap: NatsConnection;
const closers: (() => Promise<unknown>)[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  stack = await startTestStack();
  svc = await startService(stack, { replicaId: "a" });
  closers.push(() => svc.stop());
  admin = await connectAs(stack, "admin");
  bootstrap = await connectAs(stack, "bootstrap");
  closers.push(
    () => admin.close(),
    () => bootstrap.close(),
  );
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await stack?.stop();
});

/** A valid user public key without the cost of making a key pair. */
function fakeKey(i: number): string {
  const raw = new Uint8Array(32);
  new DataView(raw.buffer).setUint32(0, i);
  raw[31] = 7;
  return encodePublicKey("U", raw);
}

async function requestKey(signer: Signer, name: string) {
  return renew(bootstrap, signer, name, chatOptions(stack));
}

async function page(body: string) {
  const m = await admin.request(PROVISIONED_SUBJECT, body, { timeout: 10_000 });
  expect(m.headers?.get("Natschat-Error-Code") ?? "").toBe("");
  return parseRegistryPage(m.string());
}

describe("(1, 2) a registry bigger than max_payload", () => {
  const N = 15_000;
  let kv: KV;

  beforeAll(async () => {
    // Squatted names written straight into the bucket (as 13,200 registrations would): the
    // talk's `{name: key}` map of them is over 1 MiB, the server's max_payload.
    kv = await new Kvm(svc.nc).open(REGISTRY_BUCKET);
    const issued = new Date().toISOString();
    let last = 0;
    for (let i = 0; i < N; i += 500) {
      const batch = [];
      for (let j = i; j < Math.min(N, i + 500); j++) {
        const name = `squat-${String(j).padStart(6, "0")}`;
        const key = fakeKey(j);
        batch.push(kv.put(name, JSON.stringify({ name, key, issued })));
      }
      last = Math.max(last, ...(await Promise.all(batch)));
    }
    expect(await svc.registry.caughtUp(last, 30_000)).toBe(true);
  }, 120_000);

  it("the empty request is a first page, the service keeps serving", async () => {
    const first = await page("");
    expect(first.users).toHaveLength(REGISTRY_PAGE_DEFAULT);
    expect(first.total).toBeGreaterThanOrEqual(N);
    expect(first.next).toBe(first.users.at(-1)?.name);
    // a registration still works afterwards
    const user = await register(bootstrap, "still-here", chatOptions(stack));
    expect(user.name).toBe("still-here");
    expect(unhandled).toEqual([]);
  });

  it("pages through every name with a cursor; the limit is capped", async () => {
    const big = await page(encodeRegistryQuery({ limit: 100_000 }));
    expect(big.users).toHaveLength(REGISTRY_PAGE_MAX);
    expect(big.limit).toBe(REGISTRY_PAGE_MAX);
    const names: string[] = [];
    let after: string | undefined;
    for (;;) {
      const p = await page(encodeRegistryQuery({ after, limit: REGISTRY_PAGE_MAX }));
      names.push(...p.users.map((u) => u.name));
      if (!p.next) break;
      after = p.next;
    }
    expect(names.length).toBe(svc.registry.size);
    expect([...names].sort()).toEqual(names);
    expect(new Set(names).size).toBe(names.length);
  });

  it("the revoke reply is the revoked user and the servers' answers, not the registry", async () => {
    const m = await admin.request(REVOKE_SUBJECT, "squat-000001", { timeout: 20_000 });
    expect(m.headers?.get("Natschat-Error-Code") ?? "").toBe("");
    expect(m.data.length).toBeLessThan(2000);
    const r = parseRevokeResult(m.string());
    expect(r.revoked).toEqual({ name: "squat-000001", key: fakeKey(1), released: false });
    expect(r.servers).toHaveLength(1);
    expect(r.servers[0]?.ok).toBe(true);
    // and again: a second revoke of another name works too (it crashed the service before)
    const again = await admin.request(REVOKE_SUBJECT, "squat-000002", { timeout: 20_000 });
    expect(parseRevokeResult(again.string()).revoked.name).toBe("squat-000002");
    const pong = await new Svcm(admin).client().ping(SERVICE_NAME);
    let replicas = 0;
    for await (const _ of pong) replicas++;
    expect(replicas).toBe(1);
    expect(unhandled).toEqual([]);
  }, 60_000);
});

describe("(3) one key, one name", () => {
  it("three concurrent requests signed by one key get at most one name (one replica)", async () => {
    for (let round = 0; round < 5; round++) {
      const { signer } = await newUserSigner();
      const results = await Promise.allSettled(
        ["a", "b", "c"].map((s) => requestKey(signer, `onekey${round}-${s}`)),
      );
      const wins = results.filter((r) => r.status === "fulfilled");
      expect(wins, `round ${round}`).toHaveLength(1);
      for (const r of results) {
        if (r.status === "rejected") expect((r.reason as AccessError).code).toBe("BAD_REQUEST");
      }
    }
  });

  it("and on two replicas: at most one name per key", async () => {
    const b = await startService(stack, { replicaId: "b" });
    try {
      // the squatted names were written without key claims, as a registry older than claims
      // holds them: a replica gives them their claims at start
      expect((await b.registry.fetchClaim(fakeKey(5)))?.claim).toEqual({ name: "squat-000005" });
      const signers = await Promise.all(
        Array.from({ length: 20 }, async () => (await newUserSigner()).signer),
      );
      const results = await Promise.all(
        signers.map((signer, i) =>
          Promise.allSettled(["x", "y", "z"].map((s) => requestKey(signer, `two${i}-${s}`))),
        ),
      );
      for (const [i, rs] of results.entries()) {
        expect(rs.filter((r) => r.status === "fulfilled").length, `key ${i}`).toBe(1);
      }
      // the bucket agrees: one name per key
      const rev = Math.max(svc.registry.revision, b.registry.revision);
      await svc.registry.caughtUp(rev, 5000);
      for (const s of signers) {
        const names = svc.registry.records().filter((r) => r.key === s.publicKey);
        expect(names).toHaveLength(1);
      }
    } finally {
      await b.stop();
    }
  }, 60_000);
});

describe("(4) revocation is for good", () => {
  it("after revoke --release the same key gets neither its old name nor a new one", async () => {
    const { signer } = await newUserSigner();
    await requestKey(signer, "gone");
    const m = await admin.request(REVOKE_SUBJECT, JSON.stringify({ name: "gone", release: true }), {
      timeout: 20_000,
    });
    expect(m.headers?.get("Natschat-Error-Code") ?? "").toBe("");
    await expect(requestKey(signer, "gone")).rejects.toMatchObject({ code: "NAME_REVOKED" });
    await expect(requestKey(signer, "gone-again")).rejects.toMatchObject({ code: "NAME_REVOKED" });
    // --release freed the name for another key
    const other = await register(bootstrap, "gone", chatOptions(stack));
    expect(other.publicKey).not.toBe(signer.publicKey);
  }, 60_000);

  it("without --release too", async () => {
    const { signer } = await newUserSigner();
    await requestKey(signer, "gone2");
    await admin.request(REVOKE_SUBJECT, "gone2", { timeout: 20_000 });
    await expect(requestKey(signer, "gone2")).rejects.toMatchObject({ code: "NAME_REVOKED" });
    await expect(requestKey(signer, "gone2-new")).rejects.toMatchObject({ code: "NAME_REVOKED" });
  }, 60_000);
});

describe("(5) reserved names", () => {
  it.each([
    "admin",
    "bootstrap",
    "leaf",
    "system",
    "natschat",
    "everyone",
    "here",
    "kubecon",
    "general",
    "access",
  ])("%s is refused", async (name) => {
    await expect(register(bootstrap, name, chatOptions(stack))).rejects.toMatchObject({
      code: "NAME_RESERVED",
    });
  });

  it("a chat identity is tagged as one; the bootstrap (a role user of CHAT) is not", async () => {
    const user = await register(bootstrap, "tagged", chatOptions(stack));
    expect(decodeJwtUnverified(user.jwt).payload).toMatchObject({
      nats: { tags: [CHAT_USER_TAG] },
    });
    const creds = await parseCreds(await readFile(stack.creds("bootstrap"), "utf8"));
    expect(creds.claims.nats?.tags ?? []).not.toContain(CHAT_USER_TAG);
  });

  it("the admin role cannot publish on the access service's subjects (it could forge Nats-Request-Info)", async () => {
    expect(await probePublish(admin, ACCESS_SUBJECT)).toBe("denied");
    expect(await probePublish(admin, "chat.svc.directory.lookup")).toBe("denied");
    expect(await probePublish(admin, "chat.svc.history.posts")).toBe("denied");
  });
});

it("no unhandled rejection anywhere in this file", () => {
  expect(unhandled.filter((e) => !(e instanceof AccessError))).toEqual([]);
});
