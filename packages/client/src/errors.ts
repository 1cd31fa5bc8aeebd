// Errors of the chat client. Each has a stable `code` and a message that says what to do.
import type { HistoryErrorCode } from "@natschat/protocol";

/** Codes of ChatError. */
export type ChatErrorCode =
  | "CHAT_CONNECT_FAILED"
  /** The server refused the creds at connect: revoked, expired or for another operator. */
  | "CHAT_CREDS_REFUSED"
  | "CHAT_NOT_CHAT_USER"
  | "CHAT_CREDS_MISMATCH"
  | "CHAT_NOT_STARTED"
  | "CHAT_STOPPED"
  | "CHAT_BAD_TARGET"
  | "CHAT_BAD_OPTIONS"
  | "CHAT_TIMEOUT"
  /** A directory lookup failed (it is retried). */
  | "CHAT_DIRECTORY_FAILED"
  /** A history read failed; `serviceCode` says why when the service answered. */
  | "CHAT_HISTORY_FAILED"
  /** The history writer refused a sent message for good (quota, stale, bad message). */
  | "CHAT_STORE_REFUSED"
  /**
   * A message event (react, edit, remove) or a read-state, thread or search request refused by
   * the history service: its own code (FORBIDDEN, NOT_FOUND, LIMIT, UNAVAILABLE, …), as the
   * service said it; UNAVAILABLE too when no answer came in time.
   */
  | HistoryErrorCode
  | "UNKNOWN";

/** Something the chat session cannot do, and why. */
export class ChatError extends Error {
  override name = "ChatError";
  constructor(
    readonly code: ChatErrorCode,
    message: string,
    options?: ErrorOptions & { serviceCode?: string },
  ) {
    super(message, options);
    if (options?.serviceCode) this.serviceCode = options.serviceCode;
  }
  /** The service's error code (`Natschat-Error`), when a service refused. */
  serviceCode?: string;
}
