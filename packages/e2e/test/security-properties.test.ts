// Security properties of DESIGN.md that the rest of the suite does not already pin down with a
// server-side check (see packages/e2e/README-notes.md for the whole map):
//   1. no private key on the wire or at rest outside its owner: the registry holds no secret;
//   4. least privilege in what each part is given: every role's creds hold one user seed and
//      nothing else, and in a Kubernetes render only the access service's Secret holds the CHAT
//      signing key and the operator signing key.

import { readFile } from "node:fs/promises";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  type AccessService,
  resolveAccessConfig,
  silentLogger,
  startAccessService,
} from "@natschat/access";
import { register } from "@natschat/client";
import { resolveDeployOptions, secretSpecs } from "@natschat/deploy";
import { startTestStack, type TestStack } from "@natschat/testing";
import { connectRole, layout, REGISTRY_BUCKET, ROLES } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ANY_SEED = /S[OACUNX][A-Z2-7]{56}/g;
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

let stack: TestStack;
let svc: AccessService;
const conns: NatsConnection[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  const base = await resolveAccessConfig({ flags: {}, env: {}, dir: stack.dir });
  svc = await startAccessService({ ...base, servers: stack.urls, log: silentLogger });
});

afterAll(async () => {
  for (const c of conns) await c.close().catch(() => undefined);
  await svc?.stop();
  await stack?.stop();
});

describe("property 1: a private key never crosses the wire, nor lands in the registry", () => {
  it("the registry bucket holds public keys, times and each key's own issued JWT only: no seed", async () => {
    const bootstrap = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("bootstrap"),
      inboxOwner: "bootstrap",
    });
    conns.push(bootstrap);
    const chat = stack.trust.summary.accounts.CHAT;
    const users = await Promise.all(
      ["p1-a", "p1-b", "p1-c"].map((n) =>
        register(bootstrap, n, { chatAccount: chat.publicKey, chatSigningKeys: chat.signingKeys }),
      ),
    );
    const access = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("access"),
      inboxOwner: "access",
    });
    conns.push(access);
    const kv: KV = await new Kvm(access).open(REGISTRY_BUCKET);
    const values: string[] = [];
    for await (const key of await kv.keys()) {
      const e = await kv.get(key);
      if (e) values.push(e.string());
    }
    expect(values.length).toBeGreaterThanOrEqual(3);
    for (const u of users) {
      const record = values.find((v) => v.includes(u.publicKey));
      expect(record, u.name).toBeDefined();
      expect(record).not.toContain(u.seed);
    }
    // The only JWT a record may hold is the user JWT issued to the record's own key (public: the
    // directory serves it so receivers can check the CHAT account's signature; useless without
    // the seed, which never leaves the client). No seed, no creds, no other JWT.
    for (const v of values) {
      expect(v).not.toMatch(ANY_SEED);
      const record = JSON.parse(v) as { key?: string; jwt?: string };
      const rest = JSON.stringify({ ...record, jwt: undefined });
      expect(rest).not.toMatch(JWT);
      if (record.jwt !== undefined) {
        const payload = JSON.parse(
          Buffer.from(record.jwt.split(".")[1] as string, "base64url").toString(),
        ) as { sub?: string; nats?: { type?: string } };
        expect(payload).toMatchObject({ sub: record.key, nats: { type: "user" } });
      }
    }
  });
});

describe("property 4: each part is given only its own secret", () => {
  it("every role's creds file holds exactly one seed, a user seed ('SU')", async () => {
    for (const role of ROLES) {
      const text = await readFile(layout(stack.dir).creds(role), "utf8");
      const seeds = text.match(ANY_SEED) ?? [];
      expect(
        seeds.map((s) => s.slice(0, 2)),
        role,
      ).toEqual(["SU"]);
    }
  });

  it("the public trust summary holds no seed", async () => {
    const text = await readFile(layout(stack.dir).trust, "utf8");
    expect(text).not.toMatch(ANY_SEED);
  });

  it("in Kubernetes only the access service's Secret holds the CHAT and operator signing keys", () => {
    const specs = secretSpecs(resolveDeployOptions());
    const holders = (file: string) =>
      specs.filter((s) => Object.keys(s.files).includes(file)).map((s) => s.name);
    const access = specs[0]?.name as string;
    expect(access).toMatch(/access/);
    expect(holders("chat-signing.nk")).toEqual([access]);
    expect(holders("operator-signing.nk")).toEqual([access]);
    // the admin creds are in no Secret at all: the admin is a person with the data dir (the
    // edge's ADMIN leaf binding, leaf-admin.creds, is the edge server's, in the leaf Secret)
    expect(specs.flatMap((s) => Object.keys(s.files)).filter((f) => f === "admin.creds")).toEqual(
      [],
    );
    expect(specs.filter((s) => "leaf-admin.creds" in s.files).map((s) => s.name)).toEqual([
      "natschat-leaf",
    ]);
    // the web app gets the public bootstrap creds, and nothing else
    const web = specs.find((s) => s.name.includes("web"));
    expect(Object.keys(web?.files ?? {})).toEqual(["bootstrap.creds"]);
  });
});
