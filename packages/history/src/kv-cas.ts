// What a compare-and-set on a KV key (kv.update with the read revision, kv.create for a new key)
// answers when another writer got there first: the stream's expected-last-subject-sequence check
// failed. The quota ledger and the message states both retry on it.
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";

/** Another writer changed the key since it was read. */
export function isCasConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
