// Least-privilege permissions of every role (DESIGN.md, security properties 2 and 4).
// Each identity may subscribe only to its own inbox prefix, so nobody reads another's replies.
import type { Permissions } from "@nats-io/jwt";
import {
  ACCESS_SUBJECT,
  DIRECTORY_SUBJECTS,
  DMS_PREFIX,
  dmInboxWildcard,
  dmSentWildcard,
  EVENTS_PREFIX,
  HISTORY_SUBJECTS,
  inboxPrefixFor,
  MODERATION_SUBJECT,
  ONLINE_BUCKET,
  ONLINE_WILDCARD,
  POSTS_PREFIX,
  POSTS_WILDCARD,
  PRESENCE_FEED,
  PRESENCE_TICK_SUBJECT,
  PROVISIONED_SUBJECT,
  PROVISIONED_UPDATES_SUBJECT,
  presenceSubject,
  REVOKE_SUBJECT,
  SERVICE_ROOT,
  STORE_DMS_PREFIX,
  STORE_POSTS_PREFIX,
  TYPERS_PREFIX,
  TYPERS_WILDCARD,
  TYPING_PREFIX,
  UPDATES_PREFIX,
  UPDATES_WILDCARD,
  USER_FEED_PREFIX,
  userFeedWildcard,
} from "@natschat/protocol";

/** Name of the JetStream stream holding channel posts, and of the one holding DMs. */
export const POSTS_STREAM = "CHAT_POSTS";
export const DMS_STREAM = "CHAT_DMS";
/** The JetStream KV bucket (in ADMIN) holding the user registry. */
export const REGISTRY_BUCKET = "natschat-users";
/** The JetStream KV bucket (in ADMIN) holding the online set (key → name, since). */
export { ONLINE_BUCKET };
/** The JetStream KV bucket (in CHAT) holding each sender's bytes stored today. */
export const QUOTA_BUCKET = "natschat-quota";
/** The JetStream KV bucket (in CHAT) holding each message's current state (edit, deletion, reactions, replies). */
export const STATE_BUCKET = "natschat-state";
/** The JetStream KV bucket (in CHAT) holding each user's read positions and muted conversations. */
export const READ_BUCKET = "natschat-read";
/** Queue group of the history service (writer in CHAT, readers in ADMIN). */
export const HISTORY_QUEUE = "natschat-history";

const inbox = (owner: string) => `${inboxPrefixFor(owner)}.>`;

/** The public bootstrap user: may only request access, and may publish into no inbox. */
export function bootstrapPermissions(): Permissions {
  return {
    pub: { allow: [ACCESS_SUBJECT], deny: ["_INBOX.>", "$JS.>", "$SYS.>", "$SRV.>"] },
    sub: { allow: [inbox("bootstrap")], deny: [] },
  };
}

/**
 * The access service (ADMIN): answers requests, owns the registry and online buckets, follows
 * presence (heartbeats) and ticks the presence feed. The feed's changes are the online bucket's
 * JetStream republish, so it never publishes them itself.
 */
export function accessPermissions(): Permissions {
  return {
    pub: {
      allow: [
        PROVISIONED_UPDATES_SUBJECT,
        "$JS.API.>",
        `$KV.${REGISTRY_BUCKET}.>`,
        `$KV.${ONLINE_BUCKET}.>`,
        PRESENCE_TICK_SUBJECT,
        "$SRV.>",
        inbox("access"),
      ],
      deny: [],
    },
    sub: {
      allow: [
        ACCESS_SUBJECT,
        PROVISIONED_SUBJECT,
        REVOKE_SUBJECT,
        ONLINE_WILDCARD,
        DIRECTORY_SUBJECTS,
        "$SRV.>",
        inbox("access"),
      ],
      deny: [],
    },
    resp: { max: 1, ttl: 0 },
  };
}

/**
 * The admin (ADMIN): lists users, watches changes and presence, revokes, reads service stats.
 * It may not publish on chat.svc.>: inside ADMIN a request is not rewritten by an import, so a
 * forged Nats-Request-Info would reach the services as sent.
 */
export function adminPermissions(): Permissions {
  const srv = [
    "$SRV.PING",
    "$SRV.PING.>",
    "$SRV.INFO",
    "$SRV.INFO.>",
    "$SRV.STATS",
    "$SRV.STATS.>",
  ];
  return {
    pub: {
      allow: [PROVISIONED_SUBJECT, REVOKE_SUBJECT, MODERATION_SUBJECT, ...srv],
      deny: [`${SERVICE_ROOT}.>`],
    },
    sub: { allow: [PROVISIONED_UPDATES_SUBJECT, ONLINE_WILDCARD, inbox("admin")], deny: [] },
  };
}

