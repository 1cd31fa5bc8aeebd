// Public surface of the access layer: the access service (provisioning with client-held keys,
// registry, presence, revocation, $SRV endpoints), its configuration and its parts.

export { AccessEndpoint } from "./access-endpoint.ts";
export {
  ACCESS_ENV,
  type AccessFlags,
  parseDuration,
  type ResolveInput,
  resolveAccessConfig,
} from "./config.ts";
export { connectService, type ServiceConnectOptions } from "./connect.ts";
export { DirectoryEndpoints } from "./directory.ts";
export { type Reply, replyOf, respond, STATUS, type Work } from "./endpoint.ts";
export { AccessServiceError, type AccessServiceErrorCode } from "./errors.ts";
export {
  DEFAULT_EXPIRY_RULES,
  dueForRelease,
  type Expired,
  type ExpiryRules,
  ExpirySweeper,
} from "./expiry.ts";
export { HeartbeatGate, type HeartbeatGateOptions } from "./heartbeat-gate.ts";
export {
  CHAT_USER_TAG,
  DEFAULT_USER_EXPIRY_SECONDS,
  type IssuedJwt,
  UserIssuer,
} from "./issuer.ts";
export { bounded, withRetries } from "./lifecycle.ts";
export {
  createLogger,
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LogLevel,
  type LogSink,
  parseLogLevel,
  redact,
  silentLogger,
} from "./log.ts";
export { OnlineSet, type OnlineSetOptions, type OnlineStats } from "./online-set.ts";
export { type PresenceStats, PresenceTracker } from "./presence.ts";
export {
  Provisioner,
  type ProvisionerOptions,
  type ProvisionReply,
  type RequestContext,
} from "./provision.ts";
export { DEFAULT_MAX_NAMES, QuotaGuard, type QuotaOptions, type QuotaStatus } from "./quota.ts";
export {
  type BucketRule,
  DEFAULT_RATE_LIMITS,
  describeLimited,
  type Limited,
  parseBucketRule,
  RateLimiter,
  type RateLimits,
  shareOf,
  TokenBucket,
} from "./rate-limit.ts";
export {
  CLAIM_PREFIX,
  type KeyClaim,
  parseClaim,
  parseRecord,
  Registry,
  type RegistryChange,
  type RegistryRecord,
  type StoredRecord,
} from "./registry.ts";
export { announce, RegistryEndpoints, wireUser } from "./registry-endpoints.ts";
export { ReplayGuard } from "./replay.ts";
export { addressKey } from "./request-info.ts";
export { DEFAULT_RESERVED_NAMES, parseReservedNames, ReservedNames } from "./reserved.ts";
export { parseRevokeRequest, type RevokeOutcome, type RevokeRequest, Revoker } from "./revoke.ts";
export {
  AccessServer,
  type AccessService,
  type AccessServiceOptions,
  type CredsSource,
  SERVICE_NAME,
  SERVICE_QUEUE,
  SERVICE_VERSION,
  startAccessService,
} from "./service.ts";
export { type Endpoint, REFUSALS, type Refusal, refusalOf, ServiceFigures } from "./stats.ts";
