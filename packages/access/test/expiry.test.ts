// Issue 11 (6): names nobody uses go back to the pool, and the registry guards its quota. With
// short durations: a name never seen online is released after `unusedSeconds`; a name whose JWT
// expired `graceSeconds` ago is released; a name seen online and a revoked name stay. Near the
// quota, new names are refused with REGISTRY_FULL while renewals and revocations keep working;
// $SRV.STATS shows the registry's size against its limit. Also the directory endpoints.
import { encodeUser, fmtCreds } from "@nats-io/jwt";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { createUser, fromSeed } from "@nats-io/nkeys";
import { Svcm } from "@nats-io/services";
import { type AccessService, SERVICE_NAME } from "@natschat/access";
import { register, renew } from "@natschat/client";
import {
  DIRECTORY_LOOKUP_SUBJECT,
  DIRECTORY_ONLINE_SUBJECT,
  encodeLookupRequest,
  encodeOnlineQuery,
  encodePresence,
  newUserSigner,
  PROVISIONED_UPDATES_SUBJECT,
  parseLookupReply,
  parseOnlineReply,
  parseRegistryChange,
  presenceSubject,
  REVOKE_SUBJECT,
  type RegistryChange,
  signerFromSeed,
} from "@natschat/protocol";
import { eventually, probePublish, startTestStack, type TestStack } from "@natschat/testing";
import { accessPermissions, loadSeed, REGISTRY_BUCKET } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatOptions, connectAs, connectUser, startService } from "./helpers.ts";

let stack: TestStack;
let admin: NatsConnection;
let bootstrap: NatsConnection;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  admin = await connectAs(stack, "admin");
  bootstrap = await connectAs(stack, "bootstrap");
  closers.push(
    () => admin.close(),
    () => bootstrap.close(),
  );
});

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await stack?.stop();
});

describe("expiry and directory", () => {
  let svc: AccessService;
  beforeAll(async () => {
    svc = await startService(stack, {
      expiry: { unusedSeconds: 3, graceSeconds: 1, everyMs: 250 },
      presencePersistMs: 200,
    });
  });
  // stopped here, so its fast sweeps do not release names under the quota test below
  afterAll(async () => svc?.stop());

  it("releases a name never used, and one not renewed after its JWT expired; keeps the others", async () => {
    const changes: RegistryChange[] = [];
    const sub = admin.subscribe(PROVISIONED_UPDATES_SUBJECT, {
      callback: (_e, m) => {
        changes.push(parseRegistryChange(m.string()));
      },
    });
    closers.push(async () => sub.unsubscribe());
    await admin.flush();
    const idle = await register(bootstrap, "idle", chatOptions(stack));
    const active = await register(bootstrap, "active", chatOptions(stack));
    const gone = await register(bootstrap, "revoked-one", chatOptions(stack));
    await admin.request(REVOKE_SUBJECT, "revoked-one", { timeout: 20_000 });
    // "active" is seen online (a verified presence announcement)
    const nc = await connectUser(stack, active);
    closers.push(() => nc.close());
    const signer = await signerFromSeed(active.seed);
    nc.publish(
      presenceSubject(signer.publicKey),
      await encodePresence(signer, { name: "active", first: true }),
    );
    await nc.flush();
    await eventually(async () => {
      await svc.nc.flush();
      return svc.presence.lastSeen("active") !== undefined;
    }, "the presence of active");
    // "stale": seen once, its JWT expired 10 minutes ago (written as an old registry would hold it)
    const kv = await new Kvm(svc.nc).open(REGISTRY_BUCKET);
    const { signer: staleKey } = await newUserSigner();
    const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
    await kv.put(
      "stale",
      JSON.stringify({
        name: "stale",
        key: staleKey.publicKey,
        issued: ago(3600),
        expires: ago(600),
        lastSeen: ago(900),
      }),
    );

    // the view drops a name when the watch delivers the delete; the broadcast may come a moment later
    await eventually(
      async () =>
        !svc.registry.get("idle") &&
        !svc.registry.get("stale") &&
        changes.filter((c) => c.op === "released").length >= 2,
      "idle and stale released and announced",
      { timeoutMs: 15_000 },
    );
    expect(svc.registry.get("active")?.record.key).toBe(active.publicKey);
    expect(svc.registry.get("revoked-one")?.record.revoked).toBe(true);
    expect(changes).toContainEqual({
      op: "released",
      name: "idle",
      key: idle.publicKey,
      reason: "unused",
      revision: expect.any(Number),
    });
    expect(changes).toContainEqual(
      expect.objectContaining({ op: "released", name: "stale", reason: "expired" }),
    );
    expect(svc.expiry.released).toMatchObject({ unused: 1, expired: 1 });
    // the released name is free for anyone again, and the revoked key still gets nothing
    const again = await register(bootstrap, "idle", chatOptions(stack));
    expect(again.publicKey).not.toBe(idle.publicKey);
    await expect(
      renew(bootstrap, await signerFromSeed(gone.seed), "revoked-two", chatOptions(stack)),
    ).rejects.toMatchObject({ code: "NAME_REVOKED" });
  }, 60_000);

  it("the directory: lookup by key (batch) and the online keys (paged)", async () => {
    const user = await register(bootstrap, "dora", chatOptions(stack));
    const nc = await connectUser(stack, user);
    closers.push(() => nc.close());
    // a chat user asks through CHAT's import
    const { signer: unknown } = await newUserSigner();
    const r = await nc.request(
      DIRECTORY_LOOKUP_SUBJECT,
      encodeLookupRequest([user.publicKey, unknown.publicKey]),
      { timeout: 5000 },
    );
    const found = parseLookupReply(r.string());
    expect(Object.keys(found.users)).toEqual([user.publicKey]);
    expect(found.users[user.publicKey]).toMatchObject({ name: "dora", jwt: user.jwt });
    // revoked keys are marked
    const revokedKey = svc.registry.get("revoked-one")?.record.key as string;
    const rv = parseLookupReply(
      (await nc.request(DIRECTORY_LOOKUP_SUBJECT, encodeLookupRequest([revokedKey]))).string(),
    );
    expect(rv.users[revokedKey]).toMatchObject({ name: "revoked-one", revoked: true });
    // too many keys, or junk: a clear error
    const tooMany = await nc.request(
      DIRECTORY_LOOKUP_SUBJECT,
      encodeLookupRequest(Array.from({ length: 101 }, () => user.publicKey)),
    );
    expect(tooMany.headers?.get("Natschat-Error-Code")).toBe("BAD_REQUEST");
    // online: "active" announced itself in the test before; page with limit 1
    const signer = await signerFromSeed(user.seed);
    nc.publish(
      presenceSubject(signer.publicKey),
      await encodePresence(signer, { name: "dora", first: true }),
    );
    await nc.flush();
    await eventually(async () => {
      await svc.nc.flush();
      return svc.online.has(user.publicKey);
    }, "dora online");
    const keys: string[] = [];
    let after: string | undefined;
    for (;;) {
      const p = parseOnlineReply(
        (
          await nc.request(DIRECTORY_ONLINE_SUBJECT, encodeOnlineQuery({ after, limit: 1 }))
        ).string(),
      );
      expect(p.online.length).toBeLessThanOrEqual(1);
      keys.push(...p.online.map(([k]) => k));
      if (!p.next) break;
      after = p.next;
    }
    expect(keys).toContain(user.publicKey);
    expect([...keys].sort()).toEqual(keys);
    // the bootstrap user may not use the directory
    expect(await probePublish(bootstrap, DIRECTORY_LOOKUP_SUBJECT)).toBe("denied");
  });
});

