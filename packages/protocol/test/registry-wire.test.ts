// The registry's and the directory's wire formats: one encoder and one parser each, shared by the
// access service, the CLI and the admin page; bad shapes are refused with a clear error.
import { describe, expect, it } from "vitest";
import {
  AccessError,
  applyRegistryChange,
  DIRECTORY_LOOKUP_MAX_KEYS,
  DIRECTORY_ONLINE_MAX,
  encodeLookupReply,
  encodeLookupRequest,
  encodeOnlineQuery,
  encodeOnlineReply,
  encodeOnlineValue,
  encodePresenceTick,
  encodePublicKey,
  encodeRegistryChange,
  encodeRegistryPage,
  encodeRegistryQuery,
  encodeRevokeResult,
  parseLookupReply,
  parseLookupRequest,
  parseOnlineQuery,
  parseOnlineReply,
  parsePresenceChange,
  parsePresenceTick,
  parseRegistryChange,
  parseRegistryPage,
  parseRegistryQuery,
  parseRevokeResult,
  presenceChangeSubject,
  REGISTRY_PAGE_DEFAULT,
  REGISTRY_PAGE_MAX,
  type RegistryUser,
  WireFormatError,
} from "../src/mod.ts";

const key = (i: number) => {
  const raw = new Uint8Array(32);
  raw[0] = i;
  return encodePublicKey("U", raw);
};
const ada: RegistryUser = {
  name: "ada",
  key: key(1),
  issued: "2026-01-01T00:00:00.000Z",
  expires: "2026-02-01T00:00:00.000Z",
  revision: 3,
};

describe("registry wire", () => {
  it("queries: empty is the first page; the limit is defaulted and capped; junk is refused", () => {
    expect(parseRegistryQuery("")).toEqual({ after: "", limit: REGISTRY_PAGE_DEFAULT });
    expect(parseRegistryQuery(encodeRegistryQuery({ after: "bob", limit: 10 ** 6 }))).toEqual({
      after: "bob",
      limit: REGISTRY_PAGE_MAX,
    });
    expect(parseRegistryQuery('{"detail":true,"limit":2}')).toEqual({ after: "", limit: 2 });
    for (const bad of ["{", "[]", '{"limit":0}', '{"limit":"5"}', '{"after":5}']) {
      expect(() => parseRegistryQuery(bad), bad).toThrow(AccessError);
    }
  });

  it("pages and changes round-trip; a bad shape is a WireFormatError", () => {
    const page = { users: [ada], total: 1, limit: 500, revision: 9 };
    expect(parseRegistryPage(encodeRegistryPage(page))).toEqual(page);
    expect(() => parseRegistryPage('{"users":[{"name":"x"}],"total":1}')).toThrow(WireFormatError);
    expect(() => parseRegistryPage("{}")).toThrow(/no users array/);
    for (const c of [
      { op: "registered", user: ada },
      { op: "revoked", user: { ...ada, revoked: true, revision: 4 } },
      { op: "released", name: "ada", key: ada.key, reason: "unused", revision: 5 },
    ] as const) {
      expect(parseRegistryChange(encodeRegistryChange(c))).toEqual(c);
    }
    expect(() => parseRegistryChange('{"ada":"UA"}')).toThrow(/unknown op/);
  });

  it("changes apply by revision: an older one never overwrites a newer state", () => {
    const users = new Map<string, RegistryUser>();
    applyRegistryChange(users, { op: "revoked", user: { ...ada, revoked: true, revision: 7 } });
    applyRegistryChange(users, { op: "registered", user: ada });
    expect(users.get("ada")?.revoked).toBe(true);
    applyRegistryChange(users, {
      op: "released",
      name: "ada",
      key: ada.key,
      reason: "revoked",
      revision: 8,
    });
    expect(users.has("ada")).toBe(false);
  });

  it("revoke results round-trip", () => {
    const r = {
      revoked: { name: "ada", key: ada.key, released: true },
      servers: [
        { server: "n1", ok: true },
        { server: "n2", ok: false, message: "nope" },
      ],
    };
    expect(parseRevokeResult(encodeRevokeResult(r))).toEqual(r);
    expect(() => parseRevokeResult('{"ada":"UA"}')).toThrow(WireFormatError);
  });
});

describe("directory wire", () => {
  it("lookups: at most 100 user keys, deduplicated; replies are checked", () => {
    expect(parseLookupRequest(encodeLookupRequest([key(1), key(1), key(2)]))).toEqual([
      key(1),
      key(2),
    ]);
    const many = Array.from({ length: DIRECTORY_LOOKUP_MAX_KEYS + 1 }, (_, i) => key(i));
    expect(() => parseLookupRequest(encodeLookupRequest(many))).toThrow(/101 keys/);
    expect(() => parseLookupRequest('{"keys":["AABC"]}')).toThrow(/not a user key/);
    const reply = { users: { [key(1)]: { name: "ada", jwt: "x.y.z", revoked: true as const } } };
    expect(parseLookupReply(encodeLookupReply(reply))).toEqual(reply);
    expect(() => parseLookupReply('{"users":{"U1":{"name":"ada"}}}')).toThrow(WireFormatError);
  });

  it("online queries default and cap the limit", () => {
    expect(parseOnlineQuery("")).toMatchObject({ after: "" });
    expect(parseOnlineQuery(encodeOnlineQuery({ limit: 10 ** 6 })).limit).toBe(
      DIRECTORY_ONLINE_MAX,
    );
  });

  it("online pages carry key and issued name, and the revision they were read at", () => {
    const page = { online: [[key(1), "ada"]] as [string, string][], rev: 7, next: key(1) };
    expect(parseOnlineReply(encodeOnlineReply(page))).toEqual(page);
    expect(() => parseOnlineReply('{"online":[["U1","ada"]],"rev":1}')).toThrow(WireFormatError);
    expect(() => parseOnlineReply(`{"online":[["${key(1)}","a.b"]],"rev":1}`)).toThrow(
      WireFormatError,
    );
    expect(() => parseOnlineReply('{"online":[]}')).toThrow(/revision/);
  });

  it("a presence change is a republished online-bucket write: put, delete, or refused", () => {
    const subject = presenceChangeSubject(key(3));
    const headers = (h: Record<string, string>) => (n: string) => h[n];
    const data = new TextEncoder().encode(encodeOnlineValue({ name: "ada", since: 5 }));
    expect(parsePresenceChange(subject, headers({ "Nats-Sequence": "9" }), data)).toEqual({
      key: key(3),
      seq: 9,
      name: "ada",
      since: 5,
    });
    const del = headers({ "Nats-Sequence": "10", "KV-Operation": "DEL" });
    expect(parsePresenceChange(subject, del, new Uint8Array())).toEqual({ key: key(3), seq: 10 });
    expect(() => parsePresenceChange(subject, headers({}), data)).toThrow(/sequence/);
    expect(() =>
      parsePresenceChange(
        "chat.KUBECON.presence.change.x",
        headers({ "Nats-Sequence": "1" }),
        data,
      ),
    ).toThrow(/subject/);
    expect(parsePresenceTick(encodePresenceTick({ rev: 3, count: 2 }))).toEqual({
      rev: 3,
      count: 2,
    });
    expect(() => parsePresenceTick('{"rev":-1,"count":0}')).toThrow(WireFormatError);
  });
});
