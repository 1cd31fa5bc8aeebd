import { createUser } from "@nats-io/nkeys";
import { describe, expect, it } from "vitest";
import {
  encodeHistoryDmsRequest,
  encodeHistoryPage,
  encodeHistoryPostsRequest,
  encodeStoreAck,
  HISTORY_MAX_LIMIT,
  HistoryWireError,
  historyLimit,
  parseHistoryDmsRequest,
  parseHistoryPostsRequest,
  parseHistoryReply,
  parseStoreReply,
  postSubject,
  serviceErrorHeaders,
} from "../src/mod.ts";

const key = createUser().getPublicKey();
const headersOf = (pairs: [string, string][]) => (name: string) =>
  pairs.find(([k]) => k === name)?.[1];

describe("history wire", () => {
  it("round-trips requests, defaulting and capping the limit", () => {
    const r = parseHistoryPostsRequest(encodeHistoryPostsRequest({ channel: "NATS", before: 9 }));
    expect(r).toEqual({ channel: "NATS", before: 9 });
    expect(historyLimit(r)).toBe(100);
    expect(parseHistoryDmsRequest(encodeHistoryDmsRequest({ peer: key, limit: 5 }))).toEqual({
      peer: key,
      limit: 5,
    });
    expect(parseHistoryDmsRequest("")).toEqual({});
  });

  it("refuses bad requests with BAD_REQUEST and a clear message", () => {
    const cases: [string | Uint8Array, RegExp][] = [
      ["{", /not JSON/],
      ["[]", /JSON object/],
      ['"x"', /JSON object/],
      [new Uint8Array([0xff, 0xfe]), /not UTF-8/],
      ['{"channel":"a.b"}', /channel must be/],
      ['{"channel":5}', /channel must be/],
      ['{"channel":"NATS","limit":0}', /limit must be/],
      [`{"channel":"NATS","limit":${HISTORY_MAX_LIMIT + 1}}`, /limit must be/],
      ['{"channel":"NATS","before":-1}', /before must be/],
      ['{"channel":"NATS","before":1.5}', /before must be/],
      ['{"channel":"NATS","user":"U..."}', /unknown field "user"/],
      [`{"channel":"${"x".repeat(2000)}"}`, /limit is 1024/],
    ];
    for (const [input, message] of cases) {
      expect(() => parseHistoryPostsRequest(input), String(input)).toThrow(HistoryWireError);
      expect(() => parseHistoryPostsRequest(input), String(input)).toThrow(message);
    }
    expect(() => parseHistoryDmsRequest('{"peer":"*"}')).toThrow(/peer must be/);
  });

  it("parses pages, acks and error replies without throwing", () => {
    const page = {
      messages: [{ seq: 3, subject: postSubject("NATS", key), token: "a.b.c", time: "t" }],
      more: false,
    };
    expect(parseHistoryReply({ data: encodeHistoryPage(page) })).toEqual({ ok: true, value: page });
    expect(parseHistoryReply({ data: "nope" })).toMatchObject({ ok: false, code: "UNKNOWN" });
    expect(
      parseHistoryReply({
        data: JSON.stringify({ ...page, messages: [{ ...page.messages[0], subject: "x" }] }),
      }),
    ).toMatchObject({ ok: false });
    expect(parseStoreReply({ data: encodeStoreAck({ stream: "CHAT_POSTS", seq: 4 }) })).toEqual({
      ok: true,
      value: { stream: "CHAT_POSTS", seq: 4 },
    });
    expect(
      parseStoreReply({ data: encodeStoreAck({ stream: "CHAT_POSTS", seq: 4, duplicate: true }) }),
    ).toMatchObject({ ok: true, value: { duplicate: true } });
    const err = serviceErrorHeaders("QUOTA", "daily quota\nspent");
    expect(parseStoreReply({ data: "", header: headersOf(err) })).toEqual({
      ok: false,
      code: "QUOTA",
      status: 429,
      message: "daily quota spent",
    });
  });
});
