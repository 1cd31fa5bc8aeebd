// Wire of read state and search (issue 13): requests round-trip and bad ones are refused with a
// message that says what to send; replies that are not what they claim parse to an error, never
// an exception.
import { createUser } from "@nats-io/nkeys";
import {
  conversationName,
  encodeReadState,
  encodeReadStateRequest,
  encodeSearchPage,
  encodeSearchRequest,
  HistoryWireError,
  parseConversationName,
  parseReadState,
  parseReadStateReply,
  parseReadStateRequest,
  parseSearchReply,
  parseSearchRequest,
  postSubject,
  serviceErrorHeaders,
} from "@natschat/protocol";
import { describe, expect, it } from "vitest";

const peer = createUser().getPublicKey();
const asMsg = (data: string, h: [string, string][] = []) => ({
  data,
  header: (k: string) => h.find(([n]) => n === k)?.[1],
});

describe("conversation names", () => {
  it("are #channel or @userKey, nothing else", () => {
    expect(parseConversationName("#NATS")).toEqual({ kind: "post", channel: "NATS" });
    expect(parseConversationName(`@${peer}`)).toEqual({ kind: "dm", peer });
    expect(conversationName({ kind: "dm", peer })).toBe(`@${peer}`);
    for (const bad of ["NATS", "#", "#a.b", "@bob", `@${peer}x`, 7, null, "#".repeat(80)])
      expect(parseConversationName(bad), String(bad)).toBeUndefined();
  });
});

describe("read-state wire", () => {
  it("round-trips requests and refuses bad ones clearly", () => {
    for (const req of [
      { op: "get" as const },
      { op: "read" as const, conv: `@${peer}`, seq: 42 },
      { op: "mute" as const, conv: "#NATS", muted: true },
    ])
      expect(parseReadStateRequest(encodeReadStateRequest(req))).toEqual(req);
    for (const [body, message] of [
      ['{"op":"read","conv":"#NATS","seq":1.5}', /seq must be/],
      ['{"op":"read","conv":"#NATS","seq":"7"}', /seq must be/],
      ['{"op":"mute","conv":"@bob","muted":true}', /conv must be/],
      ['{"op":"get","extra":1}', /unknown field/],
      ["x".repeat(600), /limit is 512/],
    ] as const)
      expect(() => parseReadStateRequest(body)).toThrow(
        expect.objectContaining({
          name: HistoryWireError.name,
          message: expect.stringMatching(message),
        }),
      );
  });

  it("round-trips a state and turns a bad reply into an error", () => {
    const state = { rev: 3, read: { "#NATS": 7 }, muted: [`@${peer}`], unread: { "#NATS": 2 } };
    expect(parseReadState(encodeReadState(state))).toEqual(state);
    expect(parseReadStateReply(asMsg(encodeReadState(state)))).toEqual({ ok: true, value: state });
    for (const bad of [
      "",
      "{",
      "[]",
      '{"read":{}}',
      '{"rev":1,"read":{"x":1},"muted":[],"unread":{}}',
    ])
      expect(parseReadStateReply(asMsg(bad))).toMatchObject({ ok: false, code: "UNKNOWN" });
    expect(parseReadStateReply(asMsg("", serviceErrorHeaders("LIMIT", "full")))).toMatchObject({
      ok: false,
      code: "LIMIT",
      message: "full",
    });
  });
});

describe("search wire", () => {
  it("round-trips requests and refuses bad ones clearly", () => {
    const req = { q: "Needle", conv: "#NATS", cursor: "12.0", limit: 50 };
    expect(parseSearchRequest(encodeSearchRequest(req))).toEqual(req);
    expect(parseSearchRequest('{"q":"x"}')).toEqual({ q: "x" });
    for (const [body, message] of [
      ['{"q":"   "}', /q must be/],
      ['{"q":"a","limit":0}', /limit must be/],
      ['{"q":"a","cursor":""}', /cursor must be/],
      ['{"q":"a","conv":"@nobody"}', /conv must be/],
    ] as const)
      expect(() => parseSearchRequest(body)).toThrow(message);
  });

  it("round-trips a page and turns a bad reply into an error", () => {
    const hit = {
      seq: 9,
      subject: postSubject("NATS", peer),
      token: "a.b.c",
      time: new Date(0).toISOString(),
      conv: "#NATS",
      state: { deleted: { by: "author" as const, at: new Date(0).toISOString() } },
    };
    expect(parseSearchReply(asMsg(encodeSearchPage({ hits: [hit], cursor: "9.0" })))).toEqual({
      ok: true,
      value: { hits: [hit], cursor: "9.0" },
    });
    expect(parseSearchReply(asMsg(encodeSearchPage({ hits: [] })))).toEqual({
      ok: true,
      value: { hits: [] },
    });
    for (const bad of ["{", '{"hits":{}}', `{"hits":[{"seq":1}]}`, '{"hits":[],"cursor":"a b"}'])
      expect(parseSearchReply(asMsg(bad)), bad).toMatchObject({ ok: false, code: "UNKNOWN" });
  });
});
