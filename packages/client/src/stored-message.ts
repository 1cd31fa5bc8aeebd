// A stored message as the history service returns it (a history or thread page, a search hit)
// turned into a held record: its envelope verified as a live message on its subject, its
// conversation taken from that subject (which the server proved), and its current state
// applied (the edit verified, see events.ts). A tombstone carries no envelope: the service
// withholds a deleted message's body, and its record shows only that it was deleted.
import {
  DM_TYPE,
  type EnvelopeVerifier,
  type HistoryMessage,
  type MessageState,
  messageId,
  POST_TYPE,
  parseChatSubject,
} from "@natschat/protocol";
import { type MessageRecord, recordOf } from "./conversation.ts";
import { conversationOf } from "./routing.ts";

/** A message of a page: its envelope absent for a tombstone, its state when it has one. */
export type StoredMessage = Omit<HistoryMessage, "token"> & {
  token?: string;
  state?: MessageState;
};

/** What turning a stored message into a record needs. */
export interface StoredContext {
  me: string;
  verifier: EnvelopeVerifier;
  /** Applies a state to a record (events.ts: the edit is verified first). */
  withState: (
    m: MessageRecord,
    conversationId: string,
    state: MessageState | undefined,
  ) => Promise<MessageRecord>;
  countDrop: (reason: string) => void;
}

/**
 * The record of a stored message and the conversation it belongs to; undefined when it fails
 * verification (the verifier counts it) or belongs to none of ours (counted as wrong-subject).
 */
export async function storedRecord(
  s: StoredMessage,
  ctx: StoredContext,
): Promise<{ conversationId: string; rec: MessageRecord } | undefined> {
  const conversationId = conversationOf(ctx.me, s.subject);
  if (conversationId === undefined) {
    ctx.countDrop("wrong-subject");
    return undefined;
  }
  if (s.token === undefined) return tombstone(s, conversationId);
  const r = await ctx.verifier.verify(s.token, { subject: s.subject });
  if (!r.ok) return undefined;
  if (r.envelope.type !== POST_TYPE && r.envelope.type !== DM_TYPE) {
    ctx.countDrop("wrong-type");
    return undefined;
  }
  const rec = await ctx.withState(recordOf(r.envelope, s.seq), conversationId, s.state);
  return { conversationId, rec };
}

/**
 * A deleted message's record. Its page gives no jti, so its id is made from the sender and the
 * stream sequence (`<sender>.deleted-<seq>`): a tombstone takes no events.
 */
function tombstone(
  s: StoredMessage,
  conversationId: string,
): { conversationId: string; rec: MessageRecord } | undefined {
  const sender = parseChatSubject(s.subject)?.sender;
  const by = s.state?.deleted?.by;
  if (sender === undefined || by === undefined) return undefined;
  const time = Date.parse(s.time);
  return {
    conversationId,
    rec: {
      id: messageId(sender, `deleted-${s.seq}`),
      from: sender,
      claimedName: "",
      text: "",
      time: Number.isFinite(time) ? time : 0,
      seq: s.seq,
      deleted: by,
      ...(s.state?.replies ? { replies: s.state.replies.count } : {}),
    },
  };
}
