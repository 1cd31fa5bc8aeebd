// Public surface of the trust layer.
export { connectRole, connectWithCreds, type RoleConnectOptions } from "./connect.ts";
export { TrustError } from "./errors.ts";
export {
  type AccountStorage,
  accountStorage,
  assertStoresFit,
  budgetShortfall,
  formatBytes,
  reservedBytes,
  type StoreReservation,
} from "./jetstream-budget.ts";
export {
  accountStores,
  HISTORY_STREAMS,
  type HistoryStreamBudget,
  jetStreamLimits,
  MAX_REPLICAS,
  ONLINE_STORE,
  QUOTA_STORE,
  READ_STORE,
  REGISTRY_STORE,
  STATE_STORE,
  type StoreBudget,
} from "./jetstream-limits.ts";
export { nativeKeyPair } from "./native-keys.ts";
export { INLINE_VERIFIES_PER_TURN, installNodeEd25519, nodeEd25519 } from "./node-ed25519.ts";
export {
  accessPermissions,
  adminPermissions,
  bootstrapPermissions,
  CHAT_USER_MAX_PAYLOAD,
  chatUserPermissions,
  DMS_STREAM,
  HISTORY_QUEUE,
  historyApiPermissions,
  historyPermissions,
  ONLINE_BUCKET,
  POSTS_STREAM,
  pushPermissions,
  QUOTA_BUCKET,
  READ_BUCKET,
  REGISTRY_BUCKET,
  STATE_BUCKET,
} from "./permissions.ts";
export {
  discoverServers,
  lookupAccountJwt,
  type PushReply,
  pushAccountJwt,
  pushAll,
} from "./push.ts";
export { revocationsOf, revokeInAccountJwt } from "./revoke.ts";
export {
  defaultDataDir,
  ensureDir,
  ensurePrivateDir,
  layout,
  readOptional,
  writePublic,
  writeSecret,
} from "./store.ts";
export {
  ACCOUNT_NAMES,
  type AccountName,
  ALL_USERS,
  edgeLeafCreds,
  type InitReport,
  initTrust,
  type LoadedTrust,
  loadSeed,
  loadTrust,
  ROLE_SPECS,
  ROLES,
  type Role,
  resolverTrust,
  type TrustSummary,
} from "./tree.ts";
