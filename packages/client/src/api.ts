// The shapes of the ChatSession methods added for issue 13 (replies, search, notifications,
// mentions), apart from the snapshot's views (store.ts, message-view.ts).
import type { MessageView } from "./message-view.ts";

/** Options of ChatSession.send. */
export interface SendOptions {
  /** A reply: the message id (`<author key>.<jti>`) it answers. */
  replyTo?: string;
}

/** Options of ChatSession.search. */
export interface SearchOptions {
  /** Only this conversation ("#CHANNEL" or "@<key>"). */
  conversation?: string;
  /** The cursor of the previous result: go on from there. */
  cursor?: string;
}

/** One search hit: the message as the UIs show it, and where it is. */
export type SearchHit = MessageView & {
  /** "#CHANNEL" or "@<peer key>". */
  conversation: string;
};

/** A page of search hits, newest first; `cursor` when older messages are left to look at. */
export interface SearchResult {
  hits: readonly SearchHit[];
  cursor?: string;
}

/** Why a message notifies. */
export type NotifyReason = "mention" | "dm";

/** A notification: a live message from someone else that mentions us or is a DM. */
export interface ChatNotification {
  conversation: string;
  message: MessageView;
  reason: NotifyReason;
}

/** A user `@name` may mention. */
export interface MentionCandidate {
  key: string;
  name: string;
}
