// Unit tests of the access service's parts that need no server: rate limits, the logger's
// redaction, request and record parsing, and configuration from flags, env and files.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccount, createOperator, createUser } from "@nats-io/nkeys";
import {
  AccessServiceError,
  addressKey,
  createLogger,
  DEFAULT_RATE_LIMITS,
  describeLimited,
  dueForRelease,
  HeartbeatGate,
  Provisioner,
  parseBucketRule,
  parseDuration,
  parseRecord,
  parseReservedNames,
  parseRevokeRequest,
  RateLimiter,
  ReplayGuard,
  ReservedNames,
  redact,
  refusalOf,
  resolveAccessConfig,
  respond,
  ServiceFigures,
  shareOf,
} from "@natschat/access";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const seedOf = (kp: { getSeed(): Uint8Array }) => new TextDecoder().decode(kp.getSeed());

describe("rate limits", () => {
  it("refuses beyond the burst, refills at the rate, and says when to retry", () => {
    let t = 0;
    const limits = {
      global: { rate: 2, perSeconds: 1, burst: 2 },
      perName: { rate: 1, perSeconds: 60, burst: 1 },
      perKey: { rate: 0, perSeconds: 1, burst: 0 },
    };
    const rl = new RateLimiter(limits, () => t);
    expect(rl.checkGlobal()).toBeUndefined();
    expect(rl.checkGlobal()).toBeUndefined();
    const limited = rl.checkGlobal();
    expect(limited).toEqual({ scope: "global", retryAfterMs: 500 });
    expect(describeLimited(limited as NonNullable<typeof limited>, limits)).toBe(
      "the service is busy (limit 2 per second); retry in 1 s",
    );
    t = 500;
    expect(rl.checkGlobal()).toBeUndefined();
    expect(rl.checkIdentity("alice", "U1")).toBeUndefined();
    const byName = rl.checkIdentity("alice", "U2");
    expect(byName?.scope).toBe("name");
    expect(describeLimited(byName as NonNullable<typeof byName>, limits)).toMatch(
      /too many requests for this name \(limit 1 per 60 s\); retry in 60 s/,
    );
    expect(rl.checkIdentity("bob", "U3")).toBeUndefined(); // per-key is off (rate 0)
    expect(rl.refused).toEqual({ global: 1, address: 0, "address-names": 0, name: 1, key: 0 });
  });

  it("parses RATE/SECONDS[:BURST] and explains a bad rule", () => {
    expect(parseBucketRule("10/60:5", "--rate-name")).toEqual({
      rate: 10,
      perSeconds: 60,
      burst: 5,
    });
    expect(parseBucketRule("2000/1", "x")).toEqual({ rate: 2000, perSeconds: 1, burst: 2000 });
    expect(() => parseBucketRule("fast", "--rate-global")).toThrow(
      /--rate-global "fast" is not a rate: write RATE\/SECONDS\[:BURST\]/,
    );
    expect(() => parseBucketRule("1/0", "x")).toThrow(/period must be more than 0 s/);
  });
});

describe("replay guard", () => {
  it("refuses a jti it remembers and forgets it after its time", () => {
    const g = new ReplayGuard();
    expect(g.remember("a", 1000, 0)).toBe(true);
    expect(g.remember("a", 1000, 10)).toBe(false);
    expect(g.remember("a", 3000, 1001)).toBe(true);
  });
});

describe("logger", () => {
  it("writes JSON lines at or above its level and masks seeds, JWTs and creds", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", sink: (l) => lines.push(l) }).child({ replica: "a" });
    const seed = seedOf(createUser());
    const jwt =
      "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiJhYmNkZWZnaCJ9.c2lnbmF0dXJlc2lnbmF0dXJlc2ln";
    log.debug("hidden");
    log.info(`got ${seed}`, {
      jwt,
      nested: { creds: `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------` },
    });
    log.error("failed", { err: new Error(`bad seed ${seed}`) });
    expect(lines).toHaveLength(2);
    const text = lines.join("\n");
    expect(text).not.toContain(seed);
    expect(text).not.toContain(jwt);
    const first = JSON.parse(lines[0] as string);
    expect(first).toMatchObject({ level: "info", msg: "got [seed]", replica: "a", jwt: "[jwt]" });
    expect(first.nested.creds).toBe("[creds]");
    expect(JSON.parse(lines[1] as string).err).toBe("bad seed [seed]");
    expect(redact("plain text")).toBe("plain text");
  });
});

