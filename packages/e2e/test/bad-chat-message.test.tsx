// Bad chat messages reach a real ChatSession through a real server: an attacker holding valid
// chat-user creds publishes crafted payloads on its own posts, DM and presence subjects
// (protocol v3: the server lets it publish only under its own key). Each is
// dropped and counted by reason (snapshot().drops), never shown and never fatal: the receiver
// keeps its connection, and a valid marker post from the same sender, published right after,
// arrives and is shown (NATS keeps one publisher's order, so the bad one was handled first).
// HTML and script in a text are not bad input: they are kept verbatim and shown as text (the
// terminal here; the browser in packages/web/test/web.test.ts). Each drop reason is also
// unit-tested in packages/protocol/test/envelope.test.ts.
import { createConnection } from "node:net";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ChatSession } from "@natschat/client";
import type { HistoryService } from "@natschat/history";
import {
  base64urlEncode,
  DM_TYPE,
  dmSubject,
  ENVELOPE_MAX_BYTES,
  encodeDm,
  encodeJwt,
  encodePost,
  encodePresence,
  MSG_MAX_LENGTH,
  newSigner,
  POST_TYPE,
  postSubject,
  presenceSubject,
  randomJti,
  type Signer,
  signerFromSeed,
} from "@natschat/protocol";
import {
  type MintedUser,
  mintChatUser,
  startTestDirectory,
  startTestHistory,
  startTestStack,
  type TestDirectory,
  type TestStack,
} from "@natschat/testing";
import { connectRole } from "@natschat/trust";
import { ChatApp } from "@natschat/tui";
import { render } from "ink-testing-library";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionPool, texts, waitForPost, waitOnline, within } from "../src/mod.ts";

let stack: TestStack;
let leaf: NatsConnection;
let history: HistoryService;
let directory: TestDirectory;
let pool: SessionPool;
let reader: ChatSession;
let readerUser: MintedUser;
let mallory: MintedUser;
let attacker: NatsConnection;
let signer: Signer;
let marks = 0;

beforeAll(async () => {
  stack = await startTestStack();
  leaf = await connectRole({
    servers: stack.urls,
    credsPath: stack.creds("leaf"),
    inboxOwner: "leaf",
  });
  history = await startTestHistory(stack);
  directory = await startTestDirectory(stack);
  pool = new SessionPool(stack.trust.summary);
  [readerUser, mallory] = await Promise.all([
    mintChatUser(stack.dir, "reader"),
    mintChatUser(stack.dir, "mallory"),
  ]);
  directory.register(readerUser);
  directory.register(mallory);
  reader = await pool.open(readerUser, stack.urls, "reader");
  const m = await pool.open(mallory, stack.urls, "mallory");
  await waitOnline(reader, [mallory.publicKey]);
  attacker = pool.connectionOf(m);
  signer = await signerFromSeed(mallory.seed);
  await reader.historyLoaded();
});

afterAll(async () => {
  await pool?.stopAll();
  await leaf?.close();
  await directory?.stop();
  await history?.stop();
  await stack?.stop();
});

/** mallory's own subject of posts to `channel` (the only one the server lets it post on). */
const posts = (channel = "General") => postSubject(channel, mallory.publicKey);

/** Claims of a post from mallory to #General, overridable. */
function post(over: Record<string, unknown> = {}, nats: Record<string, unknown> = {}) {
  return {
    jti: randomJti(),
    iat: Math.floor(Date.now() / 1000),
    name: "mallory",
    sub: "General",
    nats: { type: POST_TYPE, msg: "bad one", version: 2, ...nats },
    ...over,
  };
}

/**
 * Publishes `payload` on `subject`, then a valid marker post; once the marker is shown, checks
 * that the reader counted exactly one drop for `reason` and shows nothing else new.
 */
async function expectDropped(
  subject: string,
  payload: string | Uint8Array,
  reason: string,
  from: NatsConnection = attacker,
): Promise<void> {
  const before = reader.snapshot();
  const shownBefore = texts(before, "General").length;
  from.publish(subject, payload);
  // a marker from another connection is ordered after the bad one only once that one is through
  if (from !== attacker) await from.flush();
  const marker = `marker ${++marks}`;
  attacker.publish(
    posts(),
    await encodePost(signer, { name: "mallory", channel: "General", msg: marker }),
  );
  const after = await waitForPost(reader, "General", marker);
  expect(after.drops[reason] ?? 0, `drops of ${reason}`).toBe((before.drops[reason] ?? 0) + 1);
  expect(after.dropped).toBe(before.dropped + 1);
  expect(texts(after, "General")).toHaveLength(shownBefore + 1);
  expect(reader.state).toBe("connected");
}

const b64 = (v: unknown) => base64urlEncode(new TextEncoder().encode(JSON.stringify(v)));

