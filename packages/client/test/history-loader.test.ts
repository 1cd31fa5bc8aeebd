// Unit tests of history loading from the history service, with a fake fetch that serves pages
// of real signed envelopes: placement and routing (DMs in both directions), drops (a signer
// other than the subject's key, a DM that is not ours), paging past one page, reads that never
// overlap, and backfills on signs of a healed link at most once per interval.
import { ChatStore, Scope } from "@natschat/client";
import {
  dmSubject,
  encodeDm,
  encodePost,
  type HistoryMessage,
  newUserSigner,
  postSubject,
  type Signer,
} from "@natschat/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { HistoryFetch, HistoryQuery } from "../src/history.ts";
import { HistoryLoader } from "../src/history-loader.ts";

const scopes: Scope[] = [];
afterEach(() => {
  for (const s of scopes.splice(0)) s.close();
});

let seq = 0;
async function post(by: Signer, channel: string, msg: string, on = by.publicKey) {
  const token = await encodePost(by, { name: "claimed", channel, msg });
  return { seq: ++seq, subject: postSubject(channel, on), token, time: "" };
}
async function dm(by: Signer, to: string, msg: string) {
  const token = await encodeDm(by, { name: "claimed", to, msg });
  return { seq: ++seq, subject: dmSubject(to, by.publicKey), token, time: "" };
}

function setup(me: string, fetch: HistoryFetch, extra: { historySize?: number } = {}) {
  const scope = new Scope();
  scopes.push(scope);
  const store = new ChatStore({
    me: { key: me, name: "me" },
    channels: ["#General"],
    maxMessages: 1000,
    names: () => undefined,
  });
  const loader = new HistoryLoader({
    store,
    scope,
    fetch,
    historySize: extra.historySize ?? 100,
    now: Date.now,
    gapDelayMs: 10,
    gapMinIntervalMs: 200,
  });
  return { store, loader, scope };
}

/** A fetch that serves `posts` for any channel and `dms` for the DM query, newest `limit`. */
function serve(posts: HistoryMessage[], dms: HistoryMessage[], log: string[] = []): HistoryFetch {
  return async (q: HistoryQuery, page) => {
    log.push(`${"channel" in q ? q.channel : "dms"}:${page.before ?? "-"}:${page.limit}`);
    const all = ("channel" in q ? posts : dms).filter(
      (m) => page.before === undefined || m.seq < page.before,
    );
    return { messages: all.slice(-page.limit), more: all.length > page.limit };
  };
}

describe("HistoryLoader", () => {
  it("places posts and both directions of our DMs; drops forged signers and others' DMs", async () => {
    const { signer: me } = await newUserSigner();
    const { signer: bob } = await newUserSigner();
    const { signer: eve } = await newUserSigner();
    const posts = [
      await post(bob, "General", "hello"),
      // eve's post on a subject that names bob: the server would not allow it; we drop it
      await post(eve, "General", "I am bob", bob.publicKey),
      await post(bob, "General", "again"),
    ];
    const dms = [
      await dm(bob, me.publicKey, "bob to me"),
      await dm(me, bob.publicKey, "me to bob"),
      // a DM between two others has no business in our history
      await dm(eve, bob.publicKey, "eve to bob"),
    ];
    const { store, loader } = setup(me.publicKey, serve(posts, dms));
    expect(await loader.read("initial")).toBe(true);
    const snap = store.snapshot();
    expect(snap.channels[0]?.messages.map((m) => m.text)).toEqual(["hello", "again"]);
    expect(snap.channels[0]?.history).toBe("loaded");
    expect(snap.dms.map((d) => d.peer)).toEqual([bob.publicKey]);
    expect(snap.dms[0]?.messages.map((m) => [m.text, m.mine])).toEqual([
      ["bob to me", false],
      ["me to bob", true],
    ]);
    expect(snap.drops).toEqual({ "signer-mismatch": 1, "wrong-subject": 1 });
  });

  it("pages backward when more is asked than one page holds", async () => {
    const { signer: me } = await newUserSigner();
    const { signer: bob } = await newUserSigner();
    const posts: HistoryMessage[] = [];
    for (let i = 1; i <= 260; i++) posts.push(await post(bob, "General", `p${i}`));
    const log: string[] = [];
    const { store, loader } = setup(me.publicKey, serve(posts, [], log), { historySize: 250 });
    await loader.read("initial");
    const texts = store.snapshot().channels[0]?.messages.map((m) => m.text) ?? [];
    expect(texts).toHaveLength(250);
    expect(texts[0]).toBe("p11");
    expect(texts.at(-1)).toBe("p260");
    const first = posts[60] as HistoryMessage; // p61: the oldest of the first page of 200
    expect(log.filter((l) => l.startsWith("General"))).toEqual([
      "General:-:200",
      `General:${first.seq}:50`,
    ]);
  });

  it("runs reads one after the other, so backfills never overlap", async () => {
    const { signer: me } = await newUserSigner();
    let inFlight = 0;
    let most = 0;
    const fetch: HistoryFetch = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { messages: [], more: false };
    };
    const { loader } = setup(me.publicKey, fetch);
    // each read asks for the channel and the DMs at once (2), never more
    await Promise.all([loader.read("initial"), loader.read("backfill"), loader.read("backfill")]);
    await loader.loaded();
    expect(most).toBe(2);
  });

  it("reads again at most once per interval however many signs of a gap arrive", async () => {
    const { signer: me } = await newUserSigner();
    let reads = 0;
    const fetch: HistoryFetch = async (q) => {
      if ("dms" in q) reads++;
      return { messages: [], more: false };
    };
    const { loader } = setup(me.publicKey, fetch);
    const end = Date.now() + 450;
    while (Date.now() < end) {
      loader.suspectGap();
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 50));
    await loader.loaded();
    // 450 ms of signs with a 200 ms interval: the first after 10 ms, then at 210 and 410 ms
    expect(reads).toBeGreaterThanOrEqual(2);
    expect(reads).toBeLessThanOrEqual(3);
  });

  it("marks the history failed and says why when the service refuses", async () => {
    const { signer: me } = await newUserSigner();
    const fetch: HistoryFetch = async () => {
      throw new Error("the history service refused: bad request");
    };
    const { store, loader } = setup(me.publicKey, fetch);
    expect(await loader.read("initial")).toBe(false);
    const snap = store.snapshot();
    expect(snap.channels[0]?.history).toBe("failed");
    expect(snap.notice).toMatch(/could not be read/);
  });
});
