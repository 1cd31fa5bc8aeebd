// NATS subjects of the chat (protocol v3: the sender's key is the last token of every live
// subject, and server permissions bind it), the service subjects, channel-name and inbox rules.
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
/** Prefix of presence announcements: `chat.KUBECON.online.<senderKey>`. */
export const ONLINE_PREFIX = `${CHAT_ROOT}.online`;
/**
 * Every presence announcement (heartbeat). Only the directory (the access service's replicas,
 * through ADMIN's import) subscribes to it: chat users learn presence from the feed below.
 */
export const ONLINE_WILDCARD = `${ONLINE_PREFIX}.*`;
/**
 * The presence feed (issue 12): what the directory tells every client about the online set,
 * published in ADMIN and imported by CHAT as a stream (`chat.KUBECON.presence.>`).
 */
export const PRESENCE_FEED_PREFIX = `${CHAT_ROOT}.presence`;
/** Everything on the presence feed (a chat user's one presence subscription). */
export const PRESENCE_FEED = `${PRESENCE_FEED_PREFIX}.>`;
/**
 * One change of the online set, `chat.KUBECON.presence.change.<userKey>`: JetStream's republish of
 * a write to the online bucket, so exactly one message per stored change, in stream order.
 */
export const PRESENCE_CHANGE_PREFIX = `${PRESENCE_FEED_PREFIX}.change`;
/** The directory replicas' periodic tick: the online set's revision and size. */
export const PRESENCE_TICK_SUBJECT = `${PRESENCE_FEED_PREFIX}.tick`;
/** Prefix of channel posts: `chat.KUBECON.posts.<channel>.<senderKey>`. */
export const POSTS_PREFIX = `${CHAT_ROOT}.posts`;
/** Every channel post, of every sender. */
export const POSTS_WILDCARD = `${POSTS_PREFIX}.*.*`;
/** Prefix of direct messages: `chat.KUBECON.dms.<recipientKey>.<senderKey>`. */
export const DMS_PREFIX = `${CHAT_ROOT}.dms`;

/**
 * Prefix of message events (edit, react, delete) sent as requests to the history writer:
 * `chat.KUBECON.events.posts.<channel>.<senderKey>` and `chat.KUBECON.events.dms.<peerKey>.<senderKey>`.
 * Only the writer subscribes; receivers learn the outcome from the updates below, never from
 * the sender, so a rule the writer refuses is never shown.
 */
export const EVENTS_PREFIX = `${CHAT_ROOT}.events`;
/** Updates of a channel's message states, published by the history service only. */
export const UPDATES_PREFIX = `${CHAT_ROOT}.updates.posts`;
/** Every channel's updates (a chat user's subscription). */
export const UPDATES_WILDCARD = `${UPDATES_PREFIX}.*`;
/**
 * Typing signals from a user, to the history service's relay only:
 * `chat.KUBECON.typing.posts.<channel>.<senderKey>`, `chat.KUBECON.typing.dms.<peerKey>.<senderKey>`.
 */
export const TYPING_PREFIX = `${CHAT_ROOT}.typing`;
/** The relay's rate-limited typing signals of a channel: `chat.KUBECON.typers.posts.<channel>.<senderKey>`. */
export const TYPERS_PREFIX = `${CHAT_ROOT}.typers.posts`;
/** Every channel's typing signals (a chat user's subscription). */
export const TYPERS_WILDCARD = `${TYPERS_PREFIX}.*.*`;
/**
 * A user's private feed, published by the history service only, readable only by that user:
 * `.updates` (its DMs' message states), `.typing.<senderKey>` (DM typing), `.read` (its read state).
 */
export const USER_FEED_PREFIX = `${CHAT_ROOT}.user`;
/** Admin removal of any message (a signed chat-moderate token); only the admin role may publish. */
export const MODERATION_SUBJECT = "chat.mod.remove";

/** Prefix of the stored posts (stream CHAT_POSTS), written only by the history service. */
export const STORE_POSTS_PREFIX = "chat.store.posts";
/** Prefix of the stored DMs (stream CHAT_DMS), written only by the history service. */
export const STORE_DMS_PREFIX = "chat.store.dms";

