// The CHAT account's JetStream budget, in one place: the size of each store the history service
// keeps (streams, the quota, message-state and read-state buckets), and the account limits derived from them × the most
// replicas any topology uses + headroom. The history service builds its stream configs from the
// same figures, so the account limit can never again fall below what a restart re-creates
// (1 GiB was below R3 × 2 × 256 MiB, and `up --topology cluster` failed on its own data dir).
// The services check their stores against the limits the servers hold (accountStores, and
// jetstream-budget.ts) before they create any.
import type { OperatorLimits } from "@nats-io/jwt";
import type { StoreReservation } from "./jetstream-budget.ts";
import {
  DMS_STREAM,
  ONLINE_BUCKET,
  POSTS_STREAM,
  QUOTA_BUCKET,
  READ_BUCKET,
  REGISTRY_BUCKET,
  STATE_BUCKET,
} from "./permissions.ts";

const MiB = 1024 * 1024;

/** The most JetStream replicas any natschat topology uses (R3 in a cluster's hub). */
export const MAX_REPLICAS = 3;

/** One store of the CHAT account and its size. */
export interface StoreBudget {
  /** Stream name (a KV bucket's stream is KV_<bucket>). */
  stream: string;
  /** max_bytes of the stream. */
  maxBytes: number;
  /** Largest stored message, bytes (payload plus headers). */
  maxMsgSize: number;
}

/** A history stream: a store budget plus its retention. */
export interface HistoryStreamBudget extends StoreBudget {
  /** Messages kept per (conversation, sender) subject; a sender evicts only its own. */
  perSubject: number;
  maxAgeDays: number;
}

/** The history streams: channel posts and DMs. */
export const HISTORY_STREAMS: { posts: HistoryStreamBudget; dms: HistoryStreamBudget } = {
  posts: {
    stream: POSTS_STREAM,
    maxBytes: 256 * MiB,
    maxMsgSize: 16_384 + 1024,
    perSubject: 1000,
    maxAgeDays: 30,
  },
  dms: {
    stream: DMS_STREAM,
    maxBytes: 256 * MiB,
    maxMsgSize: 16_384 + 1024,
    perSubject: 1000,
    maxAgeDays: 30,
  },
};

/** The per-sender daily byte quota bucket (KV) of the history writer. */
export const QUOTA_STORE: StoreBudget & { ttlSeconds: number } = {
  stream: `KV_${QUOTA_BUCKET}`,
  maxBytes: 16 * MiB,
  maxMsgSize: 1024,
  // a day's counter is needed for the day only; two days cover clock skew at midnight
  ttlSeconds: 2 * 24 * 3600,
};

/**
 * The message-state bucket (issue 13): one value per message that has a state (an edit, a
 * deletion, reactions, replies), history 1. A state is at most one edit token and 500 reactions
 * (< 64 KiB, UPDATE_MAX_BYTES); most are a few hundred bytes, so 64 MiB holds the state of
 * far more messages than the two 256 MiB streams keep for long.
 */
export const STATE_STORE: StoreBudget & { history: number } = {
  stream: `KV_${STATE_BUCKET}`,
  maxBytes: 64 * MiB,
  maxMsgSize: 64 * 1024,
  history: 1,
};

/**
 * The read-state bucket (issue 13): one value per user (read positions per conversation and the
 * muted ones), history 1.
 */
export const READ_STORE: StoreBudget & { history: number } = {
  stream: `KV_${READ_BUCKET}`,
  maxBytes: 16 * MiB,
  // ~70 bytes per conversation (`@<peer key>` and a sequence): room for several hundred
  maxMsgSize: 64 * 1024,
  history: 1,
};

/** The ADMIN account's store: the user registry bucket. */
export const REGISTRY_STORE: StoreBudget = {
  stream: `KV_${REGISTRY_BUCKET}`,
  maxBytes: 64 * MiB,
  maxMsgSize: 64 * 1024,
};

/**
 * The ADMIN account's other store: the online set (issue 12). One small value per user online
 * (~100 bytes), history 1: 10,000 users hold about 1 MiB; 16 MiB leaves room for the delete
 * markers of a day's leaves.
 */
export const ONLINE_STORE: StoreBudget = {
  stream: `KV_${ONLINE_BUCKET}`,
  maxBytes: 16 * MiB,
  maxMsgSize: 1024,
};

/**
 * Headroom over the sum of the stores: in CHAT one more stream's worth (a migration or a
 * spare); in ADMIN a third of the registry's R3 size (with the online set's 16 MiB × R3, ADMIN
 * holds 304 MiB, which the access service's registry guard reports against).
 */
const HEADROOM_BYTES = { CHAT: 256 * MiB, ADMIN: 64 * MiB } as const;

/** Consumers the services may hold in CHAT: ordered index and reader consumers per replica. */
const CHAT_CONSUMERS = 128;

function storeSum(stores: StoreBudget[]): number {
  return stores.reduce((n, s) => n + s.maxBytes, 0);
}

const STORES = {
  CHAT: [HISTORY_STREAMS.posts, HISTORY_STREAMS.dms, QUOTA_STORE, STATE_STORE, READ_STORE],
  ADMIN: [REGISTRY_STORE, ONLINE_STORE],
} as const;

/**
 * What an account's stores reserve at `replicas`, as the services create them. The registry
 * bucket has no max_bytes of its own (it reserves nothing): the access service's quota guard
 * keeps it within ADMIN's limit, which its budget sizes.
 */
export function accountStores(account: "ADMIN" | "CHAT", replicas: number): StoreReservation[] {
  return STORES[account].map((s) => ({
    stream: s.stream,
    maxBytes: s === REGISTRY_STORE ? -1 : s.maxBytes,
    replicas,
  }));
}

/** The JetStream part of an account's limits (every value bounded; nothing is -1 but stream sizes, which each stream sets itself). */
export function jetStreamLimits(account: "ADMIN" | "CHAT"): Partial<OperatorLimits> {
  const stores = [...STORES[account]];
  return {
    disk_storage: storeSum(stores) * MAX_REPLICAS + HEADROOM_BYTES[account],
    // nothing of ours is memory-stored; a little for ephemeral needs, never unlimited
    mem_storage: 64 * MiB,
    streams: stores.length + 2,
    consumer: account === "CHAT" ? CHAT_CONSUMERS : 64,
    max_ack_pending: -1,
    mem_max_stream_bytes: -1,
    disk_max_stream_bytes: -1,
    max_bytes_required: false,
  };
}
