// Test support: a history-service replica in this process on a test stack (the writer that
// stores live posts and DMs, and the chat.svc.history.* readers), stopped by the caller.
import {
  type HistoryService,
  type HistoryServiceOptions,
  resolveHistoryConfig,
  silentLoggerForTests,
  startHistoryService,
} from "@natschat/history";
import type { TestStack } from "./stack.ts";

/** Starts one replica on the stack's servers (R1 stores unless `replicas` says otherwise). */
export async function startTestHistory(
  stack: Pick<TestStack, "dir" | "urls" | "caFile">,
  overrides: Partial<HistoryServiceOptions> = {},
): Promise<HistoryService> {
  const opts = await resolveHistoryConfig(stack.dir, stack.urls, {
    replicas: 1,
    replicaId: "test",
    log: silentLoggerForTests,
    ...(stack.caFile ? { tlsCaFile: stack.caFile } : {}),
  });
  return startHistoryService({ ...opts, ...overrides });
}
