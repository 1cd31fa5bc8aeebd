// NATS subjects of the chat, wire-compatible with the talk, plus channel-name and inbox rules.
import { InvalidChannelError, InvalidSubjectError } from "./errors.ts";
import { isPublicKey } from "./nkey.ts";

/** Registration and renewal requests (service of ADMIN, imported by CHAT). */
export const ACCESS_SUBJECT = "chat.req.access";
/** Admin request for the registry, answered with JSON `{name: publicKey}`. */
export const PROVISIONED_SUBJECT = "chat.req.provisioned";
/** Broadcast of the registry JSON after every change. */
export const PROVISIONED_UPDATES_SUBJECT = "chat.req.provisioned.updates";
/** Admin request to revoke a name; the reply is the registry JSON. */
export const REVOKE_SUBJECT = "chat.req.revoke";

/** Root of all chat traffic. */
export const CHAT_ROOT = "chat.KUBECON";
/** Presence announcements. */
export const ONLINE_SUBJECT = `${CHAT_ROOT}.online`;
/** Prefix of channel posts: `chat.KUBECON.posts.<channel>`. */
export const POSTS_PREFIX = `${CHAT_ROOT}.posts`;
/** All channel posts. */
export const POSTS_WILDCARD = `${POSTS_PREFIX}.*`;
/** Prefix of direct messages: `chat.KUBECON.dms.<userPublicKey>`. */
export const DMS_PREFIX = `${CHAT_ROOT}.dms`;

/**
 * Header on a post or DM that its sender publishes again because the history stream had not
 * confirmed it (natschat's store-and-forward). Receivers that already show it skip it quietly.
 */
export const RESENT_HEADER = "Natschat-Resent";

/** Channels every chat starts with. */
export const DEFAULT_CHANNELS: readonly string[] = Object.freeze(["KUBECON", "NATS", "General"]);

/** Longest allowed channel name. */
export const CHANNEL_MAX_LENGTH = 32;

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Returns the channel name unchanged if it is one subject token of 1..32 letters, digits, '-' or '_'. */
export function validateChannel(name: string): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new InvalidChannelError("channel name is empty, use 1 to 32 letters, digits, '-' or '_'");
  }
  if (name.length > CHANNEL_MAX_LENGTH) {
    throw new InvalidChannelError(
      `channel name is ${name.length} characters long, the maximum is ${CHANNEL_MAX_LENGTH}`,
    );
  }
  if (!TOKEN.test(name)) {
    const bad = [...name].find((c) => !TOKEN.test(c)) ?? "";
    throw new InvalidChannelError(
      `channel name ${JSON.stringify(name)} has ${JSON.stringify(bad)}, use letters, digits, '-' or '_'`,
    );
  }
  return name;
}

/** True if `name` is a valid channel name. */
export function isValidChannel(name: string): boolean {
  return typeof name === "string" && name.length <= CHANNEL_MAX_LENGTH && TOKEN.test(name);
}

/** Subject of a channel's posts. */
export function postsSubject(channel: string): string {
  return `${POSTS_PREFIX}.${validateChannel(channel)}`;
}

/** Channel named by a posts subject, or undefined if the subject is not one. */
export function channelFromSubject(subject: string): string | undefined {
  const prefix = `${POSTS_PREFIX}.`;
  if (!subject.startsWith(prefix)) return undefined;
  const channel = subject.slice(prefix.length);
  return isValidChannel(channel) ? channel : undefined;
}

/** Subject of the DMs to a user, by the user's public key. */
export function dmSubject(userPublicKey: string): string {
  if (!isPublicKey(userPublicKey, "U")) {
    throw new InvalidSubjectError(
      "a DM subject needs a user public key (56 characters starting with 'U')",
    );
  }
  return `${DMS_PREFIX}.${userPublicKey}`;
}

/** Recipient key named by a DM subject, or undefined if the subject is not one. */
export function recipientFromSubject(subject: string): string | undefined {
  const prefix = `${DMS_PREFIX}.`;
  if (!subject.startsWith(prefix)) return undefined;
  const key = subject.slice(prefix.length);
  return isPublicKey(key, "U") ? key : undefined;
}

/**
 * Inbox prefix of a role ("bootstrap", "admin", ...) or of a user public key: `_INBOX_<x>`.
 * Pass it as nats.js `inboxPrefix`; server permissions allow each identity only its own
 * prefix, so no one can subscribe to another's replies.
 */
export function inboxPrefixFor(roleOrUserKey: string): string {
  if (!TOKEN.test(roleOrUserKey) || roleOrUserKey.length > 64) {
    throw new InvalidSubjectError(
      `inbox owner ${JSON.stringify(roleOrUserKey.slice(0, 70))} must be one subject token of letters, digits, '-' or '_'`,
    );
  }
  return `_INBOX_${roleOrUserKey}`;
}
