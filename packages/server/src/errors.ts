// Errors of the server layer: each carries a stable code and says what to do.
export class ServerLayerError extends Error {
  override name = "ServerLayerError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
