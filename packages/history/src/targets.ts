// Finds the stored message an event, a reply or a removal names by its id: the index gives its
// sequence (waiting ≤ 2 s for the index to catch up when it does not know it yet), a direct get
// reads its stored subject, whose last token is its author (the key the server let publish) and
// whose middle token is its channel or DM recipient. What the stream no longer has is not found.
import type { DirectStreamAPI } from "@nats-io/jetstream";
import {
  type MessageStore,
  MSG_ID_HEADER,
  parseChatSubject,
  type TargetMessage,
} from "@natschat/protocol";
import type { StreamFollower } from "./index.ts";

/** A stored message found by id. */
export interface FoundMessage {
  store: MessageStore;
  seq: number;
  target: TargetMessage;
  /** A reply: its thread's root id. */
  thread?: string;
}

/** The stores' followers and the reads by sequence. */
export class MessageTargets {
  constructor(
    readonly followers: Record<MessageStore, StreamFollower>,
    readonly direct: DirectStreamAPI,
  ) {}

  /** The message `id` in `store`, or undefined when that store does not hold it. */
  async find(store: MessageStore, id: string): Promise<FoundMessage | undefined> {
    const follower = this.followers[store];
    const seq = await follower.find(id);
    if (seq === undefined) return undefined;
    const sm = await this.direct.getMessage(follower.stream, { seq });
    if (!sm || sm.header.get(MSG_ID_HEADER) !== id) return undefined;
    const s = parseChatSubject(sm.subject, { stored: true });
    if (!s || s.kind === "presence") return undefined;
    const where =
      s.kind === "post"
        ? { kind: "post" as const, channel: s.channel }
        : { kind: "dm" as const, recipient: s.recipient };
    const thread = follower.index.metaOf(seq)?.thread;
    return {
      store,
      seq,
      target: { id, author: s.sender, where },
      ...(thread ? { thread } : {}),
    };
  }
}
