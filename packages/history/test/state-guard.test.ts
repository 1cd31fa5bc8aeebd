// A state bucket filled by reactions must not block deletions (issue 13, found by the attacker
// helper: one key's reactions fill the 64 MiB bucket in ~40 minutes, and a full bucket would
// refuse an author's deletion and an admin's removal as well). Above its high-water mark the
// writer refuses what makes states grow (a reaction added, an edit) and keeps the rest of the
// bucket for deletions, removals and reactions taken back. Here the mark is 1 byte, so the first
// state written crosses it.
import type { NatsConnection } from "@nats-io/nats-core";
import type { HistoryService } from "@natschat/history";
import {
  type Conv,
  decodeJwtUnverified,
  encodeDelete,
  encodeEdit,
  encodePost,
  encodeReaction,
  eventSubject,
  messageId,
  parseEventReply,
  parseStoreReply,
  postSubject,
  type Signer,
  signerFromSeed,
} from "@natschat/protocol";
import {
  connectChatUser,
  eventually,
  type MintedUser,
  mintChatUser,
  runCli,
  startTestHistory,
  startTestStack,
  type TestStack,
} from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;
let history: HistoryService;
let ann: MintedUser;
let annNc: NatsConnection;
let signer: Signer;
const conv: Conv = { kind: "post", channel: "full" };

const wire = (m: { data: Uint8Array; headers?: { get(k: string): string } }) => ({
  data: m.data,
  header: (k: string) => m.headers?.get(k) || undefined,
});

async function post(msg: string): Promise<string> {
  const token = await encodePost(signer, { name: ann.name, channel: "full", msg });
  const r = parseStoreReply(
    wire(await annNc.request(postSubject("full", ann.publicKey), token, { timeout: 5000 })),
  );
  if (!r.ok) throw new Error(`${r.code} ${r.message}`);
  return messageId(ann.publicKey, String(decodeJwtUnverified(token).payload.jti));
}

async function event(token: string) {
  const r = await annNc.request(eventSubject(conv, ann.publicKey), token, { timeout: 10_000 });
  return parseEventReply(wire(r));
}

const react = async (target: string, emoji: string, op: "add" | "remove" = "add") =>
  event(await encodeReaction(signer, { name: ann.name, conv, target, emoji, op }));

beforeAll(async () => {
  stack = await startTestStack();
  history = await startTestHistory(stack, { stateHighWaterBytes: 1 });
  ann = await mintChatUser(stack.dir, "ann");
  annNc = await connectChatUser(stack, ann);
  signer = await signerFromSeed(ann.seed);
}, 60_000);

afterAll(async () => {
  await annNc?.close();
  await history?.stop();
  await stack?.stop();
});

describe("a nearly full state bucket", () => {
  it("refuses growth, and still takes deletions, removals and reactions taken back", async () => {
    const [a, b, c] = [await post("one"), await post("two"), await post("three")];
    expect(await react(a, "🎉")).toMatchObject({ ok: true });
    // the writer reads the bucket's size every 2 s: soon a new reaction or an edit is refused
    const refused = await eventually(
      async () => {
        const r = await react(b, "👀");
        return r.ok ? undefined : r;
      },
      "a reaction refused above the high-water mark",
      // 4 a second: under the per-sender event limit (10 a second), which must not answer first
      { timeoutMs: 10_000, everyMs: 250 },
    );
    expect(refused).toMatchObject({ ok: false, code: "UNAVAILABLE" });
    expect(refused.ok ? "" : refused.message).toMatch(/nearly full.*deletions still work/);
    expect(
      await event(await encodeEdit(signer, { name: ann.name, conv, target: b, msg: "two!" })),
    ).toMatchObject({ ok: false, code: "UNAVAILABLE" });
    // what frees or ends a state still works
    expect(await react(a, "🎉", "remove")).toMatchObject({ ok: true });
    expect(
      await event(await encodeDelete(signer, { name: ann.name, conv, target: b })),
    ).toMatchObject({ ok: true, value: { state: { deleted: { by: "author" } } } });
    const cli = await runCli([
      "moderate",
      "remove",
      c,
      "--dir",
      stack.dir,
      "--server",
      stack.urls[0] as string,
    ]);
    expect(cli.code, cli.stderr).toBe(0);
  });
});
