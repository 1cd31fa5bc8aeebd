// CLI errors: a usage error (exit 2) and the reporting of any coded error without a stack trace.
export class UsageError extends Error {
  override name = "UsageError";
  readonly code = "USAGE";
}

/** Turns any thrown value into one line for the user; stacks only with NATSCHAT_DEBUG=1. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const prefix = typeof code === "string" && code !== "USAGE" ? `[${code}] ` : "";
    return `${prefix}${err.message}${process.env.NATSCHAT_DEBUG ? `\n${err.stack}` : ""}`;
  }
  return String(err);
}
