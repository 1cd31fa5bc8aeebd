// Provisioning against real servers: what a bootstrap holder can see and forge (a), that no seed
// crosses the wire (b), the client's checks on the reply, renewal through the CHAT import,
// presence, the registry broadcasts, the bad-input matrix (f) and $SRV discovery (g).
import { encodeUser } from "@nats-io/jwt";
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { createAccount } from "@nats-io/nkeys";
import { Svcm } from "@nats-io/services";
import {
  type AccessService,
  DEFAULT_RATE_LIMITS,
  SERVICE_NAME,
  SERVICE_QUEUE,
} from "@natschat/access";
import { register, renew } from "@natschat/client";
import {
  ACCESS_ERROR_HEADER,
  ACCESS_REQUEST_TYPE,
  ACCESS_SUBJECT,
  AccessError,
  decodeJwtUnverified,
  encodeAccessRequest,
  encodeJwt,
  encodePresence,
  IdentityError,
  newSigner,
  newUserSigner,
  PROVISIONED_SUBJECT,
  PROVISIONED_UPDATES_SUBJECT,
  parseCreds,
  parseRegistryChange,
  parseRegistryPage,
  presenceSubject,
  randomJti,
  type Signer,
  signerFromSeed,
  verifyJwt,
} from "@natschat/protocol";
import {
  eventually,
  mintChatUser,
  probePublish,
  probeSubscribe,
  startTestStack,
  type TestStack,
} from "@natschat/testing";
import { CHAT_USER_MAX_PAYLOAD, chatUserPermissions } from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chatOptions,
  connectAs,
  connectUser,
  SEED_PATTERN,
  startService,
  within,
} from "./helpers.ts";

let stack: TestStack;
let bootstrap: NatsConnection;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  bootstrap = await connectAs(stack, "bootstrap");
  closers.push(() => bootstrap.close());
});

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await stack?.stop();
});

/** Sends a raw body on chat.req.access and returns the reply's body and code header. */
async function rawRequest(
  body: string | Uint8Array,
  nc: NatsConnection = bootstrap,
): Promise<{ body: string; code: string | undefined }> {
  const m = await nc.request(ACCESS_SUBJECT, body, { timeout: 10_000 });
  return { body: m.string(), code: m.headers?.get(ACCESS_ERROR_HEADER) || undefined };
}

/** A request JWT with any name (the client would refuse to sign a bad one). */
async function craftRequest(
  signer: Signer,
  name: unknown,
  over: Record<string, unknown> = {},
): Promise<string> {
  return encodeJwt(signer, {
    jti: randomJti(),
    iat: Math.floor(Date.now() / 1000),
    iss: signer.publicKey,
    sub: signer.publicKey,
    name,
    nats: { type: ACCESS_REQUEST_TYPE, version: 2 },
    ...over,
  });
}

describe("the client checks what it is issued (no service running, a rogue responder instead)", () => {
  let rogue: NatsConnection;
  beforeAll(async () => {
    // The leaf role is unrestricted in CHAT (it binds edge servers), so it can answer
    // chat.req.access inside CHAT: the worst case of a reply the client did not ask for.
    rogue = await connectAs(stack, "leaf");
    closers.push(() => rogue.close());
  });

  async function answerWith(make: (requestKey: string) => Promise<string>): Promise<void> {
    const sub = rogue.subscribe(ACCESS_SUBJECT, {
      max: 1,
      callback: (_err, m: Msg) => {
        const key = decodeJwtUnverified(m.string()).payload.iss as string;
        void make(key).then((body) => m.respond(body));
      },
    });
    await rogue.flush();
    closers.push(async () => sub.unsubscribe());
  }

  it("rejects a JWT issued for another key", async () => {
    await answerWith(async () => (await mintChatUser(stack.dir, "mallory")).jwt);
    await expect(register(bootstrap, "victim", chatOptions(stack))).rejects.toMatchObject({
      name: "IdentityError",
      code: "ID_WRONG_KEY",
    });
  });

  it("rejects a JWT for its key signed by a key that is not a CHAT signing key", async () => {
    const chat = stack.trust.summary.accounts.CHAT.publicKey;
    await answerWith((key) =>
      encodeUser(
        "victim",
        key,
        chat,
        { payload: CHAT_USER_MAX_PAYLOAD },
        { signer: createAccount() },
      ),
    );
    const err = await register(bootstrap, "victim", chatOptions(stack)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdentityError);
    expect(err).toMatchObject({ code: "ID_WRONG_SIGNER" });
  });

  it("turns an error without a known code into an AccessError, and no responders into UNAVAILABLE", async () => {
    await answerWith(async () => "-ERR 'Name can not be empty'");
    await expect(register(bootstrap, "victim", chatOptions(stack))).rejects.toMatchObject({
      name: "AccessError",
      code: "INTERNAL",
      message: "Name can not be empty",
    });
    await expect(register(bootstrap, "victim", chatOptions(stack))).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
  });
});

