import { createUser } from "@nats-io/nkeys";
import { describe, expect, it } from "vitest";
import {
  ACCESS_SUBJECT,
  DEFAULT_CHANNELS,
  DIRECTORY_LOOKUP_SUBJECT,
  DIRECTORY_ONLINE_SUBJECT,
  dmInboxWildcard,
  dmSentWildcard,
  dmSubject,
  HISTORY_DMS_SUBJECT,
  HISTORY_POSTS_SUBJECT,
  InvalidChannelError,
  InvalidSubjectError,
  inboxPrefixFor,
  liveSubject,
  ONLINE_WILDCARD,
  POSTS_WILDCARD,
  PROVISIONED_SUBJECT,
  PROVISIONED_UPDATES_SUBJECT,
  parseChatSubject,
  postSubject,
  presenceSubject,
  REVOKE_SUBJECT,
  STORE_DMS_PREFIX,
  STORE_POSTS_PREFIX,
  storeDmSubject,
  storedSubject,
  storePostSubject,
  validateChannel,
} from "../src/mod.ts";

describe("protocol v3 subjects", () => {
  const a = createUser().getPublicKey();
  const b = createUser().getPublicKey();

  it("put the sender's key last", () => {
    expect(postSubject("NATS", a)).toBe(`chat.KUBECON.posts.NATS.${a}`);
    expect(dmSubject(b, a)).toBe(`chat.KUBECON.dms.${b}.${a}`);
    expect(presenceSubject(a)).toBe(`chat.KUBECON.online.${a}`);
    expect(POSTS_WILDCARD).toBe("chat.KUBECON.posts.*.*");
    expect(ONLINE_WILDCARD).toBe("chat.KUBECON.online.*");
    expect(dmInboxWildcard(a)).toBe(`chat.KUBECON.dms.${a}.*`);
    expect(dmSentWildcard(a)).toBe(`chat.KUBECON.dms.*.${a}`);
    expect(storePostSubject("NATS", a)).toBe(`chat.store.posts.NATS.${a}`);
    expect(storeDmSubject(b, a)).toBe(`chat.store.dms.${b}.${a}`);
    expect(STORE_POSTS_PREFIX).toBe("chat.store.posts");
    expect(STORE_DMS_PREFIX).toBe("chat.store.dms");
    expect(HISTORY_POSTS_SUBJECT).toBe("chat.svc.history.posts");
    expect(HISTORY_DMS_SUBJECT).toBe("chat.svc.history.dms");
    expect(DIRECTORY_LOOKUP_SUBJECT).toBe("chat.svc.directory.lookup");
    expect(DIRECTORY_ONLINE_SUBJECT).toBe("chat.svc.directory.online");
  });

  it("parse live and stored subjects, and nothing else", () => {
    expect(parseChatSubject(postSubject("NATS", a))).toEqual({
      kind: "post",
      channel: "NATS",
      sender: a,
    });
    expect(parseChatSubject(dmSubject(b, a))).toEqual({ kind: "dm", recipient: b, sender: a });
    expect(parseChatSubject(presenceSubject(a))).toEqual({ kind: "presence", sender: a });
    expect(parseChatSubject(storeDmSubject(b, a), { stored: true })).toEqual({
      kind: "dm",
      recipient: b,
      sender: a,
    });
    const stored = parseChatSubject(storePostSubject("NATS", a), { stored: true });
    expect(stored && liveSubject(stored)).toBe(postSubject("NATS", a));
    expect(stored && storedSubject(stored)).toBe(storePostSubject("NATS", a));
    for (const bad of [
      "chat.KUBECON.posts.NATS",
      `chat.KUBECON.posts.NATS.${a}.x`,
      "chat.KUBECON.posts.NATS.*",
      `chat.KUBECON.posts.*.${a}`,
      `chat.KUBECON.dms.${b}`,
      `chat.KUBECON.dms.${b}.>`,
      "chat.KUBECON.online",
      "chat.KUBECON.online.*",
      `chat.KUBECON.online.${a.replace("U", "A")}`,
      storePostSubject("NATS", a),
      "",
    ])
      expect(parseChatSubject(bad), bad).toBeUndefined();
    expect(parseChatSubject(postSubject("NATS", a), { stored: true })).toBeUndefined();
  });

  it("refuse wildcards and non-user keys as keys", () => {
    expect(() => postSubject("NATS", "*")).toThrow(InvalidSubjectError);
    expect(() => dmSubject(b, ">")).toThrow(InvalidSubjectError);
    expect(() => presenceSubject("A".repeat(56))).toThrow(InvalidSubjectError);
    expect(() => dmInboxWildcard("*")).toThrow(InvalidSubjectError);
  });
});

describe("subjects", () => {
  it("match the talk", () => {
    expect(ACCESS_SUBJECT).toBe("chat.req.access");
    expect(PROVISIONED_SUBJECT).toBe("chat.req.provisioned");
    expect(PROVISIONED_UPDATES_SUBJECT).toBe("chat.req.provisioned.updates");
    expect(REVOKE_SUBJECT).toBe("chat.req.revoke");
    expect(DEFAULT_CHANNELS).toEqual(["KUBECON", "NATS", "General"]);
  });

  it("accept only single-token channel names", () => {
    for (const ok of ["KUBECON", "a", "my-chan_2", "x".repeat(32)]) {
      expect(validateChannel(ok)).toBe(ok);
    }
    for (const bad of ["", "a.b", "*", ">", "a b", "x".repeat(33), "é", "a/b"]) {
      expect(() => validateChannel(bad), bad).toThrow(InvalidChannelError);
      expect(() => postSubject(bad, createUser().getPublicKey()), bad).toThrow(InvalidChannelError);
    }
    expect(() => validateChannel("a.b")).toThrow(/has "\."/);
    expect(() => validateChannel("x".repeat(33))).toThrow(/33 characters long, the maximum is 32/);
  });

  it("refuse DM subjects for non-user keys", () => {
    const me = createUser().getPublicKey();
    expect(() => dmSubject("*", me)).toThrow(InvalidSubjectError);
    expect(() => dmSubject(">", me)).toThrow(InvalidSubjectError);
    expect(() => dmSubject(me, "*")).toThrow(InvalidSubjectError);
  });

  it("give each role and user its own inbox prefix", () => {
    const a = createUser().getPublicKey();
    const b = createUser().getPublicKey();
    expect(inboxPrefixFor("bootstrap")).toBe("_INBOX_bootstrap");
    expect(inboxPrefixFor(a)).toBe(`_INBOX_${a}`);
    expect(inboxPrefixFor(a)).not.toBe(inboxPrefixFor(b));
    for (const bad of ["", "a.b", "*", ">", "a b"]) {
      expect(() => inboxPrefixFor(bad), bad).toThrow(InvalidSubjectError);
    }
  });
});
