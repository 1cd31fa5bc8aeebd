// natschat init: the tree's shape, secret file modes, idempotence, and clear errors on bad input.
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode, encodeAccount, encodeUser, fmtCreds } from "@nats-io/jwt";
import { createUser, fromSeed } from "@nats-io/nkeys";
import { parseCreds } from "@natschat/protocol";
import {
  ALL_USERS,
  HISTORY_STREAMS,
  initTrust,
  layout,
  loadTrust,
  MAX_REPLICAS,
  QUOTA_STORE,
  READ_STORE,
  ROLES,
  STATE_STORE,
  TrustError,
} from "@natschat/trust";
import { afterEach, describe, expect, it } from "vitest";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "natschat-init-"));
  dirs.push(d);
  return join(d, "data");
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function snapshot(dir: string): Promise<Record<string, string>> {
  const p = layout(dir);
  const out: Record<string, string> = {};
  for (const k of [
    "operator",
    "operator-signing",
    "SYS",
    "SYS-signing",
    "ADMIN",
    "ADMIN-signing",
    "CHAT",
    "CHAT-signing",
  ]) {
    out[`key ${k}`] = await readFile(p.key(k), "utf8");
  }
  for (const j of ["operator", "SYS", "ADMIN", "CHAT"])
    out[`jwt ${j}`] = await readFile(p.jwt(j), "utf8");
  for (const r of ROLES) out[`creds ${r}`] = await readFile(p.creds(r), "utf8");
  return out;
}

