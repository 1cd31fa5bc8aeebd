// Support for the attack tests (packages/e2e/test/attack-*.test.ts): a hostile chat user as
// issue 10 describes it, holding its own creds (any number of self-registered keys), publishing
// whatever its permissions allow as fast as it can. The tests assert what the SERVER did: a
// permission violation, a refused store, the victims' stored messages still there (read back
// with the operator-held `leaf` role, unrestricted in CHAT), never what a client chose to show.
//
// The helpers speak both protocol versions, so each attack test was first run against the code
// before issue 10 (v2: one subject per channel or DM inbox, users publishing into the streams
// through JetStream) and failed there; V3 is detected from the protocol package's exports.
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { errors, type Msg, type NatsConnection } from "@nats-io/nats-core";
import * as protocol from "@natschat/protocol";
import type { MintedUser, TestStack } from "@natschat/testing";
import * as testing from "@natschat/testing";
import { connectRole, connectWithCreds } from "@natschat/trust";

/** True on protocol v3 (sender-keyed subjects, the history service stores). */
export const V3 = "presenceSubject" in protocol;

/** The live subject a sender publishes a post, DM or presence on, in the running version. */
export const subjects = {
  post: (channel: string, sender: string) =>
    V3 ? `chat.KUBECON.posts.${channel}.${sender}` : `chat.KUBECON.posts.${channel}`,
  dm: (to: string, sender: string) =>
    V3 ? `chat.KUBECON.dms.${to}.${sender}` : `chat.KUBECON.dms.${to}`,
  presence: (sender: string) => (V3 ? `chat.KUBECON.online.${sender}` : "chat.KUBECON.online"),
};

/** A running test stack with its stores, and the leaf connection that reads them back. */
export interface AttackStack {
  stack: TestStack;
  /** `leaf` role (unrestricted in CHAT, operator-held): the ground truth of the stores. */
  leaf: NatsConnection;
  stop(): Promise<void>;
}

/** Starts a single-server stack with the stores (v3: the history service; v2: the streams). */
export async function startAttackStack(
  history: { dailyQuotaBytes?: number; staleSeconds?: number } = {},
): Promise<AttackStack> {
  const stack = await testing.startTestStack();
  const leaf = await connectRole({
    servers: stack.urls,
    credsPath: stack.creds("leaf"),
    inboxOwner: "leaf",
  });
  let stopHistory = async () => {};
  // by name, so this file also runs against the code before issue 10 (no history service there)
  const t = testing as unknown as Record<string, unknown>;
  if (typeof t.startTestHistory === "function") {
    const start = t.startTestHistory as (
      st: TestStack,
      o: Record<string, unknown>,
    ) => Promise<{ stop(): Promise<void> }>;
    const svc = await start(stack, history);
    stopHistory = () => svc.stop();
  } else {
    const ensure = t.withChatStreams as (st: TestStack) => Promise<NatsConnection>;
    await (await ensure(stack)).close();
  }
  return {
    stack,
    leaf,
    async stop() {
      await stopHistory();
      await leaf.close();
      await stack.stop();
    },
  };
}

/** Connects as a chat user with its own inbox prefix. */
export function connectUser(stack: TestStack, user: MintedUser): Promise<NatsConnection> {
  return connectWithCreds(new TextEncoder().encode(user.creds), user.name, {
    servers: stack.urls,
    inboxOwner: user.publicKey,
    name: `attack-${user.name}`,
  });
}

/** What happened to one publish. */
export type Outcome = "stored" | "duplicate" | "refused" | "denied" | "timeout";

/** The writer's refusal codes seen by attackSend in this process (v3), e.g. QUOTA, STORE_FULL. */
export const refusals: Record<string, number> = {};

