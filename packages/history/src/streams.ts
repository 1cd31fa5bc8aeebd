// The history stores of the CHAT account, owned by the history service: CHAT_POSTS and CHAT_DMS
// on the stored subjects (chat.store.…, written only by the service), the per-sender quota
// bucket, the message-state bucket (natschat-state) and the read-state bucket (natschat-read,
// issue 13). Their sizes come from trust's jetstream-limits.ts, the one place the account limits
// are derived from, so a restart never asks for more than the account may hold.
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { STORE_DMS_PREFIX, STORE_POSTS_PREFIX } from "@natschat/protocol";
import {
  accountStores,
  assertStoresFit,
  HISTORY_STREAMS,
  type HistoryStreamBudget,
  QUOTA_BUCKET,
  QUOTA_STORE,
  READ_BUCKET,
  READ_STORE,
  STATE_BUCKET,
  STATE_STORE,
} from "@natschat/trust";
import { HistoryServiceError } from "./errors.ts";

/** How long a message id is remembered: a replay within it is stored once, an older one is STALE. */
export const DEDUPE_WINDOW_SECONDS = 15 * 60;

const NANOS = 1_000_000_000;

/** Options of the stores. */
export interface StoreOptions {
  /** JetStream replicas (1, or 3 in a cluster's hub). */
  replicas: number;
  /** Override the dedupe/stale window (tests). */
  dedupeWindowSeconds?: number;
}

/** The stream config of a history stream: bound per (conversation, sender), never evicting others. */
export function historyStreamConfig(
  budget: HistoryStreamBudget,
  subjects: string,
  opts: StoreOptions,
): Partial<StreamConfig> & { name: string } {
  return {
    name: budget.stream,
    subjects: [subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    // Per subject (one conversation × one sender) the oldest go first, so a sender evicts only
    // its own messages; for the stream totals a new message is refused instead (discard new), so
    // a full stream evicts nothing of anyone's. Only max_age ages messages out.
    max_msgs_per_subject: budget.perSubject,
    discard: DiscardPolicy.New,
    discard_new_per_subject: false,
    max_bytes: budget.maxBytes,
    max_msgs: -1,
    max_age: budget.maxAgeDays * 24 * 3600 * NANOS,
    max_msg_size: budget.maxMsgSize,
    num_replicas: opts.replicas,
    duplicate_window: (opts.dedupeWindowSeconds ?? DEDUPE_WINDOW_SECONDS) * NANOS,
    deny_delete: true,
    deny_purge: true,
    allow_rollup_hdrs: false,
    // pages are read by sequence from any replica (only the service may: users have no $JS)
    allow_direct: true,
  };
}

/** Both history stream configs. */
export function historyStreamConfigs(opts: StoreOptions) {
  return [
    historyStreamConfig(HISTORY_STREAMS.posts, `${STORE_POSTS_PREFIX}.*.*`, opts),
    historyStreamConfig(HISTORY_STREAMS.dms, `${STORE_DMS_PREFIX}.*.*`, opts),
  ];
}

async function ensureStream(
  jsm: JetStreamManager,
  cfg: Partial<StreamConfig> & { name: string },
): Promise<void> {
  const info = await jsm.streams.info(cfg.name).catch((err: unknown) => {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)
      return undefined;
    throw err;
  });
  if (!info) {
    await jsm.streams.add(cfg);
    return;
  }
  // num_replicas cannot always change in place (and R1 → R3 needs the cluster); the rest can.
  try {
    await jsm.streams.update(cfg.name, { ...info.config, ...cfg });
  } catch (err) {
    throw new HistoryServiceError(
      "STREAM_CONFLICT",
      `cannot update stream ${cfg.name} to the history config: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Creates the history streams, the quota, message-state and read-state buckets, or updates them to this version's config
 * (a protocol v2 stream moves to the stored subjects; its old messages stay, unread). First
 * checks that all of them fit the CHAT account's limits (TrustError JETSTREAM_BUDGET if not),
 * so nothing is made when one would not fit.
 */
export async function ensureHistoryStores(nc: NatsConnection, opts: StoreOptions): Promise<void> {
  await assertStoresFit(nc, "CHAT", accountStores("CHAT", opts.replicas));
  const jsm = await jetstreamManager(nc);
  for (const cfg of historyStreamConfigs(opts)) await ensureStream(jsm, cfg);
  await new Kvm(nc).create(QUOTA_BUCKET, {
    history: 1,
    replicas: opts.replicas,
    ttl: QUOTA_STORE.ttlSeconds * 1000,
    max_bytes: QUOTA_STORE.maxBytes,
    maxValueSize: QUOTA_STORE.maxMsgSize,
    storage: StorageType.File,
  });
  // each user's read positions and mutes (read-state.ts)
  await new Kvm(nc).create(READ_BUCKET, {
    history: READ_STORE.history,
    replicas: opts.replicas,
    max_bytes: READ_STORE.maxBytes,
    maxValueSize: READ_STORE.maxMsgSize,
    storage: StorageType.File,
  });
  await new Kvm(nc).create(STATE_BUCKET, {
    history: STATE_STORE.history,
    replicas: opts.replicas,
    // a state is written after its message was stored, so one not written for as long as the
    // streams keep messages belongs to a message that aged out: it may go too
    ttl: HISTORY_STREAMS.posts.maxAgeDays * 24 * 3600 * 1000,
    max_bytes: STATE_STORE.maxBytes,
    maxValueSize: STATE_STORE.maxMsgSize,
    storage: StorageType.File,
  });
}