describe("bad chat messages are dropped and counted", () => {
  it("not a JWT", async () => {
    await expectDropped(posts(), "hello, I am not a JWT", "not-jwt");
  });

  it("invalid UTF-8", async () => {
    await expectDropped(posts(), new Uint8Array([0xff, 0xfe, 0x41]), "not-jwt");
  });

  it("bad signature (another key's signature)", async () => {
    const { signer: other } = await newSigner("U");
    const good = await encodeJwt(signer, post());
    const forged = await encodeJwt(other, post());
    const token = `${good.split(".").slice(0, 2).join(".")}.${forged.split(".")[2]}`;
    await expectDropped(posts(), token, "bad-signature");
  });

  it('wrong alg ("HS256")', async () => {
    const token = `${b64({ typ: "JWT", alg: "HS256" })}.${b64({ ...post(), iss: mallory.publicKey })}.c2ln`;
    await expectDropped(posts(), token, "bad-alg");
  });

  it("signed by an account key, not a user key", async () => {
    const { signer: account } = await newSigner("A");
    await expectDropped(posts(), await encodeJwt(account, post()), "bad-issuer");
  });

  it("missing field (no jti)", async () => {
    await expectDropped(
      posts(),
      await encodeJwt(signer, post({ jti: undefined })),
      "missing-field",
    );
  });

  it("missing field (no nats.msg)", async () => {
    await expectDropped(
      posts(),
      await encodeJwt(signer, post({}, { msg: undefined })),
      "missing-field",
    );
  });

  it("wrong type (iat is a string)", async () => {
    await expectDropped(posts(), await encodeJwt(signer, post({ iat: "yesterday" })), "wrong-type");
  });

  it("wrong type (nats.msg is an object)", async () => {
    await expectDropped(
      posts(),
      await encodeJwt(signer, post({}, { msg: { html: "<b>x</b>" } })),
      "wrong-type",
    );
  });

  it("wrong type (a post whose sub is not a channel)", async () => {
    await expectDropped(posts(), await encodeJwt(signer, post({ sub: "Gen.eral" })), "wrong-type");
  });

  it(`oversize text (${MSG_MAX_LENGTH + 1} characters)`, async () => {
    await expectDropped(
      posts(),
      await encodeJwt(signer, post({}, { msg: "x".repeat(MSG_MAX_LENGTH + 1) })),
      "oversize",
    );
  });

  it(`oversize token (over ${ENVELOPE_MAX_BYTES} bytes, refused before parsing)`, async () => {
    // a chat user cannot even publish this (its payload limit is the envelope limit): the leaf
    // role, unrestricted in CHAT, stands in for a misbehaving server-side publisher
    const blob = `eyJ${"A".repeat(ENVELOPE_MAX_BYTES)}`;
    await expectDropped(posts(), blob, "oversize", leaf);
  });

  it("a future iat (one hour ahead)", async () => {
    const iat = Math.floor(Date.now() / 1000) + 3600;
    await expectDropped(posts(), await encodeJwt(signer, post({ iat })), "future-iat");
  });

  it('an unknown nats.type ("chat-poll")', async () => {
    await expectDropped(
      posts(),
      await encodeJwt(signer, post({}, { type: "chat-poll" })),
      "unknown-type",
    );
  });

  it("a post for #General published on #NATS", async () => {
    await expectDropped(posts("NATS"), await encodeJwt(signer, post()), "wrong-subject");
  });

  it("a post signed by mallory on a subject that names the reader's key", async () => {
    // the server refuses that publish from mallory; the leaf role, unrestricted in CHAT, stands
    // in for a misbehaving server-side publisher, and the reader still drops it
    await expectDropped(
      postSubject("General", readerUser.publicKey),
      await encodeJwt(signer, post()),
      "signer-mismatch",
      leaf,
    );
  });

  it("a replayed post (the same signed token twice)", async () => {
    const token = await encodePost(signer, { name: "mallory", channel: "General", msg: "once" });
    attacker.publish(posts(), token);
    await waitForPost(reader, "General", "once");
    await expectDropped(posts(), token, "replay");
    expect(texts(reader.snapshot(), "General").filter((t) => t === "once")).toHaveLength(1);
  });

  it("a stale post (older than the live window of 240 s)", async () => {
    const iat = Math.floor(Date.now() / 1000) - 600;
    await expectDropped(posts(), await encodeJwt(signer, post({ iat })), "expired");
  });

  it("presence never reaches a reader: an expired one, or one carrying another's user JWT", async () => {
    // issue 12: heartbeats go to the directory only (its verifier drops the expired one; it
    // names keys from the registry, never from a JWT a heartbeat carries); a reader is neither
    // made to verify them nor misled by them
    const before = reader.snapshot();
    for (const token of [
      await encodePresence(signer, { name: "mallory", ttlSeconds: -120 }),
      await encodePresence(signer, { name: "reader", userJwt: readerUser.jwt }),
    ]) {
      attacker.publish(presenceSubject(mallory.publicKey), token);
    }
    const marker = `marker ${++marks}`;
    attacker.publish(
      posts(),
      await encodePost(signer, { name: "mallory", channel: "General", msg: marker }),
    );
    const after = await waitForPost(reader, "General", marker);
    expect(after.dropped).toBe(before.dropped);
    expect(after.users.find((u) => u.key === mallory.publicKey)?.name).toBe("mallory");
  });

  it("a DM on the reader's subject addressed to someone else", async () => {
    const { signer: third } = await newSigner("U");
    const token = await encodeDm(signer, {
      name: "mallory",
      to: third.publicKey,
      msg: "misrouted",
    });
    await expectDropped(dmSubject(readerUser.publicKey, mallory.publicKey), token, "wrong-subject");
  });

  it("a DM whose sub is not a user key", async () => {
    const token = await encodeJwt(signer, {
      jti: randomJti(),
      iat: Math.floor(Date.now() / 1000),
      name: "mallory",
      sub: "reader",
      nats: { type: DM_TYPE, msg: "to a name", version: 2 },
    });
    await expectDropped(dmSubject(readerUser.publicKey, mallory.publicKey), token, "wrong-type");
  });
});

