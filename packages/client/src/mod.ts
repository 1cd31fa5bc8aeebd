// Public surface of @natschat/client: the chat session model shared by the terminal and web UIs.
// Isomorphic (Node and browsers): the NATS connection is injected (connect or wsconnect).
export type { HistoryState, MessageRecord } from "./conversation.ts";
export { ChatError, type ChatErrorCode } from "./errors.ts";
export { type ReadLastOptions, readLastN, type StoredMessage } from "./history.ts";
export {
  IdentityCache,
  type IdentityCacheOptions,
  type KnownIdentity,
  type LearnResult,
  shortKey,
} from "./identity.ts";
export {
  jetStreamStore,
  Outbox,
  type OutboxEntry,
  type OutboxOptions,
  STORE_TIMEOUT_MS,
  type StoreFn,
  storeMsgId,
} from "./outbox.ts";
export {
  type RegisterOptions,
  type Registration,
  type Renewal,
  register,
  renew,
} from "./register.ts";
export { RENEW_BEFORE_MS, renewalDue } from "./renewal.ts";
export {
  type ChatCreds,
  ChatSession,
  type ChatSessionOptions,
  type ChatSnapshot,
  type ConnectFn,
  type ConversationView,
  channelId,
  DMS_STREAM,
  dmId,
  type Me,
  type MessageView,
  POSTS_STREAM,
  parseTarget,
  renewAt,
  type SessionState,
  type UserView,
} from "./session.ts";
export { waitForSnapshot } from "./wait.ts";
