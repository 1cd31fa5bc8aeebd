// The message pane: grouped messages with time and issued name. It follows new messages only
// while the reader is at the bottom; a reader who scrolled up stays put and gets a
// "new messages" button instead. A "New messages" line marks where the unread part began when
// the conversation was opened (ConversationView.firstUnread, from the read state kept by the
// service); the conversation still opens at its newest message, the line is above it. Each
// message is a MessageItem (text, reactions, actions); the keyboard moves between messages
// (message-nav.ts).
import type { ConversationView } from "@natschat/client";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { groupMessages } from "./grouping.ts";
import { MessageGroups } from "./MessageGroups.tsx";
import { type MessageActions, useMessageNav } from "./message-nav.ts";

/** How close to the bottom (px) still counts as "at the bottom". */
const STICKY_PX = 48;

export function MessageList(props: {
  view: ConversationView;
  /** The reader's key. */
  me: string;
  actions: MessageActions;
  /** Escape on a message: back to the composer. */
  onLeave: () => void;
}) {
  const { view } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const nav = useMessageNav(scroller, view.messages, props.actions, props.onLeave);
  // Where the unread part began when this conversation was opened: the session keeps it in
  // place while the conversation is on screen, though opening it marked everything read.
  const separatorAt = view.firstUnread;
  const groups = useMemo(
    () => groupMessages(view.messages, Date.now(), separatorAt),
    [view.messages, separatorAt],
  );
  const atBottom = useRef(true);
  const seen = useRef({ id: view.id, count: view.messages.length });
  const [unseen, setUnseen] = useState(0);

  const toBottom = useCallback(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setUnseen(0);
  }, []);

  // A new conversation opens at its newest message.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the conversation changes
  useLayoutEffect(() => {
    toBottom();
    seen.current = { id: view.id, count: view.messages.length };
  }, [view.id]);

  // New messages: follow them if the reader is at the bottom or sent one; otherwise count them.
  useLayoutEffect(() => {
    const before = seen.current;
    seen.current = { id: view.id, count: view.messages.length };
    if (before.id !== view.id) return;
    const added = view.messages.length - before.count;
    const last = view.messages[view.messages.length - 1];
    if (atBottom.current || last?.mine) toBottom();
    else if (added > 0) setUnseen((n) => n + added);
  }, [view.messages, view.id, toBottom]);

  // When the pane shrinks (a banner appears, the phone keyboard opens), a reader at the bottom
  // stays at the bottom.
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICKY_PX;
    if (atBottom.current) setUnseen(0);
  };

  return (
    <div className="messages-wrap">
      <div
        ref={scroller}
        className="messages"
        role="log"
        aria-live="polite"
        aria-label={`Messages in ${view.kind === "channel" ? `#${view.title}` : view.title}`}
        onScroll={onScroll}
        onKeyDown={nav.onKeyDown}
        onFocus={nav.onFocus}
        // An empty log is a tab stop of its own; otherwise its active message is.
        tabIndex={view.messages.length === 0 ? 0 : -1}
      >
        {view.history === "loading" && view.messages.length === 0 ? (
          <p className="messages-empty">Loading history…</p>
        ) : view.messages.length === 0 ? (
          <p className="messages-empty">
            {view.kind === "channel"
              ? `This is the start of #${view.title}. Say hello!`
              : `This is the start of your conversation with ${view.title}.`}
          </p>
        ) : null}
        {view.history === "failed" ? (
          <p className="messages-empty warn">
            History could not be loaded; new messages still arrive.
          </p>
        ) : null}
        <MessageGroups
          groups={groups}
          separatorAt={separatorAt}
          me={props.me}
          nav={nav}
          actions={props.actions}
        />
      </div>
      {unseen > 0 ? (
        <button type="button" className="jump" onClick={toBottom}>
          {unseen} new message{unseen > 1 ? "s" : ""} ↓
        </button>
      ) : null}
    </div>
  );
}
