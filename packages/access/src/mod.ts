// Public surface of the access layer: the access service (provisioning with client-held keys,
// registry, presence, revocation, $SRV endpoints), its configuration and its parts.
export {
  ACCESS_ENV,
  type AccessFlags,
  parseDuration,
  type ResolveInput,
  resolveAccessConfig,
} from "./config.ts";
export { connectService, type ServiceConnectOptions } from "./connect.ts";
export { AccessServiceError, type AccessServiceErrorCode } from "./errors.ts";
export { DEFAULT_USER_EXPIRY_SECONDS, type IssuedJwt, UserIssuer } from "./issuer.ts";
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
export { type PresenceStats, PresenceTracker } from "./presence.ts";
export { Provisioner, type ProvisionerOptions, type ProvisionReply } from "./provision.ts";
export {
  type BucketRule,
  DEFAULT_RATE_LIMITS,
  describeLimited,
  type Limited,
  parseBucketRule,
  RateLimiter,
  type RateLimits,
  TokenBucket,
} from "./rate-limit.ts";
export {
  parseRecord,
  Registry,
  type RegistryChange,
  type RegistryRecord,
  type StoredRecord,
} from "./registry.ts";
export { ReplayGuard } from "./replay.ts";
export { parseRevokeRequest, type RevokeOutcome, type RevokeRequest, Revoker } from "./revoke.ts";
export {
  type AccessService,
  type AccessServiceOptions,
  type CredsSource,
  revokeChange,
  SERVICE_NAME,
  SERVICE_QUEUE,
  SERVICE_VERSION,
  startAccessService,
} from "./service.ts";
export { ensureChatStreams } from "./streams.ts";
