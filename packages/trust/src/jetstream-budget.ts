// Checks that a service's stores fit its account's JetStream limits before it creates or updates
// any of them, as the server will count them: every stream with a max_bytes reserves
// max_bytes × replicas of the account's file storage (the stream being updated is counted with
// its new config, not twice), and each stream counts against the stream limit. Without this, a
// store that does not fit fails half-way with the server's "insufficient storage resources
// available", after the ones before it were made; with it, nothing is made and the error says
// what each store reserves and what to do.
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { TrustError } from "./errors.ts";

/** One stream and what it reserves: max_bytes × replicas (nothing when max_bytes ≤ 0). */
export interface StoreReservation {
  stream: string;
  /** max_bytes of the stream; -1 (unbounded, only the account limit applies) reserves nothing. */
  maxBytes: number;
  replicas: number;
}

/** An account's JetStream storage limits and the streams it holds now. */
export interface AccountStorage {
  account: string;
  /** File storage limit, bytes; -1 for unlimited. */
  limitBytes: number;
  /** Most streams; -1 for unlimited. */
  maxStreams: number;
  streams: StoreReservation[];
}

/** Bytes reserved by a stream. */
export function reservedBytes(s: StoreReservation): number {
  return s.maxBytes > 0 ? s.maxBytes * Math.max(1, s.replicas) : 0;
}

/** 256 MiB, 1.8 GiB: sizes as the budget writes them. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

const describeStore = (s: StoreReservation) =>
  s.maxBytes > 0 ? `${s.stream} ${formatBytes(s.maxBytes)} × R${s.replicas}` : `${s.stream}`;

/**
 * Why `wanted` does not fit the account once made (or updated to these configs), or undefined
 * when it fits. Streams of the account that are not in `wanted` keep what they reserve.
 */
export function budgetShortfall(
  account: AccountStorage,
  wanted: StoreReservation[],
): string | undefined {
  const names = new Set(wanted.map((s) => s.stream));
  const others = account.streams.filter((s) => !names.has(s.stream));
  const fix =
    "the account JWT the servers hold is older than this version: run `natschat init` (it keeps every key) " +
    "and `natschat push`, or start `natschat up` again, which does both";
  if (account.limitBytes >= 0) {
    const kept = others.reduce((n, s) => n + reservedBytes(s), 0);
    const need = wanted.reduce((n, s) => n + reservedBytes(s), 0);
    if (kept + need > account.limitBytes) {
      const held = others.filter((s) => reservedBytes(s) > 0);
      return (
        `the ${account.account} account's JetStream storage limit is ${formatBytes(account.limitBytes)}, ` +
        `but its stores would reserve ${formatBytes(kept + need)}: ${wanted
          .filter((s) => s.maxBytes > 0)
          .map(describeStore)
          .join(", ")}` +
        (held.length ? `, and other streams ${held.map(describeStore).join(", ")}` : "") +
        `; ${fix}`
      );
    }
  }
  if (account.maxStreams >= 0 && others.length + wanted.length > account.maxStreams) {
    return (
      `the ${account.account} account may hold ${account.maxStreams} streams, but ${others.length + wanted.length} ` +
      `are needed: ${[...others, ...wanted].map((s) => s.stream).join(", ")}; ${fix}`
    );
  }
  return undefined;
}

/** Reads the account's limits and streams over a connection of that account. */
export async function accountStorage(
  jsm: JetStreamManager,
  account: string,
): Promise<AccountStorage> {
  const info = await jsm.getAccountInfo();
  const streams: StoreReservation[] = [];
  for await (const si of jsm.streams.list()) {
    streams.push({
      stream: si.config.name,
      maxBytes: si.config.max_bytes ?? -1,
      replicas: si.config.num_replicas ?? 1,
    });
  }
  return {
    account,
    limitBytes: info.limits?.max_storage ?? -1,
    maxStreams: info.limits?.max_streams ?? -1,
    streams,
  };
}

/**
 * Throws TrustError JETSTREAM_BUDGET when `wanted` does not fit the account `nc` is in; call it
 * before creating or updating any of them.
 */
export async function assertStoresFit(
  nc: NatsConnection,
  account: string,
  wanted: StoreReservation[],
): Promise<void> {
  const problem = budgetShortfall(
    await accountStorage(await jetstreamManager(nc), account),
    wanted,
  );
  if (problem) throw new TrustError("JETSTREAM_BUDGET", problem);
}
