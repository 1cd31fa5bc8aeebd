// Errors of the deploy layer: each carries a stable code and says what to do.
export class DeployError extends Error {
  override name = "DeployError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
