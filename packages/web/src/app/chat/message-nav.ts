// Keyboard use of a message list (the channel pane and the thread panel): roving tabindex over
// the messages (one is in the tab order; ↑/↓, Home/End move between them) and the keys of the
// focused message — r reply, + react, e edit, Delete delete, t or Enter thread, Escape back to
// the composer. Also which message is being edited or has its emoji picker open.
import type { MessageView } from "@natschat/client";
import { type FocusEvent, type KeyboardEvent, type RefObject, useState } from "react";

/** What can be done to a message; the chat page carries it out on the session. */
export interface MessageActions {
  reply: (m: MessageView) => void;
  react: (m: MessageView, emoji: string, on: boolean) => void;
  edit: (m: MessageView, text: string) => Promise<void>;
  /** Asks for confirmation, then deletes. */
  remove: (m: MessageView) => void;
  /** Opens the thread that holds this message id. */
  openThread: (id: string) => void;
}

/** Which message does what, in one list. */
export interface MessageNav {
  /** The message in the tab order. */
  active: string | undefined;
  editing: string | undefined;
  picking: string | undefined;
  setEditing: (id: string | undefined) => void;
  setPicking: (id: string | undefined) => void;
  /** Moves focus back onto a message (after editing or picking). */
  focus: (id: string) => void;
  onKeyDown: (e: KeyboardEvent) => void;
  onFocus: (e: FocusEvent) => void;
}

const ROW = "[data-message-id]";

/** Whether `m` may be edited or deleted by the reader. */
export function canChange(m: MessageView): boolean {
  return m.mine && m.deleted === undefined;
}

export function useMessageNav(
  container: RefObject<HTMLElement | null>,
  messages: readonly MessageView[],
  actions: MessageActions,
  /** Escape on a message: back to the composer. */
  onLeave: () => void,
): MessageNav {
  const [activeId, setActiveId] = useState<string>();
  const [editing, setEditing] = useState<string>();
  const [picking, setPicking] = useState<string>();
  const active = messages.some((m) => m.id === activeId) ? activeId : messages.at(-1)?.id;

  const rows = () => [...(container.current?.querySelectorAll<HTMLElement>(ROW) ?? [])];
  const focus = (id: string) => {
    const row = rows().find((r) => r.dataset.messageId === id);
    setActiveId(id);
    row?.focus();
    row?.scrollIntoView({ block: "nearest" });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const row = e.target as HTMLElement;
    // keys typed into an edit box or on a button inside the message are theirs
    if (!row.matches(ROW) || e.ctrlKey || e.metaKey || e.altKey) return;
    const id = row.dataset.messageId ?? "";
    const m = messages.find((x) => x.id === id);
    if (!m) return;
    const all = rows();
    const i = all.indexOf(row);
    const moveTo = (j: number) => {
      const target = all[Math.max(0, Math.min(all.length - 1, j))];
      if (target?.dataset.messageId) focus(target.dataset.messageId);
    };
    const live = m.deleted === undefined;
    let handled = true;
    switch (e.key) {
      case "ArrowUp":
        moveTo(i - 1);
        break;
      case "ArrowDown":
        moveTo(i + 1);
        break;
      case "Home":
        moveTo(0);
        break;
      case "End":
        moveTo(all.length - 1);
        break;
      case "r":
        if (live) actions.reply(m);
        break;
      case "+":
      case "=":
        if (live) setPicking(id);
        break;
      case "e":
        if (canChange(m)) setEditing(id);
        break;
      case "Delete":
      case "Backspace":
        if (canChange(m)) actions.remove(m);
        break;
      case "t":
      case "Enter":
        actions.openThread(id);
        break;
      case "Escape":
        onLeave();
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  };

  const onFocus = (e: FocusEvent) => {
    const row = (e.target as HTMLElement).closest<HTMLElement>(ROW);
    if (row?.dataset.messageId) setActiveId(row.dataset.messageId);
  };

  return { active, editing, picking, setEditing, setPicking, focus, onKeyDown, onFocus };
}
