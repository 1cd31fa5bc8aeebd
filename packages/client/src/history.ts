// Reads the last N messages of one subject from a JetStream stream, oldest first, with the
// JetStream API subjects a chat user may use: STREAM.INFO, CONSUMER.CREATE with the filter in
// the subject, MSG.NEXT and CONSUMER.DELETE. JetStream has no "last N per subject" policy, so:
//   1. a headers-only ordered consumer on the subject says how many messages it holds (C) and,
//      when C > N, where the (C-N+1)th one sits, by reading C-N bodiless messages;
//   2. a second ordered consumer reads the bodies from that sequence to the end.
// Both consumers are ephemeral (random names, in memory) and are deleted when done.
import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JsMsg,
} from "@nats-io/jetstream";
import { JetStreamStatusError, jserrors } from "@nats-io/jetstream/internal";
import { errors } from "@nats-io/nats-core";

/** One stored message. */
export interface StoredMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** Options of readLastN. */
export interface ReadLastOptions {
  /** How long one pull may wait for messages that the consumer reported, ms (default 5000). */
  fetchTimeoutMs?: number;
  /** Largest pull batch (default 256). */
  batch?: number;
}

type OrderedConsumer = Awaited<ReturnType<JetStreamClient["consumers"]["get"]>>;

async function pendingOf(consumer: OrderedConsumer): Promise<number> {
  return (await consumer.info(true)).num_pending;
}

/** Pulls up to `count` messages, calling `each` in stream order; stops early at the stream's end. */
async function pull(
  consumer: OrderedConsumer,
  count: number,
  opts: Required<ReadLastOptions>,
  each: (m: JsMsg) => void,
): Promise<void> {
  let left = count;
  while (left > 0) {
    const batch = Math.min(left, opts.batch);
    const iter = await consumer.fetch({ max_messages: batch, expires: opts.fetchTimeoutMs });
    let got = 0;
    let atEnd = false;
    for await (const m of iter) {
      got++;
      left--;
      each(m);
      if (m.info.pending === 0) atEnd = true;
    }
    if (got === 0 || atEnd) return;
  }
}

function drop(consumer: OrderedConsumer): void {
  // The consumer is ephemeral and expires on its own (inactive_threshold); deleting it only
  // frees the server sooner, so a failure here changes nothing for the caller.
  consumer.delete().catch(() => undefined);
}

/**
 * Whether a JetStream read met an error that goes away by itself, judged by its class (and the
 * classes of its causes): a consumer's pull subject not yet propagated over a route (no
 * responders), a server (re)applying the account's JetStream limits after an account update
 * (JetStream not enabled for the account; nats.js also reports no responders to a JetStream API
 * request that way), a leader election (503) or a slow answer (timeouts, 408).
 */
export function isTransient(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof errors.NoRespondersError || e instanceof errors.TimeoutError) return true;
    if (e instanceof errors.RequestError && e.isNoResponders()) return true;
    if (e instanceof jserrors.JetStreamNotEnabled) return true;
    if (e instanceof JetStreamStatusError) return e.code === 408 || e.code === 503;
    if (e instanceof JetStreamApiError) {
      return e.code === JetStreamApiCodes.JetStreamNotEnabledForAccount || e.status === 503;
    }
  }
  return false;
}

/** readLastN, retried with backoff (about 6 s in all) while the error is a transient one. */
export async function readLastNRetrying(
  js: JetStreamClient,
  stream: string,
  subject: string,
  n: number,
  options: ReadLastOptions = {},
): Promise<StoredMessage[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await readLastN(js, stream, subject, n, options);
    } catch (err) {
      if (attempt >= 5 || !isTransient(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2000, 200 * 2 ** attempt)));
    }
  }
}

/** The last `n` messages on `subject` in `stream`, oldest first. */
export async function readLastN(
  js: JetStreamClient,
  stream: string,
  subject: string,
  n: number,
  options: ReadLastOptions = {},
): Promise<StoredMessage[]> {
  const opts = { fetchTimeoutMs: options.fetchTimeoutMs ?? 5000, batch: options.batch ?? 256 };
  if (n <= 0) return [];
  const scan = await js.consumers.get(stream, {
    filter_subjects: subject,
    headers_only: true,
    deliver_policy: DeliverPolicy.All,
  });
  let startSeq = 1;
  try {
    const total = await pendingOf(scan);
    if (total === 0) return [];
    const skip = total - n;
    if (skip > 0) {
      let last = 0;
      await pull(scan, skip, opts, (m) => {
        last = m.seq;
      });
      startSeq = last + 1;
    }
  } finally {
    drop(scan);
  }
  const read = await js.consumers.get(stream, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: startSeq,
  });
  const out: StoredMessage[] = [];
  try {
    const available = await pendingOf(read);
    await pull(read, available, opts, (m) => {
      out.push({ seq: m.seq, subject: m.subject, data: m.data });
    });
  } finally {
    drop(read);
  }
  return out;
}