/** Stores a genuine message the way the running version does; returns the stream sequence. */
export async function storeGenuine(
  nc: NatsConnection,
  subject: string,
  token: string,
): Promise<number> {
  if (V3) {
    const r = await nc.request(subject, token, { timeout: 5000 });
    const ack = protocol.parseStoreReply({
      data: r.data,
      header: (k) => r.headers?.get(k) || undefined,
    });
    if (!ack.ok) throw new Error(`not stored: ${ack.code} ${ack.message}`);
    return ack.value.seq;
  }
  return (await jetstream(nc).publish(subject, token)).seq;
}

/**
 * Sends one message as an attacker: v3 a request on the live subject (the writer answers), v2 a
 * JetStream publish into the stream. Never throws: the outcome says what the server did.
 */
export async function attackSend(
  nc: NatsConnection,
  subject: string,
  payload: string | Uint8Array,
): Promise<Outcome> {
  try {
    if (V3) {
      const r: Msg = await nc.request(subject, payload, { timeout: 5000 });
      const ack = protocol.parseStoreReply({
        data: r.data,
        header: (k) => r.headers?.get(k) || undefined,
      });
      if (ack.ok) return ack.value.duplicate ? "duplicate" : "stored";
      refusals[ack.code] = (refusals[ack.code] ?? 0) + 1;
      return "refused";
    }
    const pa = await jetstream(nc).publish(subject, payload, { timeout: 5000 });
    return pa.duplicate ? "duplicate" : "stored";
  } catch (err) {
    if (err instanceof errors.PermissionViolationError) return "denied";
    if (err instanceof errors.NoRespondersError) return "denied";
    if (err instanceof errors.TimeoutError) return "timeout";
    return "refused";
  }
}

/** Sends many messages, `parallel` in flight at a time; counts the outcomes. */
export async function flood(
  nc: NatsConnection,
  subject: string,
  payloads: (i: number) => Promise<string | Uint8Array> | string | Uint8Array,
  n: number,
  parallel = 64,
): Promise<Record<Outcome, number>> {
  const counts: Record<Outcome, number> = {
    stored: 0,
    duplicate: 0,
    refused: 0,
    denied: 0,
    timeout: 0,
  };
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      counts[await attackSend(nc, subject, await payloads(i))]++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return counts;
}

/** The ground truth: the stream still holds `seq` with exactly `token`. */
export async function stillStored(
  leaf: NatsConnection,
  stream: string,
  seq: number,
  token: string,
): Promise<boolean> {
  const jsm = await jetstreamManager(leaf);
  const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
  return m !== null && new TextDecoder().decode(m.data) === token;
}

/** Every stored message of a stream whose body is `token` (how many copies the store holds). */
export async function copiesOf(leaf: NatsConnection, stream: string, token: string) {
  const js = jetstream(leaf);
  const c = await js.consumers.get(stream);
  const info = await c.info(true);
  let copies = 0;
  if (info.num_pending === 0) return 0;
  const it = await c.fetch({ max_messages: info.num_pending, expires: 5000 });
  for await (const m of it) {
    if (m.string() === token) copies++;
    if (m.info.pending === 0) break;
  }
  return copies;
}

/** The cast of the DM attacks: alice has DMed bob `text` (stored); mallory is the attacker. */
export async function aliceDmsBob(
  s: AttackStack,
  text: string,
): Promise<{ alice: MintedUser; bob: MintedUser; mallory: MintedUser }> {
  const [alice, bob, mallory] = (await Promise.all(
    ["alice", "bob", "mallory"].map((n) => testing.mintChatUser(s.stack.dir, n)),
  )) as [MintedUser, MintedUser, MintedUser];
  const a = await connectUser(s.stack, alice);
  try {
    const token = await protocol.encodeDm(await protocol.signerFromSeed(alice.seed), {
      name: "alice",
      to: bob.publicKey,
      msg: text,
    });
    await storeGenuine(a, subjects.dm(bob.publicKey, alice.publicKey), token);
  } finally {
    await a.close();
  }
  return { alice, bob, mallory };
}
