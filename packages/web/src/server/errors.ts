// Errors of the web server side (building and serving the app), with stable codes.

export type WebServerErrorCode =
  | "WEB_CONFIG_MISSING"
  | "WEB_BUILD_FAILED"
  | "WEB_BUILD_LOCKED"
  | "WEB_PORT_BUSY";

/** Something the web server cannot do; the message says what to do about it. */
export class WebServerError extends Error {
  override name = "WebServerError";
  constructor(
    readonly code: WebServerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
