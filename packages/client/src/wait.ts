// Waiting for a session to reach a state: resolves with the first snapshot that satisfies the
// predicate, or rejects after a deadline with a message naming what was awaited (no sleeps).
import { ChatError } from "./errors.ts";
import type { ChatSession } from "./session.ts";
import type { ChatSnapshot } from "./store.ts";

/** Resolves with the first snapshot for which `pred` is true; rejects after `timeoutMs`. */
export function waitForSnapshot(
  session: ChatSession,
  pred: (s: ChatSnapshot) => boolean,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<ChatSnapshot> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const s = session.snapshot();
      if (!pred(s)) return false;
      off();
      clearTimeout(timer);
      resolve(s);
      return true;
    };
    const off = session.onChange(() => void check());
    const timer = setTimeout(() => {
      off();
      const s = session.snapshot();
      reject(
        new ChatError(
          "CHAT_TIMEOUT",
          `timed out after ${timeoutMs} ms waiting for ${opts.what ?? "a session change"} (state ${s.state})`,
        ),
      );
    }, timeoutMs);
    check();
  });
}
