// The message pane: grouped messages with time and issued name. It follows new messages only
// while the reader is at the bottom; a reader who scrolled up stays put and gets a
// "new messages" button instead. Text is rendered by rich-text.tsx (links and a markdown subset,
// as React elements: no HTML), and every message carries its time, shown on hover.
import type { ConversationView } from "@natschat/client";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { Icon } from "../Icon.tsx";
import { Avatar } from "./Avatar.tsx";
import { clockTime, groupMessages } from "./grouping.ts";
import { MessageText } from "./rich-text.tsx";

/** How close to the bottom (px) still counts as "at the bottom". */
const STICKY_PX = 48;

export function MessageList(props: { view: ConversationView }) {
  const { view } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const seen = useRef({ id: view.id, count: view.messages.length });
  const [unseen, setUnseen] = useState(0);
  const groups = useMemo(() => groupMessages(view.messages), [view.messages]);

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
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the scrolling log must be reachable by keyboard
        tabIndex={0}
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
        <ol className="groups">
          {groups.map((g) => (
            <li key={g.id} className={`group${g.mine ? " mine" : ""}`}>
              {g.day ? (
                <div className="day">
                  <span>{g.day}</span>
                </div>
              ) : null}
              <div className="group-body">
                <Avatar userKey={g.from} display={g.display} />
                <div className="group-content">
                  <div className="meta">
                    <span
                      className={`author${g.name === undefined ? " unverified" : ""}`}
                      title={
                        g.name === undefined
                          ? `identity not known yet: shown by key ${g.from}`
                          : `${g.name} · ${g.from}`
                      }
                    >
                      {g.display}
                    </span>
                    <time dateTime={new Date(g.time).toISOString()}>{clockTime(g.time)}</time>
                  </div>
                  {g.messages.map((m) => (
                    <div key={m.id} className="line" data-message-id={m.id}>
                      <time
                        className="line-time"
                        dateTime={new Date(m.time).toISOString()}
                        title={new Date(m.time).toLocaleString()}
                      >
                        {clockTime(m.time)}
                      </time>
                      <MessageText text={m.text}>
                        {m.claimedOther ? (
                          <span
                            className="claim-warning"
                            role="img"
                            aria-label="this message claimed another sender name"
                            title="This message claimed another sender name; it is shown under the name issued for its key"
                          >
                            <Icon name="warn" size={14} />
                          </span>
                        ) : null}
                      </MessageText>
                    </div>
                  ))}
                </div>
              </div>
            </li>
          ))}
        </ol>
      </div>
      {unseen > 0 ? (
        <button type="button" className="jump" onClick={toBottom}>
          {unseen} new message{unseen > 1 ? "s" : ""} ↓
        </button>
      ) : null}
    </div>
  );
}