describe("revoke requests", () => {
  it("accepts a plain name or JSON, and names what is wrong", () => {
    expect(parseRevokeRequest(" Alice ")).toEqual({ name: "alice", release: false });
    expect(parseRevokeRequest('{"name":"bob","release":true}')).toEqual({
      name: "bob",
      release: true,
    });
    expect(() => parseRevokeRequest("{oops")).toThrow(/not valid JSON/);
    expect(() => parseRevokeRequest('{"name":"x","release":"yes"}')).toThrow(
      /"release" must be true or false/,
    );
    expect(() => parseRevokeRequest('{"release":true}')).toThrow(/needs "name"/);
    expect(() => parseRevokeRequest("a*")).toThrow(
      expect.objectContaining({ code: "NAME_INVALID" }),
    );
  });
});

describe("registry records", () => {
  it("parses a valid record and rejects damaged ones", () => {
    const key = createUser().getPublicKey();
    const rec = { name: "alice", key, issued: "2026-01-01T00:00:00.000Z", revoked: true, jti: "x" };
    expect(parseRecord("alice", rec)).toEqual(rec);
    expect(() => parseRecord("bob", rec)).toThrow(/name does not match/);
    expect(() => parseRecord("alice", { ...rec, key: "nope" })).toThrow(/not a user key/);
    expect(() => parseRecord("alice", { ...rec, issued: "yesterday" })).toThrow(
      /issued is not an ISO time/,
    );
    expect(() => parseRecord("alice", [])).toThrow(/not a JSON object/);
  });
});

describe("configuration", () => {
  let dir: string;
  let files: { access: string; push: string; chatKey: string; opKey: string };
  const chatAccount = createAccount().getPublicKey();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "natschat-access-config-"));
    files = {
      access: join(dir, "access.creds"),
      push: join(dir, "push.creds"),
      chatKey: join(dir, "chat-signing.nk"),
      opKey: join(dir, "operator-signing.nk"),
    };
    await writeFile(files.access, "creds");
    await writeFile(files.push, "creds");
    await writeFile(files.chatKey, `${seedOf(createAccount())}\n`);
    await writeFile(files.opKey, seedOf(createOperator()));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs from explicit files (mounted Secrets) without a data dir", async () => {
    const opts = await resolveAccessConfig({
      flags: {
        creds: files.access,
        "push-creds": files.push,
        "chat-signing-key": files.chatKey,
        "operator-signing-key": files.opKey,
        "chat-account": chatAccount,
        server: "nats://a:4222, nats://b:4222",
        "user-expiry": "12h",
        "rate-name": "5/60:2",
      },
      env: { NATSCHAT_REPLICA_ID: "pod-1", NATSCHAT_LEGACY_PLAINTEXT: "true" },
      dir: join(dir, "absent"),
    });
    expect(opts).toMatchObject({
      servers: ["nats://a:4222", "nats://b:4222"],
      accessCreds: { path: files.access },
      pushCreds: { path: files.push },
      chatAccount,
      replicaId: "pod-1",
      legacyPlaintext: true,
      userExpirySeconds: 12 * 3600,
      rateLimits: { perName: { rate: 5, perSeconds: 60, burst: 2 } },
    });
    expect(opts.chatSigningSeed).toMatch(/^SA/);
    expect(opts.operatorSigningSeed).toMatch(/^SO/);
    expect(opts.chatJwtPath).toBeUndefined();
  });

  it("says which flag or variable is missing or wrong", async () => {
    const base = { "chat-signing-key": files.chatKey, "chat-account": chatAccount };
    await expect(
      resolveAccessConfig({ flags: base, env: {}, dir: join(dir, "absent") }),
    ).rejects.toThrow(/no access creds: pass --creds or set NATSCHAT_ACCESS_CREDS/);
    const flags = { ...base, creds: files.access };
    await expect(
      resolveAccessConfig({ flags: { ...flags, "chat-signing-key": files.opKey }, env: {} }),
    ).rejects.toThrow(/does not hold the CHAT signing key \(an 'SA\.\.\.' nkey seed\)/);
    await expect(
      resolveAccessConfig({ flags: { ...flags, "chat-account": "UABC" }, env: {} }),
    ).rejects.toThrow(/is not an account public key/);
    await expect(
      resolveAccessConfig({ flags, env: { NATSCHAT_RATE_GLOBAL: "lots" } }),
    ).rejects.toThrow(AccessServiceError);
    await expect(
      resolveAccessConfig({ flags: { ...flags, replicas: "2" }, env: {} }),
    ).rejects.toThrow(/must be 1, 3 or 5/);
    await expect(
      resolveAccessConfig({ flags: { ...flags, "chat-signing-key": join(dir, "nope") }, env: {} }),
    ).rejects.toMatchObject({ code: "KEY_UNREADABLE" });
    expect(() => parseDuration("soon", "--user-expiry")).toThrow(/not a duration/);
    expect(parseDuration("30d", "x")).toBe(30 * 86400);
  });
});

