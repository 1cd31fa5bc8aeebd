// Errors of the access service outside the wire protocol (configuration, start-up). Replies to
// clients use the protocol's AccessError codes instead.

/** Codes of AccessServiceError. */
export type AccessServiceErrorCode =
  | "CONFIG_INVALID"
  | "CONFIG_MISSING"
  | "KEY_UNREADABLE"
  | "CONNECT_FAILED"
  | "STARTUP_FAILED";

/** The access service cannot start or is misconfigured; the message says what to change. */
export class AccessServiceError extends Error {
  override name = "AccessServiceError";
  constructor(
    readonly code: AccessServiceErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
