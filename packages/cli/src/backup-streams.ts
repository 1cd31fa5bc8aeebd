// The JetStream side of backup and restore: the registry bucket (ADMIN) and the two history
// streams (CHAT), each as its config and its messages in stream order. nats.js has no stream
// snapshot API (the `nats` CLI's $JS.API.STREAM.SNAPSHOT/RESTORE chunk protocol is not in
// @nats-io/jetstream), so this is a logical backup with the library's ordered consumer and
// publish: it restores into any topology and replica count, and a restored message keeps its
// subject, headers (Nats-Msg-Id, KV-Operation) and body, and its order, not its sequence number
// or its store time. The per-sender quota bucket is left out: it only counts today's bytes.
import {
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type PubAck,
} from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { parseChatSubject } from "@natschat/protocol";
import { DMS_STREAM, POSTS_STREAM, REGISTRY_BUCKET } from "@natschat/trust";
import { BackupError, type BackupLine } from "./backup-file.ts";

/** A stream in a backup, and the role that may read and write it. */
export interface BackedUpStream {
  name: string;
  account: "ADMIN" | "CHAT";
  role: "access" | "history";
  /** Whether a message belongs (the history streams may still hold unserved v2 messages). */
  keep: (subject: string) => boolean;
}

export const BACKED_UP_STREAMS: readonly BackedUpStream[] = [
  { name: `KV_${REGISTRY_BUCKET}`, account: "ADMIN", role: "access", keep: () => true },
  ...[POSTS_STREAM, DMS_STREAM].map((name) => ({
    name,
    account: "CHAT" as const,
    role: "history" as const,
    keep: (subject: string) => parseChatSubject(subject, { stored: true }) !== undefined,
  })),
];

/** Headers that would make a restored publish conditional on the new stream's state. */
const DROPPED_HEADER = /^Nats-Expected-/i;

/** Writes one stream to the backup; returns the messages written and those left out. */
export async function dumpStream(
  nc: NatsConnection,
  s: BackedUpStream,
  put: (line: BackupLine) => Promise<void>,
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
      if (s.keep(m.subject)) {
        const h: [string, string][] = [];
        for (const k of m.headers?.keys() ?? [])
          for (const v of m.headers?.values(k) ?? []) h.push([k, v]);
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
  #pending: Promise<PubAck>[] = [];
  loaded = 0;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, name: string) {
    this.#js = jetstream(nc);
    this.#jsm = jsm;
    this.#name = name;
  }

  /** Opens the target stream: created from the backup's config if missing, refused if not empty. */
  static async open(
    nc: NatsConnection,
    config: BackupLine & { kind: "stream" },
  ): Promise<StreamLoader> {
    const jsm = await jetstreamManager(nc);
    const name = config.config.name;
    await checkEmpty(nc, name);
    if (!(await jsm.streams.info(name).catch(() => undefined)))
      await jsm.streams.add(config.config);
    return new StreamLoader(nc, jsm, name);
  }

  /** Publishes one message; a window of acks stays in flight (one connection keeps the order). */
  async add(line: BackupLine & { kind: "msg" }): Promise<void> {
    const h = headers();
    for (const [k, v] of line.headers ?? []) if (!DROPPED_HEADER.test(k)) h.append(k, v);
    this.#pending.push(
      this.#js.publish(line.subject, Buffer.from(line.data, "base64"), {
        headers: h,
        timeout: 10_000,
      }),
    );
    if (this.#pending.length >= 256) await this.#settle();
  }

  async #settle(): Promise<void> {
    const acks = await Promise.all(this.#pending);
    this.#pending = [];
    for (const a of acks) if (a.stream === this.#name) this.loaded++;
  }

  /** Waits for every ack; checks the stream took them all. */
  async finish(expected: number): Promise<number> {
    await this.#settle();
    if (this.loaded !== expected) {
      throw new BackupError(
        "RESTORE_CONFLICT",
        `stream ${this.#name} stored ${this.loaded} of the backup's ${expected} messages; check its limits (\`natschat status\`)`,
      );
    }
    return (await this.#jsm.streams.info(this.#name)).state.messages;
  }
}