describe("issue 11 units", () => {
  it("splits the address and global limits across replicas, never below one token", () => {
    expect(shareOf({ rate: 60, perSeconds: 60, burst: 60 }, 3)).toEqual({
      rate: 20,
      perSeconds: 60,
      burst: 20,
    });
    expect(shareOf({ rate: 1, perSeconds: 60, burst: 1 }, 4).burst).toBe(1);
    const rl = new RateLimiter(
      { ...DEFAULT_RATE_LIMITS, perAddress: { rate: 1, perSeconds: 3600, burst: 4 } },
      () => 0,
    );
    rl.setReplicas(2);
    expect([1, 2, 3].map(() => rl.checkAddress("10.0.0.1")?.scope)).toEqual([
      undefined,
      undefined,
      "address",
    ]);
    expect(rl.checkAddress(undefined)).toBeUndefined(); // no Request-Info: no address limit
  });

  it("limits IPv4 by address and IPv6 by its /64", () => {
    expect(addressKey("127.0.0.2")).toBe("127.0.0.2");
    expect(addressKey("2001:db8:0:1:aaaa::1")).toBe("2001:db8:0:1::/64");
    expect(addressKey("[2001:db8:0:1:bbbb::2]")).toBe("2001:db8:0:1::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
  });

  it("junk spends no global token: only a request of a JWT's shape does", async () => {
    const limiter = new RateLimiter(
      { ...DEFAULT_RATE_LIMITS, global: { rate: 1, perSeconds: 3600, burst: 1 } },
      () => 0,
    );
    const p = new Provisioner({
      registry: {} as never, // junk never reaches the registry
      issuer: {} as never,
      limiter,
      replay: new ReplayGuard(),
      reserved: new ReservedNames(),
      log: createLogger({ sink: () => {} }),
    });
    const junk = ["x".repeat(7), "eyJunk", "eyJhbGciOi.junk.junk", "{}", "ada"];
    for (const j of junk) {
      const r = await p.handle(new TextEncoder().encode(j), { address: "10.0.0.9" });
      expect(r.ok, j).toBe(false);
      if (!r.ok) expect(r.code, j).not.toBe("RATE_LIMITED");
    }
    // the one global token is still there
    expect(limiter.checkGlobal()).toBeUndefined();
    expect(limiter.checkGlobal()?.scope).toBe("global");
  });

  it("a reply that cannot be sent becomes an error reply, logged and counted, never a throw", () => {
    const figures = new ServiceFigures();
    const sent: string[] = [];
    const msg = {
      reply: "_INBOX_admin.x",
      respond: () => {
        throw new Error("'payload' max_payload size exceeded");
      },
      respondError: (code: number, text: string) => {
        sent.push(`${code} ${text}`);
        return true;
      },
    } as unknown as Parameters<typeof respond>[0];
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l) });
    respond(msg, "provisioned", { ok: true, body: "x".repeat(10) }, 0, log, figures);
    expect(sent).toEqual(["500 the reply could not be sent (too large?); try a smaller request"]);
    expect(figures.unexpected).toBe(1);
    expect(lines.join("\n")).toMatch(/reply failed.*max_payload/);
  });

  it("maps error replies to refusal reasons", () => {
    expect(refusalOf("RATE_LIMITED", "rate-address")).toBe("rate_address");
    expect(refusalOf("RATE_LIMITED", "rate-global")).toBe("rate_global");
    expect(refusalOf("BAD_REQUEST", "no-reply")).toBe("no_reply");
    expect(refusalOf("BAD_REQUEST", "key-in-use")).toBe("key_in_use");
    expect(refusalOf("BAD_REQUEST", "garbage")).toBe("malformed");
    expect(refusalOf("NAME_RESERVED", "reserved")).toBe("reserved");
    expect(refusalOf("REGISTRY_FULL", "quota")).toBe("quota");
  });

  it("decides expiry: unused after unusedSeconds, expired after the grace, never revoked", () => {
    const rules = { unusedSeconds: 10, graceSeconds: 5, everyMs: 1000 };
    const at = (s: number) => new Date(s * 1000).toISOString();
    const rec = (over: Record<string, unknown>) => ({
      revision: 1,
      record: { name: "x", key: "U", issued: at(0), expires: at(100), ...over },
    });
    expect(dueForRelease(rec({}), undefined, rules, 9_000)).toBeUndefined();
    expect(dueForRelease(rec({}), undefined, rules, 11_000)).toBe("unused");
    expect(dueForRelease(rec({}), 5_000, rules, 11_000)).toBeUndefined();
    expect(dueForRelease(rec({}), 5_000, rules, 106_000)).toBe("expired");
    expect(dueForRelease(rec({ revoked: true }), undefined, rules, 1e9)).toBeUndefined();
  });

  it("reserves roles, channels and system words; the list is configurable", () => {
    const r = new ReservedNames();
    for (const n of ["admin", "bootstrap", "kubecon", "everyone", "here"])
      expect(r.has(n)).toBe(true);
    expect(r.has("ada")).toBe(false);
    expect(new ReservedNames(parseReservedNames("Ada, bob")).has("ada")).toBe(true);
    expect(() => parseReservedNames("a.b")).toThrow(/'\.'/);
  });
});

