// Runs the terminal chat until the user quits (Ctrl-C, SIGINT, SIGTERM) or the session ends on
// its own (revoked, expired, closed). The screen is drawn first, in state "connecting", and the
// session is started under it, so the user sees at once what is going on. Returns the process
// exit code: 0 when the user quit, 1 when the session was ended for them (reason on stderr).
// A session that cannot start (server down, creds refused) rejects with its ChatError.
import type { ChatSession } from "@natschat/client";
import { render } from "ink";
import { ChatApp } from "./app.tsx";

/** Options of runChat. */
export interface RunChatOptions {
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/** Shows the chat for `session` (not started yet) and starts it; resolves with the exit code. */
export async function runChat(session: ChatSession, opts: RunChatOptions = {}): Promise<number> {
  const stderr = opts.stderr ?? process.stderr;
  const stdout = opts.stdout ?? process.stdout;
  let quit!: () => void;
  const quitting = new Promise<"quit">((resolve) => {
    quit = () => resolve("quit");
  });
  const app = render(<ChatApp model={session} onQuit={quit} />, {
    exitOnCtrlC: false,
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
    ...(opts.stdout ? { stdout: opts.stdout } : {}),
    stderr,
    patchConsole: true,
  });
  const onSignal = () => quit();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const started = session.start();
    const first = await Promise.race([quitting, started.then(() => "started" as const)]).catch(
      async (err: unknown) => {
        // it never got going: the error (printed by the caller) goes below the last screen
        app.unmount();
        await app.waitUntilExit();
        stdout.write("\n");
        throw err;
      },
    );
    // quit while still connecting: stop() makes the pending start give up (CHAT_STOPPED)
    if (first === "quit") started.catch(() => undefined);
    const outcome = first === "quit" ? first : await Promise.race([quitting, session.closed()]);
    if (outcome === "quit") {
      await session.stop();
      app.unmount();
      await app.waitUntilExit();
      stdout.write("\n");
      return 0;
    }
    // The session ended on its own: leave the last screen (with its red status) in place.
    app.unmount();
    await app.waitUntilExit();
    stdout.write("\n");
    stderr.write(`natschat chat: ${outcome.state}: ${outcome.reason ?? "the session ended"}\n`);
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
