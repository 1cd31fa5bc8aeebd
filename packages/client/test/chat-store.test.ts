// Unit tests of the session's parts that need no server: the store (snapshots, batched change
// notification, unread counts, notices by kind, drops), the scope (liveness and timers), and
// the error classification of connection and history reads (by class, never by text).
import { errors } from "@nats-io/nats-core";
import { ChatStore, Scope } from "@natschat/client";
import { describe, expect, it } from "vitest";
import { statusVerdict } from "../src/connection.ts";
import type { MessageRecord } from "../src/conversation.ts";
import { isTransient } from "../src/history.ts";

const ME = "UME";
const rec = (from: string, n: number): MessageRecord => ({
  id: `${from} ${n}`,
  from,
  claimedName: "claimed",
  text: `m${n}`,
  time: n * 1000,
});

function store(names: Record<string, string> = {}): ChatStore {
  return new ChatStore({
    me: { key: ME, name: "me" },
    channels: ["#A", "#B"],
    maxMessages: 100,
    names: (k) => names[k],
  });
}

describe("ChatStore", () => {
  it("notifies once per microtask, and keeps one snapshot object until a change", async () => {
    const s = store();
    let calls = 0;
    const off = s.onChange(() => calls++);
    const first = s.snapshot();
    expect(s.snapshot()).toBe(first);
    s.setNotice("one");
    s.setNotice("two");
    s.countDrop("bad-signature");
    expect(calls).toBe(0); // batched: nothing synchronous
    await Promise.resolve();
    expect(calls).toBe(1);
    const second = s.snapshot();
    expect(second).not.toBe(first);
    expect(second.notice).toBe("two");
    expect(second.drops).toEqual({ "bad-signature": 1 });
    expect(second.version).toBeGreaterThan(first.version);
    off();
    s.setNotice("three");
    await Promise.resolve();
    expect(calls).toBe(1);
  });

  it("counts unread only for others' messages in conversations not on screen", () => {
    const s = store();
    const a = s.conversation("#A");
    const b = s.conversation("#B");
    expect(s.deliver(a, rec("UBOB", 1))).toBe(true); // #A is selected: read
    expect(s.deliver(b, rec("UBOB", 2))).toBe(true);
    expect(s.deliver(b, rec("UBOB", 2))).toBe(false); // a duplicate
    expect(s.deliver(b, rec(ME, 3))).toBe(true); // ours
    const snap = s.snapshot();
    expect(snap.channels.map((c) => [c.id, c.unread])).toEqual([
      ["#A", 0],
      ["#B", 1],
    ]);
    s.select("#B");
    expect(s.snapshot().channels[1]?.unread).toBe(0);
  });

  it("shows a sender under its issued name once known, under its short key until then", () => {
    const names: Record<string, string> = {};
    const s = store(names);
    s.deliver(
      s.conversation("#A"),
      rec("UBOBKEY0000000000000000000000000000000000000000000000", 1),
    );
    const before = s.snapshot().channels[0]?.messages[0];
    expect(before?.name).toBeUndefined();
    expect(before?.display).toMatch(/^~UBOBK…0000$/);
    names.UBOBKEY0000000000000000000000000000000000000000000000 = "bob";
    s.identityChanged();
    const after = s.snapshot().channels[0]?.messages[0];
    expect(after?.display).toBe("bob");
    expect(after?.claimedOther).toBe(true); // it claimed "claimed"
  });

  it("clears a notice only while it is still of the kind being cleared", () => {
    const s = store();
    s.setNotice("could not renew", "renewal");
    s.clearNotice("unstored");
    expect(s.snapshot().notice).toBe("could not renew");
    s.setNotice("denied", "other");
    s.clearNotice("renewal");
    expect(s.snapshot().notice).toBe("denied");
    s.setNotice("could not renew", "renewal");
    s.clearNotice("renewal");
    expect(s.snapshot().notice).toBeUndefined();
  });

  it("adds live drop sources to its own counts", () => {
    const s = store();
    const live = { replay: 2 };
    s.addDropSource(() => live);
    s.addDrops({ "bad-signature": 1, replay: 1, none: 0 });
    expect(s.snapshot().drops).toEqual({ replay: 3, "bad-signature": 1 });
    expect(s.snapshot().dropped).toBe(4);
  });

  it("makes DM conversations in the history state the DM read left", () => {
    const s = store();
    expect(s.conversation("@UPEER1").history).toBe("loading");
    s.setNewDmHistory("loaded");
    expect(s.conversation("@UPEER2").history).toBe("loaded");
    // our own key joins the roster once start() checked our identity (setMe)
    expect(s.snapshot().users.map((u) => u.key)).toEqual(["UPEER1", "UPEER2"]);
    s.setMe({ key: ME, name: "me" });
    expect(s.snapshot().users.find((u) => u.me)?.display).toBe("~UME…UME");
  });
});

describe("Scope", () => {
  it("ends every timer at close, runs close hooks once, and sets none after", async () => {
    const scope = new Scope();
    let fired = 0;
    let closed = 0;
    scope.timeout(() => fired++, 5);
    scope.interval(() => fired++, 5);
    scope.onClose(() => closed++);
    expect(scope.live).toBe(true);
    scope.close();
    scope.close();
    expect(scope.live).toBe(false);
    expect(closed).toBe(1);
    scope.timeout(() => fired++, 0);
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(0);
  });

  it("a cancelled timeout does not fire; a fired one runs once", async () => {
    const scope = new Scope();
    let a = 0;
    let b = 0;
    scope.timeout(() => a++, 5).cancel();
    await new Promise<void>((resolve) => scope.timeout(() => resolve(void b++), 5));
    expect(a).toBe(0);
    expect(b).toBe(1);
    scope.close();
  });
});

describe("error classes", () => {
  it("history reads retry on timeout and no-responders classes, not on look-alike text", () => {
    expect(isTransient(new errors.TimeoutError())).toBe(true);
    expect(isTransient(new errors.NoRespondersError("x"))).toBe(true);
    expect(isTransient(new Error("wrapped", { cause: new errors.TimeoutError() }))).toBe(true);
    expect(isTransient(new Error("timeout: the leader said no responders"))).toBe(false);
  });

  it("reads revocation, expiry and denials from the status stream by class", () => {
    expect(statusVerdict(new errors.ProtocolError("User Authentication Revoked"), true).kind).toBe(
      "revoked",
    );
    expect(
      statusVerdict(new errors.UserAuthenticationExpiredError("User Authentication Expired"), true)
        .kind,
    ).toBe("expired");
    // a message that merely mentions "revoked" is no revocation
    expect(statusVerdict(new Error("revoked? no"), true).kind).toBe("notice");
    expect(
      statusVerdict(new errors.AuthorizationError("Authorization Violation"), false).kind,
    ).toBe("notice");
    expect(statusVerdict(new errors.AuthorizationError("Authorization Violation"), true).kind).toBe(
      "revoked",
    );
  });
});
