// The thread wire and the tombstone in a page (issue 13): a message without a token is accepted
// only when its state says it was deleted; a thread request names its root by message id.
import {
  encodeHistoryPage,
  encodeThreadPage,
  encodeThreadRequest,
  messageId,
  newUserSigner,
  parseHistoryReply,
  parseThreadReply,
  parseThreadRequest,
  postSubject,
} from "@natschat/protocol";
import { describe, expect, it } from "vitest";

const key = (await newUserSigner()).signer.publicKey;
const subject = postSubject("General", key);
const time = new Date(0).toISOString();

describe("tombstones in a page", () => {
  it("a message without a token must be deleted", () => {
    const tombstone = { seq: 3, subject, time, state: { deleted: { by: "admin", at: time } } };
    const ok = parseHistoryReply({
      data: encodeHistoryPage({ messages: [tombstone as never], more: false }),
    });
    expect(ok).toEqual({ ok: true, value: { messages: [tombstone], more: false } });
    const bare = { seq: 3, subject, time, state: { reactions: { "👍": [key] } } };
    expect(
      parseHistoryReply({ data: JSON.stringify({ messages: [bare], more: false }) }),
    ).toMatchObject({ ok: false, message: /needs a token unless it was deleted/ });
    const badState = { seq: 3, subject, time, token: "x", state: { deleted: "yes" } };
    expect(
      parseHistoryReply({ data: JSON.stringify({ messages: [badState], more: false }) }),
    ).toMatchObject({ ok: false, message: /state is not one/ });
  });
});

describe("thread wire", () => {
  it("round-trips a request and a page; refuses a root that is not a message id", () => {
    const root = messageId(key, "abc");
    expect(parseThreadRequest(encodeThreadRequest({ root, before: 9, limit: 5 }))).toEqual({
      root,
      before: 9,
      limit: 5,
    });
    for (const bad of ['{"root":"nope"}', "{}", `{"root":"${root}","limit":1000}`, "[]"]) {
      expect(() => parseThreadRequest(bad), bad).toThrow(/root|limit|object/);
    }
    const m = { seq: 4, subject, time, token: "t" };
    expect(
      parseThreadReply({ data: encodeThreadPage({ root: m, messages: [m], more: true }) }),
    ).toEqual({ ok: true, value: { root: m, messages: [m], more: true } });
    expect(parseThreadReply({ data: '{"messages":1}' })).toMatchObject({ ok: false });
  });
});
