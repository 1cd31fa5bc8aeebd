// A service's start and stop: start-up steps that may fail for a moment (JetStream may still be
// electing a leader, or a server's account limits may not be applied yet) are retried; shutdown
// steps are bounded, since while the server is gone a drain cannot finish and SIGTERM must still
// stop the process. Shared by every service.
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

/**
 * Waits for a shutdown step, at most ms; true when it finished in time. Its failure is ignored:
 * we are stopping anyway.
 */
export async function bounded(step: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finished = await Promise.race([
    step.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return finished;
}
