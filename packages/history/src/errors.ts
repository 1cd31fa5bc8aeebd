// Errors of the history service: a stable code and a message that says what to do.

/** Codes of HistoryServiceError. */
export type HistoryServiceErrorCode =
  | "CONFIG_INVALID"
  | "CONNECT_FAILED"
  | "STARTUP_FAILED"
  | "STREAM_CONFLICT";

/** The history service cannot start or run as configured. */
export class HistoryServiceError extends Error {
  override name = "HistoryServiceError";
  constructor(
    readonly code: HistoryServiceErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
