// Least-privilege permissions of every role (DESIGN.md, security properties 2 and 4).
// Each identity may subscribe only to its own inbox prefix, so nobody reads another's replies.
import type { Permissions } from "@nats-io/jwt";
import {
  ACCESS_SUBJECT,
  DMS_PREFIX,
  inboxPrefixFor,
  ONLINE_SUBJECT,
  POSTS_PREFIX,
  PROVISIONED_SUBJECT,
  PROVISIONED_UPDATES_SUBJECT,
  REVOKE_SUBJECT,
} from "@natschat/protocol";

/** Name of the JetStream stream holding channel posts, and of the one holding DMs. */
export const POSTS_STREAM = "CHAT_POSTS";
export const DMS_STREAM = "CHAT_DMS";
/** The JetStream KV bucket (in ADMIN) holding the user registry. */
export const REGISTRY_BUCKET = "natschat-users";

const inbox = (owner: string) => `${inboxPrefixFor(owner)}.>`;

/** The public bootstrap user: may only request access, and may publish into no inbox. */
export function bootstrapPermissions(): Permissions {
  return {
    pub: { allow: [ACCESS_SUBJECT], deny: ["_INBOX.>", "$JS.>", "$SYS.>", "$SRV.>"] },
    sub: { allow: [inbox("bootstrap")], deny: [] },
  };
}

/** The access service (ADMIN): answers requests, owns the registry bucket, follows presence. */
export function accessPermissions(): Permissions {
  return {
    pub: {
      allow: [
        PROVISIONED_UPDATES_SUBJECT,
        "$JS.API.>",
        `$KV.${REGISTRY_BUCKET}.>`,
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
        "chat.svc.directory.>",
        ONLINE_SUBJECT,
        "$SRV.>",
        inbox("access"),
      ],
      deny: [],
    },
    resp: { max: 1, ttl: 0 },
  };
}

/** The admin (ADMIN): lists users, watches changes and presence, revokes, reads service stats. */
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
    pub: { allow: [PROVISIONED_SUBJECT, REVOKE_SUBJECT, ...srv], deny: [] },
    sub: { allow: [PROVISIONED_UPDATES_SUBJECT, ONLINE_SUBJECT, inbox("admin")], deny: [] },
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
 * The JetStream API subjects a chat user may publish to read history, each both plain
 * ($JS.API.…) and with a domain prefix ($JS.<domain>.API.…): clients at an edge server (a leaf
 * without JetStream) must address the hub's domain, as the server blocks the plain prefix on
 * leafnode connections.
 */
function historyApi(ownDms: string): string[] {
  const api = [
    `CONSUMER.CREATE.${POSTS_STREAM}.*.${POSTS_PREFIX}.*`,
    `CONSUMER.CREATE.${DMS_STREAM}.*.${ownDms}`,
    `CONSUMER.INFO.${POSTS_STREAM}.*`,
    `CONSUMER.INFO.${DMS_STREAM}.*`,
    `CONSUMER.MSG.NEXT.${POSTS_STREAM}.*`,
    `CONSUMER.MSG.NEXT.${DMS_STREAM}.*`,
    `CONSUMER.DELETE.${POSTS_STREAM}.*`,
    `CONSUMER.DELETE.${DMS_STREAM}.*`,
    `STREAM.INFO.${POSTS_STREAM}`,
    `STREAM.INFO.${DMS_STREAM}`,
  ];
  return [...api.map((a) => `$JS.API.${a}`), ...api.map((a) => `$JS.*.API.${a}`)];
}

/**
 * A chat user: posts and presence, DMs to anyone, its own DMs and inbox only, renewal through
 * the CHAT import, and read-only history through ordered consumers filtered to what it may read.
 */
export function chatUserPermissions(userKey: string): Permissions {
  const ownDms = `${DMS_PREFIX}.${userKey}`;
  return {
    pub: {
      allow: [
        ONLINE_SUBJECT,
        `${POSTS_PREFIX}.*`,
        `${DMS_PREFIX}.*`,
        ACCESS_SUBJECT,
        "chat.svc.directory.>",
        ...historyApi(ownDms),
        `$JS.FC.${POSTS_STREAM}.>`,
        `$JS.FC.${DMS_STREAM}.>`,
      ],
      deny: [],
    },
    sub: { allow: [ONLINE_SUBJECT, `${POSTS_PREFIX}.*`, ownDms, inbox(userKey)], deny: [] },
  };
}

/** Largest message a chat user may publish: a signed post of 2,000 characters fits with room. */
export const CHAT_USER_MAX_PAYLOAD = 16_384;
