// Public surface of @natschat/client: the chat session model shared by the terminal and web UIs.
// Isomorphic (Node and browsers): the NATS connection is injected (connect or wsconnect).

export type {
  ChatNotification,
  MentionCandidate,
  NotifyReason,
  SearchHit,
  SearchOptions,
  SearchResult,
  SendOptions,
} from "./api.ts";
export {
  type ChatCommand,
  COMMANDS,
  type CommandHelp,
  commandHelp,
  mutedConversation,
  parseCommand,
} from "./commands.ts";
export type { ConnectFn } from "./connection.ts";
export type { HistoryState, MessageRecord } from "./conversation.ts";
export {
  Directory,
  type DirectoryEntry,
  type DirectoryLookup,
  natsDirectoryLookup,
} from "./directory.ts";
export { ChatError, type ChatErrorCode } from "./errors.ts";
export {
  type HistoryFetch,
  type HistoryQuery,
  natsHistoryFetch,
  readLast,
} from "./history.ts";
export {
  IdentityCache,
  type IdentityCacheOptions,
  type KnownIdentity,
  type LearnResult,
  shortKey,
} from "./identity.ts";
export { MENTION_CANDIDATES_MAX, mentionCandidates, mentionsToKeys } from "./mentions.ts";
export {
  excerptOf,
  type MessageView,
  messageView,
  type ReactionView,
  type ReplyRef,
  type Segment,
  segmentsOf,
  type ViewContext,
} from "./message-view.ts";
export { ChangeNotifier } from "./notifier.ts";
export type { ChatCreds, ChatSessionOptions } from "./options.ts";
export {
  isRefusal,
  Outbox,
  type OutboxEntry,
  type OutboxOptions,
  requestStore,
  STORE_TIMEOUT_MS,
  type StoreFn,
} from "./outbox.ts";
export {
  type RegisterOptions,
  type Registration,
  type Renewal,
  register,
  renew,
} from "./register.ts";
export {
  chatUserKind,
  RENEW_BEFORE_MS,
  renewAt,
  renewalDue,
  renewBeforeConnect,
} from "./renewal.ts";
export { conversationOf } from "./routing.ts";
export { Scope, type ScopedTimer } from "./scope.ts";
export { ChatSession } from "./session.ts";
export { closest, oneTypoApart } from "./spelling.ts";
export {
  type ChatSnapshot,
  ChatStore,
  type ChatStoreOptions,
  type ConversationView,
  isFinal,
  type Me,
  type NoticeKind,
  type SessionState,
  type ThreadRecord,
  type ThreadView,
  type UserRecord,
  type UserView,
} from "./store.ts";
export { channelId, dmId, parseTarget } from "./target.ts";
export { waitForSnapshot } from "./wait.ts";
