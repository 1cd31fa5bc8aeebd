import { createUser } from "@nats-io/nkeys";
import { describe, expect, it } from "vitest";
import {
  ACCESS_SUBJECT,
  channelFromSubject,
  DEFAULT_CHANNELS,
  dmSubject,
  InvalidChannelError,
  InvalidSubjectError,
  inboxPrefixFor,
  ONLINE_SUBJECT,
  POSTS_WILDCARD,
  PROVISIONED_SUBJECT,
  PROVISIONED_UPDATES_SUBJECT,
  postsSubject,
  REVOKE_SUBJECT,
  recipientFromSubject,
  validateChannel,
} from "../src/mod.ts";

describe("subjects", () => {
  it("match the talk", () => {
    expect(ACCESS_SUBJECT).toBe("chat.req.access");
    expect(PROVISIONED_SUBJECT).toBe("chat.req.provisioned");
    expect(PROVISIONED_UPDATES_SUBJECT).toBe("chat.req.provisioned.updates");
    expect(REVOKE_SUBJECT).toBe("chat.req.revoke");
    expect(ONLINE_SUBJECT).toBe("chat.KUBECON.online");
    expect(POSTS_WILDCARD).toBe("chat.KUBECON.posts.*");
    expect(postsSubject("General")).toBe("chat.KUBECON.posts.General");
    expect(DEFAULT_CHANNELS).toEqual(["KUBECON", "NATS", "General"]);
    const key = createUser().getPublicKey();
    expect(dmSubject(key)).toBe(`chat.KUBECON.dms.${key}`);
    expect(recipientFromSubject(dmSubject(key))).toBe(key);
    expect(channelFromSubject("chat.KUBECON.posts.NATS")).toBe("NATS");
    expect(channelFromSubject("chat.KUBECON.posts.a.b")).toBeUndefined();
  });

  it("accept only single-token channel names", () => {
    for (const ok of ["KUBECON", "a", "my-chan_2", "x".repeat(32)]) {
      expect(validateChannel(ok)).toBe(ok);
    }
    for (const bad of ["", "a.b", "*", ">", "a b", "x".repeat(33), "é", "a/b"]) {
      expect(() => validateChannel(bad), bad).toThrow(InvalidChannelError);
      expect(() => postsSubject(bad), bad).toThrow(InvalidChannelError);
    }
    expect(() => validateChannel("a.b")).toThrow(/has "\."/);
    expect(() => validateChannel("x".repeat(33))).toThrow(/33 characters long, the maximum is 32/);
  });

  it("refuse DM subjects for non-user keys", () => {
    expect(() => dmSubject("*")).toThrow(InvalidSubjectError);
    expect(() => dmSubject(">")).toThrow(InvalidSubjectError);
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
