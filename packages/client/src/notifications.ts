// Notifications: a live message from someone else that mentions us or is a DM, in a conversation
// that is not muted, is handed to the UIs' listeners (a browser Notification, a terminal bell).
// History never notifies, nor do our own messages from another device.
import type { ChatNotification, NotifyReason } from "./api.ts";
import { type Conversation, type MessageRecord, mentions } from "./conversation.ts";
import type { MessageView } from "./message-view.ts";

/** Why a live message notifies `me`, or undefined when it does not. Pure. */
export function notifyReason(
  c: Conversation,
  rec: MessageRecord,
  me: string,
): NotifyReason | undefined {
  if (rec.from === me || c.muted) return undefined;
  if (mentions(rec, me)) return "mention";
  if (c.kind === "dm") return "dm";
  return undefined;
}

/** The listeners of notifications. */
export class Notifications {
  readonly #listeners = new Set<(n: ChatNotification) => void>();

  /** Calls `cb` for each notification; returns the unsubscribe function. */
  subscribe(cb: (n: ChatNotification) => void): () => void {
    this.#listeners.add(cb);
    return () => {
      this.#listeners.delete(cb);
    };
  }

  /** A live message arrived in `c`: notifies when it should (`view` builds what is shown). */
  consider(c: Conversation, rec: MessageRecord, me: string, view: () => MessageView): void {
    if (this.#listeners.size === 0) return;
    const reason = notifyReason(c, rec, me);
    if (!reason) return;
    const n: ChatNotification = Object.freeze({ conversation: c.id, message: view(), reason });
    for (const cb of [...this.#listeners]) {
      try {
        cb(n);
      } catch {
        // a listener's fault must not stop delivery to the others, nor the message's routing
      }
    }
  }
}
