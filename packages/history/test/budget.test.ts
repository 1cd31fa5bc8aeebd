// The history stores are checked against the CHAT account's JetStream limits before any is
// made: on an account whose limit is too small (a JWT from an older version), nothing is
// created and the error names the limit, what each store reserves and what to run. Before, the
// posts stream was made and the DMs stream failed with the server's "insufficient storage
// resources available".
import { jetstreamManager } from "@nats-io/jetstream";
import { type Account, decode, encodeAccount } from "@nats-io/jwt";
import { fromSeed } from "@nats-io/nkeys";
import { ensureHistoryStores } from "@natschat/history";
import { startTestStack, type TestStack } from "@natschat/testing";
import {
  accountStores,
  budgetShortfall,
  connectRole,
  jetStreamLimits,
  loadSeed,
  pushAll,
  TrustError,
} from "@natschat/trust";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MiB = 1024 * 1024;

describe("the budget, without a server", () => {
  it("this version's CHAT limit holds its stores at R3; the old 1 GiB did not", () => {
    const stores = accountStores("CHAT", 3);
    const streams = stores.map((s) => ({ ...s })); // a restart: every store exists already
    const limit = jetStreamLimits("CHAT").disk_storage as number;
    const fits = { account: "CHAT", limitBytes: limit, maxStreams: 7, streams };
    expect(budgetShortfall(fits, stores)).toBeUndefined();
    expect(budgetShortfall({ ...fits, limitBytes: 1024 * MiB }, stores)).toMatch(
      /CHAT account's JetStream storage limit is 1 GiB, but its stores would reserve 1.8 GiB: CHAT_POSTS 256 MiB × R3, CHAT_DMS 256 MiB × R3, KV_natschat-quota 16 MiB × R3, KV_natschat-state 64 MiB × R3, KV_natschat-read 16 MiB × R3; .*natschat init/,
    );
  });

  it("other streams keep what they reserve; the stream limit counts too", () => {
    const stores = accountStores("CHAT", 1);
    const other = { stream: "OTHER", maxBytes: 600 * MiB, replicas: 1 };
    const base = { account: "CHAT", limitBytes: 1024 * MiB, maxStreams: 5, streams: [other] };
    expect(budgetShortfall(base, stores)).toMatch(/and other streams OTHER 600 MiB × R1/);
    expect(budgetShortfall({ ...base, maxStreams: 3 }, stores.slice(0, 1))).toBeUndefined();
    expect(budgetShortfall({ ...base, limitBytes: -1, maxStreams: 3 }, stores)).toMatch(
      /may hold 3 streams, but 6 are needed: OTHER, CHAT_POSTS, CHAT_DMS/,
    );
    // an unbounded stream (the registry bucket) reserves nothing
    expect(
      budgetShortfall(
        { account: "ADMIN", limitBytes: 1, maxStreams: 3, streams: [] },
        accountStores("ADMIN", 3).filter((s) => s.stream === "KV_natschat-users"),
      ),
    ).toBeUndefined();
  });
});

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

describe("the history stores on an account that is too small", () => {
  it("creates nothing and says why", async () => {
    // an older CHAT JWT: the same account, 300 MiB of storage
    const current = decode<Account>(stack.trust.accountJwts.CHAT as string);
    const nats = { ...current.nats, limits: { ...current.nats.limits, disk_storage: 300 * MiB } };
    delete nats.type;
    delete nats.version;
    const signer = fromSeed(
      new TextEncoder().encode(await loadSeed(stack.dir, "operator-signing", "O")),
    );
    const small = await encodeAccount(current.name, current.sub, nats, { signer });
    const push = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("push"),
      inboxOwner: "push",
    });
    const leaf = await connectRole({
      servers: stack.urls,
      credsPath: stack.creds("leaf"),
      inboxOwner: "leaf",
    });
    try {
      const pushed = await pushAll(push, [small]);
      expect(pushed.replies.flat().every((r) => r.ok)).toBe(true);
      const err = await ensureHistoryStores(leaf, { replicas: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TrustError);
      expect((err as TrustError).code).toBe("JETSTREAM_BUDGET");
      expect((err as Error).message).toMatch(
        /the CHAT account's JetStream storage limit is 300 MiB, but its stores would reserve 608 MiB: CHAT_POSTS 256 MiB × R1/,
      );
      const names: string[] = [];
      for await (const n of (await jetstreamManager(leaf)).streams.names()) names.push(n);
      expect(names).toEqual([]);
    } finally {
      await push.close();
      await leaf.close();
    }
  }, 60_000);
});
