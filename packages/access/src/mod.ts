// Public surface of the access layer.
export { DEFAULT_HISTORY_LIMITS, ensureChatStreams, type HistoryLimits } from "./streams.ts";
