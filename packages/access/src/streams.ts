// @deprecated shim: the history service owns the CHAT history stores now (packages/history).
// Kept so code that still imports it from here compiles until it moves; remove after the merge.
// The import is dynamic so that access (whose logger history uses) has no static cycle.
import type { NatsConnection } from "@nats-io/nats-core";

/** @deprecated use ensureHistoryStores from @natschat/history (the access service no longer creates streams). */
export async function ensureChatStreams(
  nc: NatsConnection,
  limits: { replicas?: number; perSubject?: number; maxAgeDays?: number } = {},
): Promise<void> {
  const { ensureHistoryStores } = await import("@natschat/history");
  await ensureHistoryStores(nc, { replicas: limits.replicas ?? 1 });
}