describe("the access service", () => {
  let svc: AccessService;
  let admin: NatsConnection;
  beforeAll(async () => {
    svc = await startService(stack, {
      rateLimits: {
        ...DEFAULT_RATE_LIMITS,
        global: { rate: 100_000, perSeconds: 1, burst: 100_000 },
        perAddress: { rate: 0, perSeconds: 1, burst: 0 },
        perName: { rate: 3, perSeconds: 60, burst: 3 },
      },
    });
    closers.push(() => svc.stop());
    admin = await connectAs(stack, "admin");
    closers.push(() => admin.close());
  });

  it("(a)(b) a bootstrap holder sees no key material and cannot forge a reply; no seed on the wire", async () => {
    // The spy holds the public bootstrap creds and subscribes to everything they allow.
    const spy = await connectAs(stack, "bootstrap");
    closers.push(() => spy.close());
    for (const subject of [
      ">",
      "chat.>",
      ACCESS_SUBJECT,
      "_INBOX.>",
      "_INBOX_access.>",
      "$SYS.>",
    ]) {
      expect(await probeSubscribe(spy, subject), subject).toBe("denied");
    }
    const seen: Msg[] = [];
    let sawReply: () => void = () => {};
    const replySeen = new Promise<void>((resolve) => {
      sawReply = resolve;
    });
    spy.subscribe("_INBOX_bootstrap.>", {
      callback: (_e, m) => {
        seen.push(m);
        sawReply();
      },
    });
    await spy.flush();
    // The access service's own side of the wire: every request as it arrives in ADMIN.
    const tap = await connectAs(stack, "access");
    closers.push(() => tap.close());
    const requests: string[] = [];
    tap.subscribe(ACCESS_SUBJECT, {
      callback: (_e, m) => {
        requests.push(m.string());
      },
    });
    await tap.flush();

    const registrant = await connectAs(stack, "bootstrap");
    closers.push(() => registrant.close());
    const carol = await register(registrant, "Carol", chatOptions(stack));
    expect(carol.name).toBe("carol");
    await within(replySeen, "the spy to see the reply");
    await tap.flush();

    // The spy did see the reply (shared inbox prefix), and it is only the public user JWT.
    expect(seen.map((m) => m.string())).toContain(carol.jwt);
    for (const m of seen) {
      expect(m.string()).not.toMatch(SEED_PATTERN);
      expect(m.string()).not.toContain(carol.seed);
    }
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request).not.toMatch(SEED_PATTERN);
    expect(request).not.toContain(carol.seed);
    const claims = await verifyJwt(request as string, { issuer: "U" });
    expect(claims).toMatchObject({ iss: carol.publicKey, sub: carol.publicKey, name: "carol" });
    // The reply is a user JWT for carol's key; her creds work and carry her own seed.
    expect(SEED_PATTERN.test(carol.jwt)).toBe(false);
    const parsed = await parseCreds(carol.creds);
    expect(parsed.publicKey).toBe(carol.publicKey);

    // Forging: the server itself refuses any publish into an inbox, including the one just seen.
    const replySubject = (seen[0] as Msg).subject;
    expect(await probePublish(spy, replySubject)).toBe("denied");
    expect(await probePublish(spy, "_INBOX_bootstrap.forged")).toBe("denied");
    expect(await probePublish(spy, "_INBOX.forged")).toBe("denied");
    expect(await probePublish(spy, ACCESS_SUBJECT)).toBe("allowed");
  });

  it("issues a JWT signed by the CHAT signing key with chat permissions, payload limit and expiry", async () => {
    const dave = await register(bootstrap, "dave", chatOptions(stack));
    const claims = await verifyJwt(dave.jwt, { issuer: "A" });
    const chat = stack.trust.summary.accounts.CHAT;
    expect(claims.iss).toBe(chat.signingKeys[0]);
    expect(claims.nats).toMatchObject({
      type: "user",
      issuer_account: chat.publicKey,
      payload: CHAT_USER_MAX_PAYLOAD,
    });
    expect(claims.name).toBe("dave");
    const days = ((claims.exp ?? 0) - (claims.iat ?? 0)) / 86400;
    expect(days).toBe(30);
    const nc = await connectUser(stack, dave);
    closers.push(() => nc.close());
    // protocol v3: the permissions are bound to dave's own key (chatUserPermissions(key))
    expect(claims.nats).toMatchObject(chatUserPermissions(dave.publicKey));
    expect(await probePublish(nc, `chat.KUBECON.posts.General.${dave.publicKey}`)).toBe("allowed");
    expect(await probePublish(nc, "chat.KUBECON.posts.General")).toBe("denied");
    expect(await probePublish(nc, PROVISIONED_SUBJECT)).toBe("denied");
  });

  it("broadcasts only the change, and answers the registry in pages", async () => {
    const updates: string[] = [];
    let got: () => void = () => {};
    const arrived = new Promise<void>((r) => {
      got = r;
    });
    const sub = admin.subscribe(PROVISIONED_UPDATES_SUBJECT, {
      callback: (_e, m) => {
        updates.push(m.string());
        got();
      },
    });
    await admin.flush();
    const erin = await register(bootstrap, "erin", chatOptions(stack));
    await within(arrived, "the registry update");
    sub.unsubscribe();
    expect(updates.map((u) => parseRegistryChange(u))).toEqual([
      { op: "registered", user: expect.objectContaining({ name: "erin", key: erin.publicKey }) },
    ]);
    const first = parseRegistryPage(
      (await admin.request(PROVISIONED_SUBJECT, "", { timeout: 5000 })).string(),
    );
    const map = Object.fromEntries(first.users.map((u) => [u.name, u.key]));
    expect(map.erin).toBe(erin.publicKey);
    expect(map.carol).toBeDefined();
    const page = parseRegistryPage(
      (
        await admin.request(PROVISIONED_SUBJECT, JSON.stringify({ detail: true, limit: 2 }), {
          timeout: 5000,
        })
      ).string(),
    );
    expect(page.users).toHaveLength(2);
    expect(page.next).toBe(page.users[1]?.name);
    expect(page.total).toBe(svc.registry.size);
  });

  it("renews through the CHAT import for the same key, and refuses the name to any other key", async () => {
    const frank = await register(bootstrap, "frank", chatOptions(stack));
    const nc = await connectUser(stack, frank);
    closers.push(() => nc.close());
    const signer = await signerFromSeed(frank.seed);
    // frank is a chat user now: his renewal travels through CHAT's import of chat.req.access.
    const renewed = await renew(nc, signer, "frank", chatOptions(stack));
    expect(renewed).toMatchObject({ name: "frank", publicKey: frank.publicKey });
    expect(renewed.expires?.getTime()).toBeGreaterThanOrEqual(frank.expires?.getTime() ?? 0);
    await expect(register(bootstrap, "frank", chatOptions(stack))).rejects.toMatchObject({
      code: "NAME_TAKEN",
      message: expect.stringContaining('"frank" is taken'),
    });
    // the same key cannot collect a second name
    await expect(renew(nc, signer, "frank2", chatOptions(stack))).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining('registered as "frank"'),
    });
  });

  it("a key that asks for a second name right after its first is refused (the replica's view has the first at once)", async () => {
    for (let i = 0; i < 20; i++) {
      const { signer } = await newUserSigner();
      const first = await rawRequest(await encodeAccessRequest(signer, `twin-a${i}`));
      expect(first.code, first.body).toBeUndefined();
      const second = await rawRequest(await encodeAccessRequest(signer, `twin-b${i}`));
      expect(second.code, `round ${i}: ${second.body}`).toBe("BAD_REQUEST");
      expect(second.body).toContain(`registered as "twin-a${i}"`);
    }
  });

  it("tracks verified presence only for the key the registry issued under that name", async () => {
    const gina = await register(bootstrap, "gina", chatOptions(stack));
    const hank = await register(bootstrap, "hank", chatOptions(stack));
    const stranger = await mintChatUser(stack.dir, "stranger");
    const before = svc.presence.stats();
    const ginaSigner = await signerFromSeed(gina.seed);
    const hankSigner = await signerFromSeed(hank.seed);
    const strangerSigner = await signerFromSeed(stranger.seed);
    const conns = await Promise.all([gina, hank, stranger].map((u) => connectUser(stack, u)));
    closers.push(...conns.map((c) => () => c.close()));
    const [gNc, hNc, sNc] = conns as [NatsConnection, NatsConnection, NatsConnection];
    // protocol v3: each on its own presence subject (the server lets only that key publish there)
    const on = (s: { publicKey: string }) => presenceSubject(s.publicKey);
    hNc.publish(on(hankSigner), await encodePresence(hankSigner, { name: "gina" })); // lies
    sNc.publish(on(strangerSigner), await encodePresence(strangerSigner, { name: "stranger" }));
    gNc.publish(on(ginaSigner), await encodePresence(ginaSigner, { name: "gina", first: true }));
    await Promise.all(conns.map((c) => c.flush()));
    // Presence arrives through ADMIN's import and is verified asynchronously: each round trip on
    // the service's connection lets it take the next messages.
    const deadline = Date.now() + 10_000;
    while (svc.presence.stats().accepted === before.accepted && Date.now() < deadline) {
      await svc.nc.flush();
    }
    const page = (
      await admin.request(
        PROVISIONED_SUBJECT,
        JSON.stringify({ detail: true, after: "gin", limit: 1 }),
        {
          timeout: 5000,
        },
      )
    ).json<{ users: { name: string; lastSeen?: string }[] }>();
    expect(page.users[0]).toMatchObject({ name: "gina", lastSeen: expect.any(String) });
    const after = svc.presence.stats();
    expect(after.accepted - before.accepted).toBe(1);
    expect((after.dropped["name-mismatch"] ?? 0) - (before.dropped["name-mismatch"] ?? 0)).toBe(1);
    expect((after.dropped["unknown-key"] ?? 0) - (before.dropped["unknown-key"] ?? 0)).toBe(1);
    expect(svc.presence.lastSeen("hank")).toBeUndefined();
    // last-seen reaches the registry in the periodic write (revision-checked), then only when it moved
    expect(await svc.presence.persist()).toBe(1);
    const stored = await svc.registry.fetch("gina");
    expect(stored?.record.lastSeen).toBe(page.users[0]?.lastSeen);
    expect(await svc.presence.persist()).toBe(0);
  });

  describe("(f) bad input gets a clear, specific error", () => {
    const cases: [string, string, RegExp][] = [
      ["empty", "", /name is empty/],
      ["blank", "   \t ", /only whitespace/],
      ["too long", "a".repeat(17), /17 characters long, the maximum is 16/],
      ["unicode look-alike (Cyrillic а)", "\u0430lice", /non-ASCII character 'а' \(U\+0430\)/],
      ["unicode look-alike (Kelvin sign)", "\u212Aate", /non-ASCII character '\u212A' \(U\+212A\)/],
      ["control character", "al\u0007ice", /control character U\+0007/],
      ["bidi override", "\u202Eevil", /U\+202E/],
      ["dot", "al.ice", /has '\.'/],
      ["star", "*", /has '\*'/],
      ["greater-than", ">", /has '>'/],
      ["path-like", "../etc/passwd", /has '\.'/],
      ["slash", "a/b", /has '\/'/],
      ["leading dash", "-bob", /must start with a letter or a digit/],
    ];
    for (const [label, name, message] of cases) {
      it(`name: ${label}`, async () => {
        const { signer } = await newUserSigner();
        const r = await rawRequest(await craftRequest(signer, name));
        expect(r.code).toBe("NAME_INVALID");
        expect(r.body).toMatch(/^-ERR '.*'$/);
        expect(r.body).toMatch(message);
      });
    }

    it("a 10 KB name is refused by size before anything is parsed", async () => {
      const { signer } = await newUserSigner();
      const r = await rawRequest(await craftRequest(signer, "x".repeat(10_240)));
      expect(r.code).toBe("BAD_REQUEST");
      expect(r.body).toMatch(/^-ERR 'access request is \d+ bytes, the limit is 2048'$/);
    });

    it("JSON and other garbage", async () => {
      for (const body of [
        '{"name": "alice"',
        '{"name":"alice"}',
        "[1,2",
        "eyJhbGciOiJub25lIn0.e30.",
        "eyJ!!!.x.y",
        "a\nb",
      ]) {
        const r = await rawRequest(body);
        expect(r.code, body).toBe("BAD_REQUEST");
        expect(r.body, body).toMatch(/^-ERR 'access request is not (a signed JWT|a valid JWT)/);
      }
      const r = await rawRequest(new Uint8Array([0xff, 0xfe, 0x00]));
      expect(r).toEqual({ code: "BAD_REQUEST", body: "-ERR 'access request is not UTF-8 text'" });
      expect(await rawRequest("")).toMatchObject({
        code: "BAD_REQUEST",
        body: expect.stringMatching(/is empty/),
      });
    });

    it("a talk-style plain-text request is refused while legacy mode is off", async () => {
      const r = await rawRequest("alice");
      expect(r.code).toBe("LEGACY_DISABLED");
      expect(r.body).toMatch(/plain-text access requests .* are disabled/);
    });

    it("an account key where a user key belongs", async () => {
      const { signer } = await newSigner("A");
      const r = await rawRequest(await craftRequest(signer, "acct"));
      expect(r.code).toBe("BAD_PROOF");
      expect(r.body).toMatch(/signed by a user key \('U\.\.\.'\), not 'A\.\.\.'/);
    });

    it("a bad signature, a foreign sub, a stale and a future request", async () => {
      const { signer } = await newUserSigner();
      const a = await craftRequest(signer, "sig");
      const b = await craftRequest(signer, "sig2");
      const [h, p] = a.split(".");
      const forged = `${h}.${p}.${b.split(".")[2]}`;
      expect(await rawRequest(forged)).toMatchObject({
        code: "BAD_PROOF",
        body: expect.stringMatching(/signature does not match its key/),
      });
      const { signer: other } = await newUserSigner();
      expect(
        await rawRequest(await craftRequest(signer, "sub", { sub: other.publicKey })),
      ).toMatchObject({
        code: "BAD_PROOF",
        body: expect.stringMatching(/sub must be the signing user key/),
      });
      const old = Math.floor(Date.now() / 1000) - 3600;
      expect(await rawRequest(await craftRequest(signer, "stale", { iat: old }))).toMatchObject({
        code: "BAD_PROOF",
        body: expect.stringMatching(/36\d\d s old, the limit is 60 s/),
      });
      const ahead = Math.floor(Date.now() / 1000) + 3600;
      expect(await rawRequest(await craftRequest(signer, "future", { iat: ahead }))).toMatchObject({
        code: "BAD_PROOF",
        body: expect.stringMatching(/ahead; check your clock/),
      });
    });

    it("a replayed request", async () => {
      const { signer } = await newUserSigner();
      const token = await encodeAccessRequest(signer, "replayed");
      const first = await rawRequest(token);
      expect(first.code).toBeUndefined();
      expect(first.body.split(".")).toHaveLength(3);
      expect(await rawRequest(token)).toMatchObject({
        code: "REPLAY",
        body: "-ERR 'this access request was already used; sign a new one'",
      });
    });

    it("too many requests for one name", async () => {
      const codes: (string | undefined)[] = [];
      for (let i = 0; i < 4; i++) {
        const { signer } = await newUserSigner();
        codes.push((await rawRequest(await encodeAccessRequest(signer, "busy"))).code);
      }
      expect(codes).toEqual([undefined, "NAME_TAKEN", "NAME_TAKEN", "RATE_LIMITED"]);
      const { signer } = await newUserSigner();
      const r = await rawRequest(await encodeAccessRequest(signer, "busy"));
      expect(r.body).toMatch(
        /too many requests for this name \(limit 3 per 60 s\); retry in \d+ s/,
      );
    });

    it("no error reply carries a stack trace or a seed", async () => {
      const { signer } = await newUserSigner();
      for (const body of ["", "x".repeat(5000), "{", await craftRequest(signer, "a b")]) {
        const r = await rawRequest(body);
        expect(r.body).not.toMatch(/\n\s+at /);
        expect(r.body).not.toMatch(SEED_PATTERN);
        expect(r.body.split("\n")).toHaveLength(1);
      }
    });
  });

  it("(g) $SRV.PING, INFO and STATS find the service and its endpoints", async () => {
    const client = new Svcm(admin).client({ strategy: "stall", stall: 300, maxWait: 2000 });
    const pings = [];
    for await (const p of await client.ping(SERVICE_NAME)) pings.push(p);
    expect(pings.map((p) => p.id)).toContain(svc.id);
    expect(pings[0]?.name).toBe(SERVICE_NAME);
    const infos = [];
    for await (const i of await client.info(SERVICE_NAME)) infos.push(i);
    const info = infos.find((i) => i.id === svc.id);
    expect(info?.endpoints.map((e) => [e.name, e.subject, e.queue_group])).toEqual([
      ["access", ACCESS_SUBJECT, SERVICE_QUEUE],
      ["provisioned", PROVISIONED_SUBJECT, SERVICE_QUEUE],
      ["revoke", "chat.req.revoke", SERVICE_QUEUE],
      ["lookup", "chat.svc.directory.lookup", SERVICE_QUEUE],
      ["online", "chat.svc.directory.online", SERVICE_QUEUE],
    ]);
    const stats = [];
    for await (const s of await client.stats(SERVICE_NAME)) stats.push(s);
    const access = stats.find((s) => s.id === svc.id)?.endpoints?.find((e) => e.name === "access");
    expect(access?.num_requests).toBeGreaterThan(10);
    expect(access?.data).toMatchObject({
      ok: expect.any(Number),
      errors: { NAME_INVALID: expect.any(Number), REPLAY: 1 },
      registered: svc.registry.size,
    });
  });

  it("serves the talk's plain-text request only when legacy mode is switched on", async () => {
    await svc.stop();
    const legacy = await startService(stack, { legacyPlaintext: true });
    closers.push(() => legacy.stop());
    // the queue group must hold the legacy replica alone before the first plain-text request
    const client = new Svcm(admin).client({ strategy: "stall", stall: 300, maxWait: 2000 });
    await eventually(async () => {
      const ids = [];
      for await (const p of await client.ping(SERVICE_NAME)) ids.push(p.id);
      return ids.length === 1 && ids[0] === legacy.id;
    }, "the legacy replica alone in $SRV.PING");
    const r = await rawRequest("  Legacy ");
    expect(r.code).toBeUndefined();
    const creds = await parseCreds(r.body);
    expect(creds.claims.name).toBe("legacy");
    expect(legacy.registry.get("legacy")?.record).toMatchObject({
      legacy: true,
      key: creds.publicKey,
    });
    expect(await rawRequest("legacy")).toMatchObject({ code: "NAME_TAKEN" });
    expect(await rawRequest("bad.name")).toMatchObject({ code: "NAME_INVALID" });
    // the signed path keeps working next to it
    const ivan = await register(bootstrap, "ivan", chatOptions(stack));
    expect(ivan.name).toBe("ivan");
    expect(AccessError).toBeDefined();
  });
});
