// Errors of the chat client. Each has a stable `code` and a message that says what to do.

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
  | "CHAT_TIMEOUT";

/** Something the chat session cannot do, and why. */
export class ChatError extends Error {
  override name = "ChatError";
  constructor(
    readonly code: ChatErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
