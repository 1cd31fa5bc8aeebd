// Errors of the protocol layer. Each class has a stable `code` that callers can switch on,
// and a message that says what is wrong and what to do (never a seed or a full JWT).

/** Base class of every error this package throws. */
export class NatschatError extends Error {
  override name = "NatschatError";
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A user name breaks the name rules (see names.ts). */
export class InvalidNameError extends NatschatError {
  override name = "InvalidNameError";
  constructor(message: string) {
    super("NAME_INVALID", message);
  }
}

/** A channel name is not a single subject token of letters, digits, '-' or '_'. */
export class InvalidChannelError extends NatschatError {
  override name = "InvalidChannelError";
  constructor(message: string) {
    super("CHANNEL_INVALID", message);
  }
}

/** A subject or subject token (DM recipient, inbox owner) is not valid. */
export class InvalidSubjectError extends NatschatError {
  override name = "InvalidSubjectError";
  constructor(message: string) {
    super("SUBJECT_INVALID", message);
  }
}

/** Codes of NkeyError. */
export type NkeyErrorCode = "NKEY_INVALID" | "NKEY_CHECKSUM" | "NKEY_WRONG_TYPE";

/** An nkey string (public key or seed) does not decode, or is of the wrong type. */
export class NkeyError extends NatschatError {
  override name = "NkeyError";
  constructor(
    override readonly code: NkeyErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/** Codes of JwtError. */
export type JwtErrorCode =
  | "JWT_OVERSIZE"
  | "JWT_MALFORMED"
  | "JWT_BAD_ALG"
  | "JWT_BAD_ISSUER"
  | "JWT_BAD_CLAIMS"
  | "JWT_BAD_SIGNATURE";

/** A JWT is malformed, oversized, uses the wrong algorithm or issuer, or its signature fails. */
export class JwtError extends NatschatError {
  override name = "JwtError";
  constructor(
    override readonly code: JwtErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** A chat message could not be encoded (e.g. empty or too long text). */
export class EnvelopeError extends NatschatError {
  override name = "EnvelopeError";
  constructor(message: string) {
    super("ENVELOPE_INVALID", message);
  }
}

/** Codes of CredsError. */
export type CredsErrorCode =
  | "CREDS_EMPTY"
  | "CREDS_TRUNCATED"
  | "CREDS_NO_JWT"
  | "CREDS_NO_SEED"
  | "CREDS_MARKERS"
  | "CREDS_BAD_JWT"
  | "CREDS_BAD_SEED"
  | "CREDS_SEED_TYPE"
  | "CREDS_KEY_MISMATCH"
  | "CREDS_EXPIRED";

/** A creds file cannot be used; the message says which part is wrong. */
export class CredsError extends NatschatError {
  override name = "CredsError";
  constructor(
    override readonly code: CredsErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** Codes of IdentityError. */
export type IdentityErrorCode =
  | "ID_BAD_JWT"
  | "ID_NOT_USER"
  | "ID_WRONG_KEY"
  | "ID_WRONG_SIGNER"
  | "ID_WRONG_ACCOUNT"
  | "ID_BAD_NAME"
  | "ID_EXPIRED";

/** An issued user JWT is not one the CHAT account issued for the expected key. */
export class IdentityError extends NatschatError {
  override name = "IdentityError";
  constructor(
    override readonly code: IdentityErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** Stable codes of the access service's error replies (header `Natschat-Error-Code`). */
export const AccessErrorCodes = {
  NAME_INVALID: "NAME_INVALID",
  NAME_TAKEN: "NAME_TAKEN",
  NAME_REVOKED: "NAME_REVOKED",
  BAD_REQUEST: "BAD_REQUEST",
  BAD_PROOF: "BAD_PROOF",
  REPLAY: "REPLAY",
  RATE_LIMITED: "RATE_LIMITED",
  INTERNAL: "INTERNAL",
  LEGACY_DISABLED: "LEGACY_DISABLED",
  NOT_FOUND: "NOT_FOUND",
  /** The name is reserved (a role, a channel, a word like "admin" or "everyone"). */
  NAME_RESERVED: "NAME_RESERVED",
  /** The registry is near its limit: no new names, renewals still work. */
  REGISTRY_FULL: "REGISTRY_FULL",
  /** No access service answered, or it is shutting down: retry later. */
  UNAVAILABLE: "UNAVAILABLE",
} as const;

/** One of AccessErrorCodes. */
export type AccessErrorCode = (typeof AccessErrorCodes)[keyof typeof AccessErrorCodes];

/** An access request was refused; `code` is what the service puts in its reply header. */
export class AccessError extends NatschatError {
  override name = "AccessError";
  constructor(
    override readonly code: AccessErrorCode,
    message: string,
    /** Finer cause for logs and tests, e.g. "stale", "future", "not-user-key". */
    readonly reason: string = code,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** A service reply or request on the wire does not have the documented shape. */
export class WireFormatError extends NatschatError {
  override name = "WireFormatError";
  constructor(message: string, options?: ErrorOptions) {
    super("WIRE_INVALID", message, options);
  }
}

/** A history request or reply does not parse; `code` is the service's error code for it. */
export class HistoryWireError extends NatschatError {
  override name = "HistoryWireError";
  constructor(
    override readonly code: "BAD_REQUEST",
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}
