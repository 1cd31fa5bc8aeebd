// Waiting for events with deadlines that fail loudly: a promise raced against a timer, and a
// condition checked until it holds. The error names what was awaited and, for conditions, the
// last state seen, so a hang becomes a readable failure instead of a test timeout.

/** Resolves with `promise`, or rejects after `timeoutMs` naming `what`. */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks `check` until it returns true (or a truthy value, which is returned), at most every
 * `everyMs`; rejects after `timeoutMs` with `what` and the last `describe()` if given.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  opts: { timeoutMs?: number; everyMs?: number; describe?: () => string } = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const state = opts.describe ? `; last state: ${opts.describe()}` : "";
      const err = lastError instanceof Error ? `; last error: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${state}${err}`);
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 50));
  }
}
