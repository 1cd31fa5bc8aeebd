// Moves the history a protocol v2 release stored into the v3 layout, once per stream. In v2,
// clients published straight into the streams (chat.KUBECON.posts.<channel>,
// chat.KUBECON.dms.<recipient>), so the server proved nothing about a stored message's sender:
// anyone could store anything there. A v2 message is therefore copied to its stored v3 subject
// (chat.store.posts.<channel>.<signer>, chat.store.dms.<recipient>.<signer>) only when
//   - it is a well-formed post or DM envelope whose signature verifies,
//   - it was stored on the subject its signed channel or recipient names, and
//   - the caller trusts its signer at its signing time (the upgrade: a key the registry issued a
//     name to, and not after that key was revoked).
// Everything else stays where it was, never served, and is counted by reason. The copies keep
// the v2 order and carry Nats-Msg-Id `<signer>.<jti>`, as the writer's do; the stream's config
// metadata records that the stream was migrated, so a restart never copies twice.
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import {
  DM_TYPE,
  DMS_PREFIX,
  EnvelopeVerifier,
  MSG_ID_HEADER,
  POST_TYPE,
  POSTS_PREFIX,
  parseChatSubject,
  storeDmSubject,
  storePostSubject,
} from "@natschat/protocol";
import { DMS_STREAM, POSTS_STREAM } from "@natschat/trust";

/** The stream metadata key that marks a stream as migrated (its value: when, and the counts). */
export const V2_MIGRATED_METADATA = "natschat_v2_migrated";

/** Whether a key's message signed at `iat` (s) may be trusted. */
export type TrustedSigner = (key: string, iat: number) => boolean;

/** What the migration did to one stream. */
export interface V2MigrationReport {
  stream: string;
  /** True when the stream was marked migrated before: nothing was read. */
  already: boolean;
  /** v2 messages found. */
  found: number;
  /** Copied to their v3 subjects (a copy already there counts as copied). */
  copied: number;
  /** Left unserved, by reason (bad-signature, wrong-subject, untrusted-signer, …). */
  skipped: Record<string, number>;
}

/** A v2 message's subject: the channel of a post, or the recipient of a DM. */
function v2Target(stream: string, subject: string): string | undefined {
  const prefix = `${stream === POSTS_STREAM ? POSTS_PREFIX : DMS_PREFIX}.`;
  if (!subject.startsWith(prefix)) return undefined;
  const rest = subject.slice(prefix.length);
  return rest.length > 0 && !rest.includes(".") ? rest : undefined;
}

async function migrateStream(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  trusted: TrustedSigner,
): Promise<V2MigrationReport> {
  const report: V2MigrationReport = { stream, already: false, found: 0, copied: 0, skipped: {} };
  const skip = (reason: string) => {
    report.skipped[reason] = (report.skipped[reason] ?? 0) + 1;
  };
  const info = await jsm.streams.info(stream);
  if (info.config.metadata?.[V2_MIGRATED_METADATA]) return { ...report, already: true };
  const last = info.state.last_seq;
  // One pass in stream order: the v2 messages to copy, and the ids already copied (a migration
  // that stopped half way left some).
  const copies: { subject: string; data: Uint8Array; id: string }[] = [];
  const stored = new Set<string>();
  const verifier = new EnvelopeVerifier({ maxReplayEntries: 0 });
  if (info.state.messages > 0) {
    const consumer = await js.consumers.get(stream);
    const messages = await consumer.consume({ max_messages: 500 });
    for await (const m of messages) {
      if (parseChatSubject(m.subject, { stored: true })) {
        const id = m.headers?.get(MSG_ID_HEADER);
        if (id) stored.add(id);
      } else {
        report.found++;
        const target = v2Target(stream, m.subject);
        const v = await verifier.verify(m.data);
        if (target === undefined) skip("wrong-subject");
        else if (!v.ok) skip(v.reason);
        else {
          const e = v.envelope;
          const subject =
            e.type === POST_TYPE && e.channel === target
              ? storePostSubject(e.channel, e.iss)
              : e.type === DM_TYPE && e.to === target
                ? storeDmSubject(e.to, e.iss)
                : undefined;
          if (subject === undefined) skip("wrong-subject");
          else if (!trusted(e.iss, e.iat)) skip("untrusted-signer");
          else {
            copies.push({ subject, data: m.data, id: `${e.iss}.${e.jti}` });
          }
        }
      }
      if (m.seq >= last) break;
    }
    messages.stop();
  }
  const copied = new Set<string>();
  for (const c of copies) {
    if (copied.has(c.id)) {
      skip("replay"); // the same signed message stored twice in v2: one copy
      continue;
    }
    copied.add(c.id);
    if (!stored.has(c.id)) {
      const h = headers();
      h.set(MSG_ID_HEADER, c.id);
      await js.publish(c.subject, c.data, { headers: h, timeout: 10_000 });
    }
    report.copied++;
  }
  const fresh = await jsm.streams.info(stream);
  await jsm.streams.update(stream, {
    ...fresh.config,
    metadata: {
      ...fresh.config.metadata,
      [V2_MIGRATED_METADATA]: JSON.stringify({
        at: new Date().toISOString(),
        found: report.found,
        copied: report.copied,
      }),
    },
  });
  return report;
}

/** The v2 live subjects a stream may still hold messages under. */
const V2_SUBJECTS = "chat.KUBECON.>";

/**
 * Whether a history stream still holds v2 messages that were never migrated (so the caller must
 * look up their signers, and the writer should not store before them). The stream's subject
 * state answers it without reading a message.
 */
export async function v2MigrationPending(nc: NatsConnection): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  for (const stream of [POSTS_STREAM, DMS_STREAM]) {
    const info = await jsm.streams.info(stream, { subjects_filter: V2_SUBJECTS }).catch((err) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)
        return undefined; // a new deployment: nothing of v2
      throw err;
    });
    if (!info || info.config.metadata?.[V2_MIGRATED_METADATA]) continue;
    if (Object.keys(info.state.subjects ?? {}).length > 0) return true;
  }
  return false;
}

/**
 * Copies the trusted v2 messages of both history streams into the v3 layout. Run it after
 * ensureHistoryStores (the streams take the stored subjects) and before the writer stores new
 * messages, so the copies come first in stream order. `nc` needs JetStream in CHAT (the history
 * role).
 */
export async function migrateV2History(
  nc: NatsConnection,
  trusted: TrustedSigner,
): Promise<V2MigrationReport[]> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const reports: V2MigrationReport[] = [];
  for (const stream of [POSTS_STREAM, DMS_STREAM])
    reports.push(await migrateStream(js, jsm, stream, trusted));
  return reports;
}