/** Root of the request/reply services chat users reach through CHAT's imports from ADMIN. */
export const SERVICE_ROOT = "chat.svc";
/** Every history endpoint (the ADMIN export and CHAT import). */
export const HISTORY_SUBJECTS = `${SERVICE_ROOT}.history.>`;
/** Channel history: request `{channel, before?, limit?}` (see history-wire.ts). */
export const HISTORY_POSTS_SUBJECT = `${SERVICE_ROOT}.history.posts`;
/** The requester's own DM history: request `{peer?, before?, limit?}`. */
export const HISTORY_DMS_SUBJECT = `${SERVICE_ROOT}.history.dms`;
/** A thread: its root and the replies (see chat-wire.ts). */
export const HISTORY_THREAD_SUBJECT = `${SERVICE_ROOT}.history.thread`;
/** Search over the channels and the requester's own DMs, paged (see chat-wire.ts). */
export const HISTORY_SEARCH_SUBJECT = `${SERVICE_ROOT}.history.search`;
/** The requester's read positions and muted conversations (see chat-wire.ts). */
export const HISTORY_READSTATE_SUBJECT = `${SERVICE_ROOT}.history.readstate`;
/** Every directory endpoint (the ADMIN export and CHAT import). */
export const DIRECTORY_SUBJECTS = `${SERVICE_ROOT}.directory.>`;
/** Directory lookup: key → issued name and JWT (see directory-wire.ts). */
export const DIRECTORY_LOOKUP_SUBJECT = `${SERVICE_ROOT}.directory.lookup`;
/** Paged list of the keys online now. */
export const DIRECTORY_ONLINE_SUBJECT = `${SERVICE_ROOT}.directory.online`;

/**
 * Header of an error reply from a natschat service (history, directory): a stable code such as
 * `QUOTA`, `STALE` or `BAD_REQUEST`, next to the status header (4xx/5xx).
 */
export const SERVICE_ERROR_HEADER = "Natschat-Error";
/** The JetStream de-duplication header the history writer sets (`<senderKey>.<jti>`). */
export const MSG_ID_HEADER = "Nats-Msg-Id";
/** The header a share:true service import adds: the server's word on who asks. */
export const REQUEST_INFO_HEADER = "Nats-Request-Info";

function userKey(key: string, what: string): string {
  if (!isPublicKey(key, "U")) {
    throw new InvalidSubjectError(
      `${what} must be a user public key (56 characters starting with 'U')`,
    );
  }
  return key;
}

/** Live subject of a post to `channel` by `senderKey`; only that key may publish on it. */
export function postSubject(channel: string, senderKey: string): string {
  return `${POSTS_PREFIX}.${validateChannel(channel)}.${userKey(senderKey, "the sender")}`;
}

/** Live subject of a DM to `recipientKey` from `senderKey`; only the sender may publish on it. */
export function dmSubject(recipientKey: string, senderKey: string): string {
  return `${DMS_PREFIX}.${userKey(recipientKey, "a DM recipient")}.${userKey(senderKey, "the sender")}`;
}

/** Live subject of the presence announcements of `senderKey`. */
export function presenceSubject(senderKey: string): string {
  return `${ONLINE_PREFIX}.${userKey(senderKey, "the sender")}`;
}

/** The DMs to `me`, from anyone: `chat.KUBECON.dms.<me>.*`. */
export function dmInboxWildcard(me: string): string {
  return `${DMS_PREFIX}.${userKey(me, "the recipient")}.*`;
}

/** The DMs `me` sent, from any of its devices: `chat.KUBECON.dms.*.<me>`. */
export function dmSentWildcard(me: string): string {
  return `${DMS_PREFIX}.*.${userKey(me, "the sender")}`;
}

/** A conversation as the protocol names it: a channel, or a DM with a peer (from one side). */
export type Conv = { kind: "post"; channel: string } | { kind: "dm"; peer: string };

function convTokens(conv: Conv): string {
  return conv.kind === "post"
    ? `posts.${validateChannel(conv.channel)}`
    : `dms.${userKey(conv.peer, "a DM peer")}`;
}

/** Subject of a message event (edit, react, delete) by `senderKey` in `conv`. */
export function eventSubject(conv: Conv, senderKey: string): string {
  return `${EVENTS_PREFIX}.${convTokens(conv)}.${userKey(senderKey, "the sender")}`;
}

/** Subject of a typing signal by `senderKey` in `conv`. */
export function typingSubject(conv: Conv, senderKey: string): string {
  return `${TYPING_PREFIX}.${convTokens(conv)}.${userKey(senderKey, "the sender")}`;
}

/** The relay's typing signal of `senderKey` in `channel`. */
export function typersSubject(channel: string, senderKey: string): string {
  return `${TYPERS_PREFIX}.${validateChannel(channel)}.${userKey(senderKey, "the sender")}`;
}

/** The updates of `channel`'s message states. */
export function updatesSubject(channel: string): string {
  return `${UPDATES_PREFIX}.${validateChannel(channel)}`;
}

/** Everything on `userKey`'s private feed: `chat.KUBECON.user.<userKey>.>`. */
export function userFeedWildcard(userKey_: string): string {
  return `${USER_FEED_PREFIX}.${userKey(userKey_, "the user")}.>`;
}

