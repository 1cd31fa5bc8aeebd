// Errors of the trust layer: each carries a stable code and says what to do.
export class TrustError extends Error {
  override name = "TrustError";
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