describe("initTrust", () => {
  it("builds operator, accounts with signing keys, exports/imports and role users", async () => {
    const dir = await tempDir();
    await initTrust({ dir, operatorName: "kubecon" });
    const t = await loadTrust(dir);
    const op = decode<Record<string, unknown>>(t.operatorJwt);
    expect(op.name).toBe("kubecon");
    expect(op.nats.system_account).toBe(t.summary.accounts.SYS.publicKey);
    expect(op.nats.signing_keys).toEqual(t.summary.operator.signingKeys);
    const admin = decode<Record<string, unknown>>(t.accountJwts.ADMIN);
    const chat = decode<Record<string, unknown>>(t.accountJwts.CHAT);
    // accounts are issued by the operator's signing key, not its identity key
    expect(admin.iss).toBe(t.summary.operator.signingKeys[0]);
    expect(admin.nats.exports).toMatchObject([
      { subject: "chat.req.access", type: "service" },
      { subject: "chat.svc.history.>", type: "service" },
      { subject: "chat.svc.directory.>", type: "service" },
      // the presence feed (issue 12): the online bucket's republished changes and the ticks
      { subject: "chat.KUBECON.presence.>", type: "stream" },
    ]);
    // share: true on every service import, so the responder learns the requester from the server
    const ADMIN = t.summary.accounts.ADMIN.publicKey;
    expect(chat.nats.imports).toEqual([
      {
        name: "chat-access",
        subject: "chat.req.access",
        account: ADMIN,
        type: "service",
        share: true,
      },
      {
        name: "chat-history",
        subject: "chat.svc.history.>",
        account: ADMIN,
        type: "service",
        share: true,
      },
      {
        name: "chat-directory",
        subject: "chat.svc.directory.>",
        account: ADMIN,
        type: "service",
        share: true,
      },
      { name: "chat-presence", subject: "chat.KUBECON.presence.>", account: ADMIN, type: "stream" },
    ]);
    expect(chat.nats.exports).toMatchObject([{ subject: "chat.KUBECON.online.*", type: "stream" }]);
    expect(admin.nats.imports).toMatchObject([
      { subject: "chat.KUBECON.online.*", account: t.summary.accounts.CHAT.publicKey },
    ]);
    expect(chat.nats.limits).toMatchObject({ conn: -1, disk_storage: expect.any(Number) });
  });

  it("sizes CHAT's JetStream limits from the stores × R3 + headroom (a cluster restart fits)", async () => {
    const dir = await tempDir();
    await initTrust({ dir });
    const chat = decode<{ limits: Record<string, number> }>(
      (await loadTrust(dir)).accountJwts.CHAT,
    );
    const l = chat.nats.limits as Record<string, number>;
    const stores = [
      HISTORY_STREAMS.posts,
      HISTORY_STREAMS.dms,
      QUOTA_STORE,
      STATE_STORE,
      READ_STORE,
    ].reduce((n, s) => n + s.maxBytes, 0);
    expect(l.disk_storage).toBeGreaterThanOrEqual(stores * MAX_REPLICAS);
    // was 1 GiB, below R3 × 2 × 256 MiB
    expect(l.disk_storage).toBeGreaterThan(3 * 2 * 256 * 1024 * 1024);
    for (const k of ["mem_storage", "streams", "consumer"]) {
      expect(l[k], k).toBeGreaterThan(0); // bounded, never -1
    }
  });

  it("upgrades an old data dir in place: re-derives JWTs and role creds, keeps keys and revocations", async () => {
    const dir = await tempDir();
    await initTrust({ dir });
    const p = layout(dir);
    const t = await loadTrust(dir);
    // an older version's CHAT JWT: 1 GiB disk, no share, one revoked user
    const old = decode<Record<string, unknown>>(t.accountJwts.CHAT);
    const opSigning = fromSeed(
      new TextEncoder().encode((await readFile(p.key("operator-signing"), "utf8")).trim()),
    );
    const revoked = createUser().getPublicKey();
    const nats = {
      ...(old.nats as Record<string, unknown>),
      limits: { ...(old.nats as { limits: object }).limits, disk_storage: 1024 * 1024 * 1024 },
      imports: [
        {
          name: "chat-access",
          subject: "chat.req.access",
          account: t.summary.accounts.ADMIN.publicKey,
          type: "service" as const,
        },
      ],
      revocations: { [revoked]: 1_700_000_000 },
    };
    delete (nats as { type?: unknown }).type;
    delete (nats as { version?: unknown }).version;
    await writeFile(
      p.jwt("CHAT"),
      `${await encodeAccount("CHAT", old.sub as string, nats, { signer: opSigning })}\n`,
    );
    const before = await snapshot(dir);
    // and an admin role from before the chat.svc deny
    const adminCreds = await parseCreds(before["creds admin"] as string);
    const adminJwt = await encodeUser(
      "admin",
      fromSeed(new TextEncoder().encode(adminCreds.seed)),
      fromSeed(new TextEncoder().encode((await readFile(p.key("ADMIN"), "utf8")).trim())),
      { pub: { allow: [">"], deny: [] } },
      {
        signer: fromSeed(
          new TextEncoder().encode((await readFile(p.key("ADMIN-signing"), "utf8")).trim()),
        ),
      },
    );
    await writeFile(
      p.creds("admin"),
      new TextDecoder().decode(
        fmtCreds(adminJwt, fromSeed(new TextEncoder().encode(adminCreds.seed))),
      ),
    );

    const report = await initTrust({ dir });
    // a CHAT JWT from before the history service (protocol v2): every user JWT issued up to now
    // is revoked, and the CHAT roles are issued again after that second
    expect(report.updated.sort()).toEqual([
      "creds admin",
      "creds bootstrap",
      "creds history",
      "creds leaf",
      "jwt CHAT",
      "revoked every CHAT user JWT issued before this upgrade",
    ]);
    expect(report.created).toEqual([]);
    const after = await snapshot(dir);
    for (const k of Object.keys(before).filter((k) => k.startsWith("key ")))
      expect(after[k]).toBe(before[k]);
    const chat = decode<{
      revocations?: Record<string, number>;
      imports: unknown[];
      limits: { disk_storage: number };
    }>((await loadTrust(dir)).accountJwts.CHAT);
    const all = chat.nats.revocations?.[ALL_USERS] as number;
    expect(chat.nats.revocations).toEqual({ [revoked]: 1_700_000_000, [ALL_USERS]: all });
    for (const role of ["bootstrap", "leaf", "history"]) {
      const c = await parseCreds(after[`creds ${role}`] as string);
      expect(decode(c.jwt).iat).toBeGreaterThan(all); // not revoked by the entry above
    }
    expect(chat.nats.imports).toHaveLength(4);
    expect(chat.nats.limits?.disk_storage).toBeGreaterThan(1024 * 1024 * 1024);
    const admin = await parseCreds(after["creds admin"] as string);
    expect(admin.publicKey).toBe(adminCreds.publicKey); // same key, new permissions
    expect(JSON.stringify(decode(admin.jwt).nats)).toContain("chat.svc.>");
    // and once current, nothing changes
    expect((await initTrust({ dir })).updated).toEqual([]);
  });

  it("writes secrets 0600 under 0700 directories", async () => {
    const dir = await tempDir();
    await initTrust({ dir });
    const p = layout(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, "keys"))).mode & 0o777).toBe(0o700);
    expect((await stat(p.key("operator-signing"))).mode & 0o777).toBe(0o600);
    expect((await stat(p.key("CHAT-signing"))).mode & 0o777).toBe(0o600);
    for (const r of ROLES) expect((await stat(p.creds(r))).mode & 0o777).toBe(0o600);
  });

  it("re-running changes no key, JWT or creds and reports what exists; --force regenerates", async () => {
    const dir = await tempDir();
    const first = await initTrust({ dir });
    expect(first.kept).toEqual([]);
    const before = await snapshot(dir);
    const again = await initTrust({ dir });
    expect(again.created).toEqual([]);
    expect(again.kept.length).toBe(Object.keys(before).length);
    expect(await snapshot(dir)).toEqual(before);
    await initTrust({ dir, force: true });
    const after = await snapshot(dir);
    expect(after["key operator"]).not.toBe(before["key operator"]);
  });

  it("names an unwritable directory", async () => {
    const parent = await tempDir();
    await initTrust({ dir: parent });
    await chmod(parent, 0o500);
    try {
      if (process.getuid?.() === 0) {
        // root ignores modes: use a path below a regular file instead
        const file = join(parent, "trust.json");
        await expect(initTrust({ dir: join(file, "sub") })).rejects.toMatchObject({
          code: "DIR_UNWRITABLE",
        });
      } else {
        await expect(initTrust({ dir: join(parent, "sub") })).rejects.toMatchObject({
          code: "DIR_UNWRITABLE",
        });
      }
    } finally {
      await chmod(parent, 0o700);
    }
  });

  it("refuses a corrupt, truncated or wrong-type key with a specific error", async () => {
    const dir = await tempDir();
    await initTrust({ dir });
    const p = layout(dir);
    const good = await readFile(p.key("CHAT-signing"), "utf8");
    await writeFile(p.key("CHAT-signing"), good.slice(0, 30));
    await expect(initTrust({ dir })).rejects.toMatchObject({ code: "KEY_CORRUPT" });
    await writeFile(p.key("CHAT-signing"), await readFile(p.key("operator"), "utf8"));
    await expect(initTrust({ dir })).rejects.toMatchObject({ code: "KEY_WRONG_TYPE" });
    await writeFile(p.key("CHAT-signing"), "not a key\n");
    const err = await initTrust({ dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrustError);
    expect((err as Error).message).toContain("CHAT-signing.nk");
  });

  it("never replaces a missing key of an existing tree (that would orphan every issued creds)", async () => {
    const dir = await tempDir();
    await initTrust({ dir });
    const operatorJwt = await readFile(layout(dir).jwt("operator"), "utf8");
    await rm(layout(dir).key("operator"));
    await expect(initTrust({ dir })).rejects.toMatchObject({
      code: "KEY_MISSING",
      message: expect.stringContaining("operator.nk is missing"),
    });
    await expect(stat(layout(dir).key("operator"))).rejects.toThrow();
    expect(await readFile(layout(dir).jwt("operator"), "utf8")).toBe(operatorJwt);
  });

  it("refuses a corrupt JWT when loading", async () => {
    const dir = await tempDir();
    await initTrust({ dir });
    await writeFile(layout(dir).jwt("CHAT"), "eyJhbGciOi.broken");
    await expect(loadTrust(dir)).rejects.toMatchObject({ code: "JWT_CORRUPT" });
  });
});
