// Unit tests of the store-and-forward outbox, with a store that fails until told otherwise.
import { describe, expect, it, vi } from "vitest";
import { ChatError } from "../src/errors.ts";
import { Outbox, type OutboxEntry } from "../src/outbox.ts";

function entry(n: number): OutboxEntry {
  return { subject: "chat.KUBECON.posts.General", token: `t${n}`, msgId: `j${n}` };
}

/** A store that rejects while `down`, and logs every attempt. */
function flakyStore() {
  const state = { down: true, attempts: [] as string[], stored: [] as string[] };
  const store = async (e: OutboxEntry, resent: boolean) => {
    state.attempts.push(`${e.token}${resent ? "+" : ""}`);
    if (state.down) throw new Error("no responders");
    state.stored.push(e.token);
    return { stream: "CHAT_POSTS", seq: state.stored.length };
  };
  return { state, store };
}

const until = async (pred: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe("Outbox", () => {
  it("stores at once when the stream confirms; nothing waits", async () => {
    const { state, store } = flakyStore();
    state.down = false;
    const pending: number[] = [];
    const box = new Outbox({ store, onPending: (n) => pending.push(n) });
    const seqs: number[] = [];
    await box.send({ ...entry(1), onStored: (seq) => seqs.push(seq) });
    expect(seqs).toEqual([1]); // the writer's sequence reaches the sender's record
    expect(state.attempts).toEqual(["t1"]);
    expect(box.pending).toBe(0);
    expect(pending).toEqual([]);
  });

  it("counts a message as unacked from its first try until the stream confirms it", async () => {
    let confirm: () => void = () => undefined;
    const store = () => new Promise<undefined>((resolve) => (confirm = () => resolve(undefined)));
    const box = new Outbox({ store, onPending: () => undefined });
    const sent = box.send(entry(1));
    expect(box.unacked).toBe(1); // in flight: not failed, not confirmed either
    expect(box.pending).toBe(0);
    confirm();
    await sent;
    expect(box.unacked).toBe(0);
  });

  it("keeps unconfirmed messages, repeats them marked as resent, in order, until stored", async () => {
    const { state, store } = flakyStore();
    const pending: number[] = [];
    const box = new Outbox({ store, onPending: (n) => pending.push(n), retryMs: 5 });
    await box.send(entry(1));
    await box.send(entry(2));
    expect(box.pending).toBe(2);
    // each was published at once (live delivery does not wait for the older one)
    expect(state.attempts).toEqual(["t1", "t2"]);
    await until(() => state.attempts.length >= 4);
    state.down = false;
    await until(() => box.pending === 0);
    expect(state.stored).toEqual(["t1", "t2"]);
    expect(state.attempts.slice(2).every((a) => a.endsWith("+"))).toBe(true);
    expect(pending.at(-1)).toBe(0);
    box.stop();
  });

  it("backs off between repeats, doubling up to maxRetryMs", async () => {
    vi.useFakeTimers();
    try {
      const { state, store } = flakyStore();
      const box = new Outbox({ store, onPending: () => {}, retryMs: 5, maxRetryMs: 20 });
      await box.send(entry(1));
      const triesAfter = async (ms: number) => {
        await vi.advanceTimersByTimeAsync(ms);
        return state.attempts.length;
      };
      expect(await triesAfter(4)).toBe(1);
      expect(await triesAfter(1)).toBe(2); // 5 ms after the first
      expect(await triesAfter(9)).toBe(2);
      expect(await triesAfter(1)).toBe(3); // then 10 ms
      expect(await triesAfter(20)).toBe(4); // then 20 ms
      expect(await triesAfter(20)).toBe(5); // and 20 ms from then on
      box.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("retryNow tries at once; stop ends the repeats", async () => {
    const { state, store } = flakyStore();
    const box = new Outbox({ store, onPending: () => {}, retryMs: 60_000 });
    await box.send(entry(1));
    state.down = false;
    box.retryNow();
    await until(() => box.pending === 0);
    expect(state.stored).toEqual(["t1"]);

    state.down = true;
    await box.send(entry(2));
    box.stop();
    state.down = false;
    box.retryNow();
    await new Promise((r) => setTimeout(r, 30));
    expect(state.stored).toEqual(["t1"]);
  });

  it("gives up the oldest beyond maxPending, and counts it", async () => {
    const { store } = flakyStore();
    const box = new Outbox({ store, onPending: () => {}, retryMs: 60_000, maxPending: 2 });
    for (const n of [1, 2, 3]) await box.send(entry(n));
    expect(box.pending).toBe(2);
    expect(box.givenUp).toBe(1);
    box.stop();
  });

  it("gives up at once, without repeats, a message the writer refuses for good", async () => {
    const attempts: string[] = [];
    const refused: string[] = [];
    const store = async (e: OutboxEntry, resent: boolean) => {
      attempts.push(`${e.token}${resent ? "+" : ""}`);
      throw new ChatError("CHAT_STORE_REFUSED", "quota spent", { serviceCode: "QUOTA" });
    };
    const box = new Outbox({
      store,
      onPending: () => {},
      onRefused: (e, err) => refused.push(`${e.token}:${err.serviceCode}`),
      retryMs: 1,
    });
    await box.send(entry(1));
    await new Promise((r) => setTimeout(r, 20));
    expect(attempts).toEqual(["t1"]);
    expect(refused).toEqual(["t1:QUOTA"]);
    expect(box.pending).toBe(0);
    box.stop();
  });
});
