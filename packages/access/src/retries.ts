// Start-up steps of a service that may fail for a moment: JetStream may still be electing a
// leader, or a server's account limits may not be applied yet. Shared by every service.
import type { Logger } from "./log.ts";

/**
 * Runs a start-up step until it works, 6 tries with backoff (about 16 s in all); then throws
 * what `fail` makes of the last error (a service's own error class, with the cause kept).
 */
export async function withRetries<T>(
  what: string,
  log: Logger,
  step: () => Promise<T>,
  fail: (message: string, cause: unknown) => Error,
): Promise<T> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 6; attempt++) {
    try {
      return await step();
    } catch (err) {
      lastErr = err;
      log.warn(`cannot ${what} yet; retrying`, { attempt, err });
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
  throw fail(
    `cannot ${what}: ${lastErr instanceof Error ? lastErr.message : String(lastErr)}`,
    lastErr,
  );
}
