// The JetStream side of backup and restore: the registry bucket (ADMIN), the two history
// streams and the message-state bucket (CHAT), each as its config and its messages in stream
// order. nats.js has no stream
// snapshot API (the `nats` CLI's $JS.API.STREAM.SNAPSHOT/RESTORE chunk protocol is not in
// @nats-io/jetstream), so this is a logical backup with the library's ordered consumer and
// publish: it restores into any topology and replica count, and a restored message keeps its
// subject, headers (Nats-Msg-Id, KV-Operation) and body, and its order, not its sequence number
// or its store time. The per-sender quota bucket is left out: it only counts today's bytes.
// A message state is keyed by its message's stream sequence (`p.<seq>`, `d.<seq>`), which a
// restore does not keep: the backup saves each state with its message's id (header
// Natschat-State-Of), and the restore files it under the sequence that message got (MessageSeqs);
// a state whose message is not in the backup (aged out) is left out.
import {
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type PubAck,
} from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { MSG_ID_HEADER, parseChatSubject } from "@natschat/protocol";
import { DMS_STREAM, POSTS_STREAM, REGISTRY_BUCKET, STATE_BUCKET } from "@natschat/trust";
import { BackupError, type BackupLine } from "./backup-file.ts";

/** A stream in a backup, and the role that may read and write it. */
export interface BackedUpStream {
  name: string;
  account: "ADMIN" | "CHAT";
  role: "access" | "history";
  /** Whether a message belongs (the history streams may still hold unserved v2 messages). */
  keep: (subject: string) => boolean;
}

/** The message-state bucket's stream, and the prefix of its keys' subjects. */
const STATE_STREAM = `KV_${STATE_BUCKET}`;
const STATE_SUBJECT = `$KV.${STATE_BUCKET}.`;
/** The header a saved state carries: the id of its message. */
export const STATE_OF_HEADER = "Natschat-State-Of";

/** The state keys' letter of each history stream. */
const STORE_LETTER: Record<string, "p" | "d"> = { [POSTS_STREAM]: "p", [DMS_STREAM]: "d" };

// restored after the history streams: a state is filed under its message's new sequence
export const BACKED_UP_STREAMS: readonly BackedUpStream[] = [
  { name: `KV_${REGISTRY_BUCKET}`, account: "ADMIN", role: "access", keep: () => true },
  ...[POSTS_STREAM, DMS_STREAM].map((name) => ({
    name,
    account: "CHAT" as const,
    role: "history" as const,
    keep: (subject: string) => parseChatSubject(subject, { stored: true }) !== undefined,
  })),
  { name: STATE_STREAM, account: "CHAT", role: "history", keep: () => true },
];

/**
 * Which message each state belongs to: while backing up, the id of each history message by its
 * state key (`p.<seq>`); while restoring, the state key each id gets in the new stream. Bounded
 * by the streams' size (one entry per stored message).
 */
export class MessageSeqs {
  readonly #byKey = new Map<string, string>();
  readonly #byId = new Map<string, string>();

  /** Notes the message `id` at `seq` of `stream` (its old place when backing up, its new one on restore). */
  note(stream: string, seq: number, id: string | undefined): void {
    const letter = STORE_LETTER[stream];
    if (!letter || !id) return;
    this.#byKey.set(`${letter}.${seq}`, id);
    this.#byId.set(`${letter} ${id}`, `${letter}.${seq}`);
  }

  /** The id of the message a state key names. */
  idOf(key: string): string | undefined {
    return this.#byKey.get(key);
  }

  /** The state key of message `id` in the store of letter `letter`. */
  keyOf(letter: string, id: string): string | undefined {
    return this.#byId.get(`${letter} ${id}`);
  }
}

/** Headers that would make a restored publish conditional on the new stream's state. */
const DROPPED_HEADER = /^Nats-Expected-/i;

