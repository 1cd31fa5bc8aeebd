// CLI errors: a usage error (exit 2), a start-up step that kept failing, a data dir without a
// deployment, and the reporting of any coded error without a stack trace.
export class UsageError extends Error {
  override name = "UsageError";
  readonly code = "USAGE";
}

/** A start-up step against the servers failed after its retries (e.g. JetStream not ready). */
export class StartupError extends Error {
  override name = "StartupError";
  readonly code = "STARTUP_FAILED";
}

/** The data dir holds no deployment (no trust.json): a mistyped --dir, most likely. */
export class NoDeploymentError extends Error {
  override name = "NoDeploymentError";
  readonly code = "NO_DEPLOYMENT";
  constructor(dir: string) {
    // no advice to `init` here: at a mistyped path that would make a second, empty deployment
    super(
      `${dir} has no natschat deployment (no trust.json there); check --dir or $NATSCHAT_DIR ` +
        `(default ./.natschat). To make a new one there on purpose: natschat up --dir ${dir}`,
    );
  }
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
