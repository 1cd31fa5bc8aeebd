// The thread side panel: the root message, its replies (live ones join), and an input that
// answers the root. Escape on a message goes to that input; Escape there closes the panel.
import type { ChatSnapshot, MessageView } from "@natschat/client";
import { type KeyboardEvent, useMemo, useRef } from "react";
import { Icon } from "../Icon.tsx";
import { Composer, type MentionCandidate } from "./Composer.tsx";
import { CHAT_ICONS } from "./chat-icons.ts";
import { groupMessages } from "./grouping.ts";
import { MessageGroups } from "./MessageGroups.tsx";
import { type MessageActions, useMessageNav } from "./message-nav.ts";

export type ThreadView = NonNullable<ChatSnapshot["thread"]>;

export function ThreadPanel(props: {
  thread: ThreadView;
  /** Where the thread lives, for the title ("#KUBECON" or a person's name). */
  where: string;
  me: string;
  actions: MessageActions;
  disabled: boolean;
  onSend: (text: string) => Promise<void>;
  mentions: (prefix: string) => readonly MentionCandidate[];
  onTyping: () => void;
  onClose: () => void;
}) {
  const { thread } = props;
  const list = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const messages = useMemo(
    (): MessageView[] => (thread.root ? [thread.root, ...thread.replies] : [...thread.replies]),
    [thread.root, thread.replies],
  );
  // the root stands apart from the replies, whoever wrote them
  const rootGroups = useMemo(
    () => (thread.root ? groupMessages([thread.root]) : []),
    [thread.root],
  );
  const replyGroups = useMemo(() => groupMessages(thread.replies), [thread.replies]);
  const actions: MessageActions = {
    ...props.actions,
    // a reply in the thread answers its root: the input below
    reply: () => input.current?.focus(),
  };
  const nav = useMessageNav(list, messages, actions, () => input.current?.focus());
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape" && !e.defaultPrevented) {
      e.preventDefault();
      props.onClose();
    }
  };
  const count = thread.replies.length;
  return (
    <aside className="side-panel" aria-label="Thread" onKeyDown={onKeyDown}>
      <header className="side-header">
        <h2>
          Thread <span className="muted">in {props.where}</span>
        </h2>
        <button
          type="button"
          className="icon-button"
          aria-label="Close the thread"
          title="Close (Escape)"
          onClick={props.onClose}
        >
          <Icon d={CHAT_ICONS.close} />
        </button>
      </header>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: keys of the focused message */}
      <div
        ref={list}
        className="side-body thread-messages"
        onKeyDown={nav.onKeyDown}
        onFocus={nav.onFocus}
      >
        {thread.root === undefined && !thread.loading ? (
          <p className="messages-empty">The first message of this thread is not available.</p>
        ) : null}
        <MessageGroups
          groups={rootGroups}
          me={props.me}
          nav={nav}
          actions={actions}
          threadRoot={thread.root?.id ?? ""}
        />
        <div className="thread-count">
          <span>
            {thread.loading ? "Loading replies…" : `${count} ${count === 1 ? "reply" : "replies"}`}
          </span>
        </div>
        <MessageGroups
          groups={replyGroups}
          me={props.me}
          nav={nav}
          actions={actions}
          threadRoot={thread.root?.id ?? ""}
        />
      </div>
      <Composer
        target={thread.root?.id ?? "thread"}
        label="Reply in thread"
        disabled={props.disabled || thread.root === undefined}
        onSend={props.onSend}
        mentions={props.mentions}
        onTyping={props.onTyping}
        inputRef={input}
      />
    </aside>
  );
}