describe("HeartbeatGate", () => {
  it("lets a key burst 4, then one per quarter period; keys are independent; full buckets are forgotten", () => {
    let now = 1_000_000;
    const gate = new HeartbeatGate({ periodMs: 1000, now: () => now });
    const admitted = (key: string, n: number) =>
      Array.from({ length: n }, () => gate.admit(key)).filter(Boolean).length;
    expect(admitted("UA", 10)).toBe(4);
    expect(gate.throttled).toBe(6);
    expect(admitted("UB", 1)).toBe(1);
    now += 250;
    expect(admitted("UA", 3)).toBe(1);
    now += 10_000;
    expect(admitted("UC", 1)).toBe(1); // the sweep runs, UA and UB refilled and are forgotten
    expect(gate.tracked).toBe(1);
    expect(admitted("UA", 5)).toBe(4);
  });

  it("never starves a goodbye after heartbeats, and lets one goodbye through per heartbeat", () => {
    let now = 0;
    const gate = new HeartbeatGate({ periodMs: 1000, now: () => now });
    // open, close, reopen, close at once: more than the bucket holds
    expect(
      ["hi", "bye", "hi", "bye", "bye", "hi", "hi", "hi", "bye"].map((m) =>
        gate.admit("UA", m === "bye"),
      ),
    ).toEqual([
      true,
      true,
      true,
      true,
      false, // the page's second goodbye: nothing to close
      true,
      true,
      false, // the bucket is empty (4 heartbeats)
      true, // but the goodbye still passes
    ]);
    // a goodbye flood from a key this replica knows nothing of: one check, then none
    expect(Array.from({ length: 100 }, () => gate.admit("UB", true)).filter(Boolean)).toHaveLength(
      1,
    );
    now += 2000; // swept: the replica holds nothing about UB again
    expect(Array.from({ length: 100 }, () => gate.admit("UB", true)).filter(Boolean)).toHaveLength(
      1,
    );
  });
});
