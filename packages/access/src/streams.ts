// The CHAT account's history streams: channel posts and DMs, with limits. Created (or updated)
// by the access service, the only component with authority in CHAT; chat users only read them.
import { jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { DMS_PREFIX, POSTS_PREFIX } from "@natschat/protocol";
import { DMS_STREAM, POSTS_STREAM } from "@natschat/trust";

export interface HistoryLimits {
  /** messages kept per channel and per DM inbox. */
  perSubject: number;
  maxAgeDays: number;
  replicas: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = {
  perSubject: 1000,
  maxAgeDays: 30,
  replicas: 1,
};

function config(
  name: string,
  subject: string,
  limits: HistoryLimits,
): Partial<StreamConfig> & { name: string } {
  return {
    name,
    subjects: [subject],
    max_msgs_per_subject: limits.perSubject,
    max_age: limits.maxAgeDays * 24 * 3600 * 1_000_000_000,
    max_bytes: 256 * 1024 * 1024,
    max_msg_size: 16 * 1024,
    num_replicas: limits.replicas,
    deny_delete: true,
    deny_purge: true,
    allow_direct: false,
  };
}

/** Creates the posts and DMs streams, or updates their limits when they exist. */
export async function ensureChatStreams(
  nc: NatsConnection,
  limits: HistoryLimits = DEFAULT_HISTORY_LIMITS,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const cfg of [
    config(POSTS_STREAM, `${POSTS_PREFIX}.*`, limits),
    config(DMS_STREAM, `${DMS_PREFIX}.*`, limits),
  ]) {
    const exists = await jsm.streams.info(cfg.name).then(
      () => true,
      () => false,
    );
    if (exists) await jsm.streams.update(cfg.name, cfg);
    else await jsm.streams.add(cfg);
  }
}
