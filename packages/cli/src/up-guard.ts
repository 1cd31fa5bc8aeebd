// The process policy of `natschat up` (and `natschat access`) for errors nobody expected:
//   - a rejected promise nobody handled: logged and counted, and the process keeps serving (each
//     request's handling is already inside error handling; this is the last net under a bug);
//   - an uncaught exception: the process state is unknown, so every part is stopped (the
//     nats-server processes included: `up` never leaves a server behind) and the process exits 1,
//     for a supervisor or the user to start it again.
// A part that dies on its own (the access service whose connection closed for good, a server
// that exited) is handled by its owner through `fatal` the same way.

/** What the guard reports, and how it stops everything. */
export interface GuardOptions {
  log: (line: string) => void;
  /** Stops every part; called once, on the first fatal event. */
  stopAll: () => Promise<void>;
  /** Exits the process (process.exit by default; tests pass their own). */
  exit?: (code: number) => void;
}

export interface ProcessGuard {
  /** Unhandled rejections so far. */
  readonly unhandled: number;
  /** Stops everything and exits 1, saying why (once). */
  fatal(why: string): Promise<void>;
  /** Removes the handlers (on a clean stop). */
  uninstall(): void;
}

/** Installs the handlers on `process`. */
export function guardProcess(opts: GuardOptions): ProcessGuard {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let unhandled = 0;
  let stopping: Promise<void> | undefined;
  const fatal = (why: string) => {
    stopping ??= (async () => {
      opts.log(`${why}; stopping every part`);
      try {
        await opts.stopAll();
      } catch (err) {
        opts.log(`stopping failed: ${(err as Error).message}`);
      }
      exit(1);
    })();
    return stopping;
  };
  const onRejection = (err: unknown) => {
    unhandled++;
    opts.log(`unexpected error (counted: ${unhandled}; still serving): ${describe(err)}`);
  };
  const onException = (err: Error) => {
    void fatal(`uncaught exception: ${describe(err)}`);
  };
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return {
    get unhandled() {
      return unhandled;
    },
    fatal,
    uninstall() {
      process.off("unhandledRejection", onRejection);
      process.off("uncaughtException", onException);
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
