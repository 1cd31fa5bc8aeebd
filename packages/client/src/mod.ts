// Public surface of @natschat/client: the chat session model shared by the terminal and web UIs.
// Isomorphic (Node and browsers): the NATS connection is injected (connect or wsconnect).

export type { ConnectFn } from "./connection.ts";
export type { HistoryState, MessageRecord } from "./conversation.ts";
export { ChatError, type ChatErrorCode } from "./errors.ts";
export { type ReadLastOptions, readLastN, type StoredMessage } from "./history.ts";
export { DMS_STREAM, POSTS_STREAM } from "./history-loader.ts";
export {
  IdentityCache,
  type IdentityCacheOptions,
  type KnownIdentity,
  type LearnResult,
  shortKey,
} from "./identity.ts";
export { ChangeNotifier } from "./notifier.ts";
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
export { RENEW_BEFORE_MS, renewAt, renewalDue } from "./renewal.ts";
export { Scope, type ScopedTimer } from "./scope.ts";
export { type ChatCreds, ChatSession, type ChatSessionOptions } from "./session.ts";
export {
  type ChatSnapshot,
  ChatStore,
  type ChatStoreOptions,
  type ConversationView,
  isFinal,
  type Me,
  type MessageView,
  type NoticeKind,
  type SessionState,
  type UserRecord,
  type UserView,
} from "./store.ts";
export { channelId, dmId, parseTarget } from "./target.ts";
export { waitForSnapshot } from "./wait.ts";
