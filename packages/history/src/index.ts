// The in-memory index of the history streams: for each conversation, the stream sequences of its
// messages, ascending. It answers "the last N before seq X" in O(log n) without touching the
// stream; the bodies are then fetched by sequence. It is built at start from an ordered consumer
// that delivers headers only (subject and sequence, not the bodies) and kept live by the same
// consumer, so it costs a few numbers per stored message and nothing per request or per user.
// Messages the stream dropped (max_age, a sender's own per-subject limit) are removed when a read
// finds them gone.
import type { ConsumerMessages, JetStreamClient } from "@nats-io/jetstream";
import { parseChatSubject } from "@natschat/protocol";
import type { Logger } from "./log.ts";

/** Conversation keys: a channel, one user's DMs (both directions), or one pair's DMs. */
export const channelKey = (channel: string) => `p ${channel}`;
export const userDmsKey = (user: string) => `u ${user}`;
export const pairDmsKey = (a: string, b: string) => (a < b ? `d ${a} ${b}` : `d ${b} ${a}`);

/** Sequence lists per conversation, ascending. */
export class ConversationIndex {
  readonly #lists = new Map<string, number[]>();
  #size = 0;

  /** Sequences held, over all conversations. */
  get size(): number {
    return this.#size;
  }

  /** Records `seq` under `key`; sequences normally arrive in order (appended). */
  add(key: string, seq: number): void {
    let list = this.#lists.get(key);
    if (!list) {
      list = [];
      this.#lists.set(key, list);
    }
    const last = list[list.length - 1];
    if (last === undefined || seq > last) list.push(seq);
    else {
      const i = lowerBound(list, seq);
      if (list[i] === seq) return;
      list.splice(i, 0, seq);
    }
    this.#size++;
  }

  /**
   * Up to `n` sequences of `key` before `before` (all when undefined), ascending, and whether
   * older ones exist.
   */
  page(key: string, before: number | undefined, n: number): { seqs: number[]; more: boolean } {
    const list = this.#lists.get(key);
    if (!list) return { seqs: [], more: false };
    const end = before === undefined ? list.length : lowerBound(list, before);
    const start = Math.max(0, end - n);
    return { seqs: list.slice(start, end), more: start > 0 };
  }

  /** Forgets `seq` under `key` (the stream no longer has it). */
  remove(key: string, seq: number): void {
    const list = this.#lists.get(key);
    if (!list) return;
    const i = lowerBound(list, seq);
    if (list[i] !== seq) return;
    list.splice(i, 1);
    this.#size--;
    if (list.length === 0) this.#lists.delete(key);
  }
}

/** First index whose value is ≥ x. */
function lowerBound(list: number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The conversation keys a stored message belongs to, from its stored subject. */
export function keysOf(storedSubject: string): string[] {
  const s = parseChatSubject(storedSubject, { stored: true });
  if (!s || s.kind === "presence") return [];
  if (s.kind === "post") return [channelKey(s.channel)];
  return s.recipient === s.sender
    ? [userDmsKey(s.sender), pairDmsKey(s.sender, s.recipient)]
    : [userDmsKey(s.recipient), userDmsKey(s.sender), pairDmsKey(s.sender, s.recipient)];
}

/** Follows one stream into an index with a headers-only ordered consumer. */
export class StreamFollower {
  readonly index = new ConversationIndex();
  /** Resolves once the index holds every message that was in the stream at start. */
  readonly ready: Promise<void>;
  #markReady: () => void = () => {};
  #messages: ConsumerMessages | undefined;
  #stopped = false;
  #done: Promise<void> = Promise.resolve();

  constructor(
    readonly js: JetStreamClient,
    readonly stream: string,
    readonly log: Logger,
  ) {
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
  }

  /** Starts following; ready resolves when caught up. */
  async start(): Promise<void> {
    const consumer = await this.js.consumers.get(this.stream, { headers_only: true });
    const pending = (await consumer.info(true)).num_pending;
    if (pending === 0) this.#markReady();
    const messages = await consumer.consume({ max_messages: 1000 });
    this.#messages = messages;
    this.#done = (async () => {
      for await (const m of messages) {
        for (const key of keysOf(m.subject)) this.index.add(key, m.seq);
        if (m.info.pending === 0) this.#markReady();
        if (this.#stopped) break;
      }
    })().catch((err: unknown) => {
      if (!this.#stopped) this.log.error("index follower stopped", { stream: this.stream, err });
    });
  }

  /** Stops the consumer. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#markReady();
    this.#messages?.stop();
    await this.#done;
  }
}