/** What a private feed carries. */
export type UserFeedKind = "updates" | "read" | { typing: string };

/** One subject of `userKey`'s private feed. */
export function userFeedSubject(userKey_: string, kind: UserFeedKind): string {
  const tail =
    typeof kind === "string" ? kind : `typing.${userKey(kind.typing, "the typing sender")}`;
  return `${USER_FEED_PREFIX}.${userKey(userKey_, "the user")}.${tail}`;
}

/** An event or typing subject parsed: its conversation and its sender (the last token). */
export interface ConvSubject {
  conv: Conv;
  sender: string;
}

function parseConvSubject(subject: string, prefix: string): ConvSubject | undefined {
  if (typeof subject !== "string" || subject.length > 256) return undefined;
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  const t = subject.slice(prefix.length + 1).split(".");
  if (t.length !== 3) return undefined;
  const [kind, where, sender] = t as [string, string, string];
  if (!isPublicKey(sender, "U")) return undefined;
  if (kind === "posts" && isValidChannel(where))
    return { conv: { kind: "post", channel: where }, sender };
  if (kind === "dms" && isPublicKey(where, "U"))
    return { conv: { kind: "dm", peer: where }, sender };
  return undefined;
}

/** Parses an event subject (`chat.KUBECON.events.…`); undefined for anything else. */
export function parseEventSubject(subject: string): ConvSubject | undefined {
  return parseConvSubject(subject, EVENTS_PREFIX);
}

/** Parses a typing subject (`chat.KUBECON.typing.…`); undefined for anything else. */
export function parseTypingSubject(subject: string): ConvSubject | undefined {
  return parseConvSubject(subject, TYPING_PREFIX);
}

/** Stored form of a post: `chat.store.posts.<channel>.<senderKey>`. */
export function storePostSubject(channel: string, senderKey: string): string {
  return `${STORE_POSTS_PREFIX}.${validateChannel(channel)}.${userKey(senderKey, "the sender")}`;
}

/** Stored form of a DM: `chat.store.dms.<recipientKey>.<senderKey>`. */
export function storeDmSubject(recipientKey: string, senderKey: string): string {
  return `${STORE_DMS_PREFIX}.${userKey(recipientKey, "a DM recipient")}.${userKey(senderKey, "the sender")}`;
}

/** What a live (or stored) chat subject names; the sender is always the last token. */
export type ChatSubject =
  | { kind: "post"; channel: string; sender: string }
  | { kind: "dm"; recipient: string; sender: string }
  | { kind: "presence"; sender: string };

/**
 * Parses a live chat subject (`chat.KUBECON.…`), or with `{stored: true}` a stored one
 * (`chat.store.…`, no presence); undefined for anything else, wildcards included.
 */
export function parseChatSubject(
  subject: string,
  opts: { stored?: boolean } = {},
): ChatSubject | undefined {
  if (typeof subject !== "string" || subject.length > 256) return undefined;
  const t = subject.split(".");
  const isKey = (k: string | undefined): k is string => k !== undefined && isPublicKey(k, "U");
  if (opts.stored) {
    if (t.length !== 5 || t[0] !== "chat" || t[1] !== "store") return undefined;
    if (t[2] === "posts" && isValidChannel(t[3] as string) && isKey(t[4]))
      return { kind: "post", channel: t[3] as string, sender: t[4] };
    if (t[2] === "dms" && isKey(t[3]) && isKey(t[4]))
      return { kind: "dm", recipient: t[3], sender: t[4] };
    return undefined;
  }
  if (t[0] !== "chat" || t[1] !== "KUBECON") return undefined;
  if (t.length === 4 && t[2] === "online" && isKey(t[3])) return { kind: "presence", sender: t[3] };
  if (t.length !== 5) return undefined;
  if (t[2] === "posts" && isValidChannel(t[3] as string) && isKey(t[4]))
    return { kind: "post", channel: t[3] as string, sender: t[4] };
  if (t[2] === "dms" && isKey(t[3]) && isKey(t[4]))
    return { kind: "dm", recipient: t[3], sender: t[4] };
  return undefined;
}

/** The live subject of a parsed chat subject. */
export function liveSubject(s: ChatSubject): string {
  if (s.kind === "post") return postSubject(s.channel, s.sender);
  if (s.kind === "dm") return dmSubject(s.recipient, s.sender);
  return presenceSubject(s.sender);
}

/** The stored subject of a parsed post or DM subject. */
export function storedSubject(s: ChatSubject): string {
  if (s.kind === "post") return storePostSubject(s.channel, s.sender);
  if (s.kind === "dm") return storeDmSubject(s.recipient, s.sender);
  throw new InvalidSubjectError("presence is never stored");
}

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
