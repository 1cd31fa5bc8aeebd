// Replies (issue 13): a post or DM with `re` names the message it answers. The writer checks the
// target is stored in the same conversation (else the reply is refused NOT_FOUND and not
// stored), stores the reply with the header Natschat-Thread: <rootId> — the root being the
// target's own root when the target is itself a reply, so a thread is one level deep — and, once
// stored, counts it in the root's state (addReply, compare-and-set) and publishes that update.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  addReply,
  type ChatSubject,
  type MessageStore,
  type MessageUpdate,
  type TargetMessage,
} from "@natschat/protocol";
import type { Logger } from "./log.ts";
import type { MessageStates } from "./state.ts";
import type { MessageTargets } from "./targets.ts";
import { publishUpdate } from "./updates.ts";

/** Whether a message stored at `target` is in the conversation of a post/DM with subject `s`. */
function sameConversation(target: TargetMessage, s: ChatSubject): boolean {
  if (s.kind === "post") return target.where.kind === "post" && target.where.channel === s.channel;
  if (s.kind !== "dm" || target.where.kind !== "dm") return false;
  const pair = [target.author, target.where.recipient].sort().join(" ");
  return [s.sender, s.recipient].sort().join(" ") === pair;
}

/** Checks replies before they are stored and counts them after. */
export class ReplyThreads {
  constructor(
    readonly nc: NatsConnection,
    readonly targets: MessageTargets,
    readonly states: MessageStates,
    readonly log: Logger,
  ) {}

  /** The root of the thread a reply to `re` joins, or undefined when `re` is not in `s`'s conversation. */
  async rootOf(s: ChatSubject, re: string): Promise<string | undefined> {
    if (s.kind === "presence") return undefined;
    const store: MessageStore = s.kind === "post" ? "posts" : "dms";
    const found = await this.targets.find(store, re);
    if (!found || !sameConversation(found.target, s)) return undefined;
    return found.thread ?? re;
  }

  /**
   * Counts the stored reply `reply` in its root's state and publishes the change. Never throws:
   * the reply is stored whatever happens here, so a failure is logged (the count is short by one).
   */
  async count(s: ChatSubject, root: string, reply: string): Promise<void> {
    if (s.kind === "presence") return;
    const store: MessageStore = s.kind === "post" ? "posts" : "dms";
    try {
      const found = await this.targets.find(store, root);
      if (!found) return; // the root aged out of the stream: the thread lives on without it
      const result = await this.states.change(store, found.seq, (state) => ({
        ok: true,
        state: addReply(state, reply),
        changed: true,
      }));
      if (!result.ok) return;
      const update: MessageUpdate = { id: root, store, seq: found.seq, state: result.state };
      publishUpdate(this.nc, found.target, update);
    } catch (err) {
      this.log.warn("cannot count a reply in its thread", { root, reply, err });
    }
  }
}