/**
 * The pusher (SYS): looks up and updates account JWTs, pings servers and asks their JetStream
 * state (`natschat status`); nothing else in SYS.
 */
export function pushPermissions(): Permissions {
  return {
    pub: {
      allow: [
        "$SYS.REQ.CLAIMS.UPDATE",
        "$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE",
        "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP",
        "$SYS.REQ.SERVER.PING",
        "$SYS.REQ.SERVER.PING.JSZ",
      ],
      deny: [],
    },
    sub: { allow: [inbox("push")], deny: [] },
  };
}

/**
 * The history service's CHAT side (role `history`): takes the live posts, DMs, message events and
 * typing signals in its queue group, stores them under chat.store.>, owns the history streams and
 * the quota, state and read-state buckets, publishes the message-state updates, the relayed typing
 * signals and the users' private feeds, and answers each request once (`resp`). It is the only
 * CHAT identity that writes the stores or those subjects.
 */
export function historyPermissions(): Permissions {
  return {
    pub: {
      allow: [
        `${STORE_POSTS_PREFIX}.>`,
        `${STORE_DMS_PREFIX}.>`,
        "$JS.API.>",
        `$KV.${QUOTA_BUCKET}.>`,
        `$KV.${STATE_BUCKET}.>`,
        `$KV.${READ_BUCKET}.>`,
        `${UPDATES_PREFIX}.*`,
        `${TYPERS_PREFIX}.>`,
        `${USER_FEED_PREFIX}.*.>`,
        inbox("history"),
      ],
      // it never removes anything: the streams deny it too, this keeps a leaked creds file
      // from trying on streams created without those flags
      deny: ["$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>", "$JS.API.STREAM.MSG.DELETE.>"],
    },
    sub: {
      allow: [
        `${POSTS_PREFIX}.*.*`,
        `${DMS_PREFIX}.*.*`,
        `${EVENTS_PREFIX}.>`,
        `${TYPING_PREFIX}.>`,
        inbox("history"),
      ],
      deny: [],
    },
    resp: { max: 1, ttl: 0 },
  };
}

/**
 * The history service's ADMIN side (role `history-api`): the read endpoints, reached by chat
 * users through CHAT's share:true import, the admin's moderation endpoint, and the
 * micro-service protocol. It reads the stores through the CHAT side, so it needs no JetStream
 * API here.
 */
export function historyApiPermissions(): Permissions {
  return {
    pub: { allow: ["$SRV.>", inbox("history-api")], deny: [] },
    sub: {
      allow: [HISTORY_SUBJECTS, MODERATION_SUBJECT, "$SRV.>", inbox("history-api")],
      deny: [],
    },
    resp: { max: 1, ttl: 0 },
  };
}

/**
 * A chat user, bound to its own key: it publishes presence, posts, DMs, message events and typing
 * signals only on subjects whose last token is its key (so the server proves the sender), reads
 * posts, the presence feed (the directory's changes of the online set, not everyone's
 * heartbeats: issue 12), its own DMs (received, and sent from its other devices), the channels'
 * message-state updates and relayed typing signals, and its own private feed (issue 13), and
 * reaches history, the directory and renewal as services. It cannot read anyone's events or raw
 * typing signals (only the history service does), nor publish what the service publishes. No
 * JetStream API at all: the stores are written and read by the services.
 */
export function chatUserPermissions(userKey: string): Permissions {
  return {
    pub: {
      allow: [
        presenceSubject(userKey),
        `${POSTS_PREFIX}.*.${userKey}`,
        `${DMS_PREFIX}.*.${userKey}`,
        `${EVENTS_PREFIX}.*.*.${userKey}`,
        `${TYPING_PREFIX}.*.*.${userKey}`,
        ACCESS_SUBJECT,
        HISTORY_SUBJECTS,
        DIRECTORY_SUBJECTS,
      ],
      // defence in depth: nothing JetStream, whatever the allow list grows into later
      deny: ["$JS.>", "$KV.>", "$O.>"],
    },
    sub: {
      allow: [
        PRESENCE_FEED,
        POSTS_WILDCARD,
        dmInboxWildcard(userKey),
        dmSentWildcard(userKey),
        UPDATES_WILDCARD,
        TYPERS_WILDCARD,
        userFeedWildcard(userKey),
        inbox(userKey),
      ],
      deny: [],
    },
  };
}

/** Largest message a chat user may publish: a signed post of 2,000 characters fits with room. */
export const CHAT_USER_MAX_PAYLOAD = 16_384;