describe("quota guard", () => {
  it("near the limit refuses new names; renewals and revocations keep working; stats show it", async () => {
    const svc = await startService(stack, { replicaId: "quota" });
    const size = svc.registry.size;
    await svc.stop();
    const tight = await startService(stack, {
      replicaId: "quota",
      quota: { maxNames: size + 1 },
    });
    closers.push(() => tight.stop());
    const last = await register(bootstrap, "last-one", chatOptions(stack));
    await expect(register(bootstrap, "one-too-many", chatOptions(stack))).rejects.toMatchObject({
      code: "REGISTRY_FULL",
      message: expect.stringMatching(/registry is full/),
    });
    const renewed = await renew(
      bootstrap,
      await signerFromSeed(last.seed),
      "last-one",
      chatOptions(stack),
    );
    expect(renewed.publicKey).toBe(last.publicKey);
    const m = await admin.request(REVOKE_SUBJECT, "last-one", { timeout: 20_000 });
    expect(m.headers?.get("Natschat-Error-Code") ?? "").toBe("");
    const client = new Svcm(admin).client({ strategy: "stall", stall: 300, maxWait: 2000 });
    let data: Record<string, unknown> | undefined;
    for await (const s of await client.stats(SERVICE_NAME)) {
      if (s.id === tight.id) {
        data = s.endpoints?.find((e) => e.name === "access")?.data as Record<string, unknown>;
      }
    }
    expect(data?.registry).toMatchObject({ names: size + 1, maxNames: size + 1, full: true });
    expect(data?.refused).toMatchObject({ quota: 1 });
    await tight.stop();
  }, 60_000);
});

describe("a data dir older than the directory", () => {
  it("access creds without the directory's subscription: the service runs without the directory", async () => {
    // the access role's creds as init made them before the directory: same role, no
    // chat.svc.directory.> subscription (init keeps existing creds)
    const perms = accessPermissions();
    perms.sub = {
      allow: (perms.sub?.allow ?? []).filter((s) => !s.startsWith("chat.svc.directory")),
      deny: [],
    };
    const ukp = createUser();
    const adminAccount = stack.trust.summary.accounts.ADMIN.publicKey;
    const signer = fromSeed(
      new TextEncoder().encode(await loadSeed(stack.dir, "ADMIN-signing", "A")),
    );
    const jwt = await encodeUser("access", ukp, adminAccount, perms, { signer });
    const old = await startService(stack, {
      replicaId: "old-creds",
      accessCreds: { text: new TextDecoder().decode(fmtCreds(jwt, ukp)) },
    });
    closers.push(() => old.stop());
    const client = new Svcm(admin).client({ strategy: "stall", stall: 300, maxWait: 2000 });
    const infos = [];
    for await (const i of await client.info(SERVICE_NAME)) if (i.id === old.id) infos.push(i);
    expect(infos[0]?.endpoints.map((e) => e.name)).toEqual(["access", "provisioned", "revoke"]);
    // and it serves: a registration (only this replica is running)
    const u = await register(bootstrap, "old-dir-user", chatOptions(stack));
    expect(u.name).toBe("old-dir-user");
  });
});
