// Public surface of @natschat/history: the history service (writer, readers, stores) and its
// configuration from a data dir.
export {
  HISTORY_ENV,
  type HistoryCliFlags,
  type HistoryFlags,
  parseBytes,
  resolveHistoryCli,
  resolveHistoryConfig,
} from "./config.ts";
export { HistoryServiceError, type HistoryServiceErrorCode } from "./errors.ts";
export { type EventStats, EventWriter } from "./events.ts";
export { ConversationIndex, IndexBuilder, keysOf, threadKey } from "./index.ts";
export { silentLogger as silentLoggerForTests } from "./log.ts";
export {
  migrateV2History,
  type TrustedSigner,
  V2_MIGRATED_METADATA,
  type V2MigrationReport,
  v2MigrationPending,
} from "./migrate-v2.ts";
export { DEFAULT_DAILY_QUOTA_BYTES, QuotaLedger, utcDay } from "./quota.ts";
export { HistoryReaders, requesterOf } from "./readers.ts";
export {
  type CredsSource,
  HISTORY_SERVICE_NAME,
  HISTORY_SERVICE_VERSION,
  type HistoryService,
  type HistoryServiceOptions,
  startHistoryService,
} from "./service.ts";
export { MessageStates, stateKey } from "./state.ts";
export {
  DEDUPE_WINDOW_SECONDS,
  ensureHistoryStores,
  historyStreamConfigs,
  type StoreOptions,
} from "./streams.ts";
export {
  TYPING_INTERVAL_MS,
  TYPING_TTL_SECONDS,
  TypingRelay,
  type TypingStats,
} from "./typing-relay.ts";
export { HistoryWriter, type WriterStats } from "./writer.ts";