/** Writes one stream to the backup; returns the messages written and those left out. */
export async function dumpStream(
  nc: NatsConnection,
  s: BackedUpStream,
  put: (line: BackupLine) => Promise<void>,
  seqs: MessageSeqs,
): Promise<{ messages: number; leftOut: number }> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(s.name);
  await put({ kind: "stream", account: s.account, config: info.config });
  let messages = 0;
  let leftOut = 0;
  const last = info.state.last_seq;
  if (info.state.messages > 0) {
    const consumer = await jetstream(nc).consumers.get(s.name);
    const iter = await consumer.consume({ max_messages: 500 });
    for await (const m of iter) {
      // a state goes with its message's id; one whose message is not backed up stays out
      const stateOf =
        s.name === STATE_STREAM ? seqs.idOf(m.subject.slice(STATE_SUBJECT.length)) : "";
      if (s.keep(m.subject) && stateOf !== undefined) {
        seqs.note(s.name, m.seq, m.headers?.get(MSG_ID_HEADER));
        const h: [string, string][] = [];
        for (const k of m.headers?.keys() ?? [])
          for (const v of m.headers?.values(k) ?? []) h.push([k, v]);
        if (stateOf) h.push([STATE_OF_HEADER, stateOf]);
        await put({
          kind: "msg",
          subject: m.subject,
          ...(h.length ? { headers: h } : {}),
          data: Buffer.from(m.data).toString("base64"),
        });
        messages++;
      } else leftOut++;
      if (m.seq >= last) break;
    }
    iter.stop();
  }
  await put({ kind: "stream-end", name: s.name, messages });
  return { messages, leftOut };
}

/** Refuses a restore into a system whose registry or history already holds messages. */
export async function checkEmpty(nc: NatsConnection, name: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(name).catch(() => undefined);
  if (info && info.state.messages > 0) {
    throw new BackupError(
      "RESTORE_CONFLICT",
      `stream ${name} already holds ${info.state.messages} messages; restore goes into a fresh system: stop it, remove DIR/server, start \`natschat up\` again and restore before anyone joins`,
    );
  }
}

/** Restores one stream's messages into an empty stream of that name (made from the config). */
export class StreamLoader {
  readonly #js;
  readonly #jsm: JetStreamManager;
  readonly #name: string;
  readonly #seqs: MessageSeqs;
  /** Each publish in flight, with the message id it carries. */
  #pending: [string | undefined, Promise<PubAck>][] = [];
  loaded = 0;
  /** States left out: their message was not restored. */
  skipped = 0;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, name: string, seqs: MessageSeqs) {
    this.#js = jetstream(nc);
    this.#jsm = jsm;
    this.#name = name;
    this.#seqs = seqs;
  }

  /** Opens the target stream: created from the backup's config if missing, refused if not empty. */
  static async open(
    nc: NatsConnection,
    config: BackupLine & { kind: "stream" },
    seqs: MessageSeqs,
  ): Promise<StreamLoader> {
    const jsm = await jetstreamManager(nc);
    const name = config.config.name;
    await checkEmpty(nc, name);
    if (!(await jsm.streams.info(name).catch(() => undefined)))
      await jsm.streams.add(config.config);
    return new StreamLoader(nc, jsm, name, seqs);
  }

  /** Publishes one message; a window of acks stays in flight (one connection keeps the order). */
  async add(line: BackupLine & { kind: "msg" }): Promise<void> {
    let subject = line.subject;
    let id: string | undefined;
    const h = headers();
    for (const [k, v] of line.headers ?? []) {
      if (k === STATE_OF_HEADER) id = v;
      else if (!DROPPED_HEADER.test(k)) h.append(k, v);
    }
    if (this.#name === STATE_STREAM) {
      // file the state under the sequence its message has now
      const letter = subject.slice(STATE_SUBJECT.length, STATE_SUBJECT.length + 1);
      const key = id === undefined ? undefined : this.#seqs.keyOf(letter, id);
      if (key === undefined) {
        this.skipped++;
        return;
      }
      subject = `${STATE_SUBJECT}${key}`;
      id = undefined;
    } else id = h.get(MSG_ID_HEADER) || undefined;
    this.#pending.push([
      id,
      this.#js.publish(subject, Buffer.from(line.data, "base64"), { headers: h, timeout: 10_000 }),
    ]);
    if (this.#pending.length >= 256) await this.#settle();
  }

  async #settle(): Promise<void> {
    const acks = await Promise.all(this.#pending.map(([, ack]) => ack));
    const ids = this.#pending.map(([id]) => id);
    this.#pending = [];
    for (const [i, a] of acks.entries()) {
      if (a.stream !== this.#name) continue;
      this.loaded++;
      this.#seqs.note(this.#name, a.seq, ids[i]);
    }
  }

  /** Waits for every ack; checks the stream took them all. */
  async finish(expected: number): Promise<number> {
    await this.#settle();
    if (this.loaded + this.skipped !== expected) {
      throw new BackupError(
        "RESTORE_CONFLICT",
        `stream ${this.#name} stored ${this.loaded} of the backup's ${expected} messages; check its limits (\`natschat status\`)`,
      );
    }
    return (await this.#jsm.streams.info(this.#name)).state.messages;
  }
}