describe("oversize beyond the account's payload limit", () => {
  it("the client library refuses it before the wire, naming the limit", async () => {
    expect(() => attacker.publish(posts(), new Uint8Array(20_000))).toThrow(
      /max_payload size exceeded/,
    );
    expect(reader.state).toBe("connected");
  });

  it("the server refuses it from a raw client: Maximum Payload Violation, connection closed", async () => {
    const url = new URL((stack.urls[0] as string).replace("nats:", "http:"));
    const reply = await rawNatsPublish(
      { host: url.hostname, port: Number(url.port) },
      mallory,
      posts(),
      20_000,
    );
    expect(reply.lines).toContain("-ERR 'Maximum Payload Violation'");
    expect(reply.closed).toBe(true);
    // everyone else carries on
    await expectDropped(posts(), "still here?", "not-jwt");
  });
});

/**
 * Speaks the NATS protocol by hand: CONNECT with the user JWT and the signed nonce, then one PUB
 * of `size` bytes. Returns the server's lines and whether it closed the socket.
 */
async function rawNatsPublish(
  at: { host: string; port: number },
  user: MintedUser,
  subject: string,
  size: number,
): Promise<{ lines: string[]; closed: boolean }> {
  const me = await signerFromSeed(user.seed);
  const socket = createConnection(at);
  const lines: string[] = [];
  let buffered = "";
  let connected = false;
  const done = new Promise<boolean>((resolve) => {
    socket.on("data", (d: Buffer) => {
      buffered += d.toString("latin1");
      for (let i = buffered.indexOf("\r\n"); i >= 0; i = buffered.indexOf("\r\n")) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 2);
        lines.push(line);
        if (line.startsWith("INFO ") && !connected) {
          connected = true;
          const { nonce } = JSON.parse(line.slice(5)) as { nonce: string };
          void me.sign(new TextEncoder().encode(nonce)).then((sig) => {
            const connect = {
              verbose: false,
              pedantic: false,
              protocol: 1,
              jwt: user.jwt,
              sig: base64urlEncode(sig),
            };
            socket.write(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
          });
        } else if (line === "PONG") {
          socket.write(`PUB ${subject} ${size}\r\n${"x".repeat(size)}\r\n`);
        }
      }
    });
    socket.on("close", () => resolve(true));
    socket.on("error", () => {
      // the close event follows and settles the result
    });
  });
  const closed = await within(done, "the server to answer the oversize publish", 10_000);
  return { lines, closed };
}

describe("HTML and script in a text", () => {
  it("are kept verbatim and shown as text by the terminal chat", async () => {
    const html = `<img src=x onerror="alert(1)"><script>alert('x')</script> & <b>bold</b>`;
    attacker.publish(
      posts(),
      await encodePost(signer, { name: "mallory", channel: "General", msg: html }),
    );
    const snap = await waitForPost(reader, "General", html, { from: "mallory" });
    expect(snap.channels.find((c) => c.id === "#General")?.messages.at(-1)?.text).toBe(html);
    reader.select("#General");
    const ui = render(<ChatApp model={reader} onQuit={() => {}} columns={200} rows={40} />);
    try {
      const frame = ui.lastFrame() ?? "";
      expect(frame).toContain(`<script>alert('x')</script>`);
      expect(frame).toContain(`<img src=x onerror="alert(1)">`);
    } finally {
      ui.unmount();
    }
  });
});
