// One message as a line of the channel pane or the thread panel: the quote of what it replies
// to, its text (mentions as chips, an "(edited)" mark) or its tombstone, its reactions, the
// count of replies, and the actions shown on hover and on focus (reply, react, thread, edit,
// delete). The line is focusable (roving tabindex: message-nav.ts) and edits in place.
import type { MessageView } from "@natschat/client";
import { type KeyboardEvent, useEffect, useRef, useState } from "react";
import { Icon } from "../Icon.tsx";
import { CHAT_ICONS } from "./chat-icons.ts";
import { editableText } from "./composer-text.ts";
import { EmojiPicker } from "./EmojiPicker.tsx";
import { clockTime } from "./grouping.ts";
import { canChange, type MessageActions, type MessageNav } from "./message-nav.ts";
import { ReactionBar } from "./ReactionBar.tsx";
import { MessageText } from "./rich-text.tsx";

/** What a deleted message shows instead of its text. */
export function tombstone(m: MessageView): string {
  return m.deleted === "admin" ? "removed by an admin" : "message deleted";
}

function ReplyQuote(props: { m: MessageView; onOpen: (id: string) => void; tabIndex: number }) {
  const re = props.m.replyTo;
  if (!re) return null;
  return (
    <button
      type="button"
      className="reply-quote"
      tabIndex={props.tabIndex}
      onClick={() => props.onOpen(re.id)}
      aria-label={
        "missing" in re
          ? "Reply to a message that is not available"
          : `Reply to ${re.display}: ${re.excerpt} (open the thread)`
      }
    >
      <span aria-hidden="true">↪</span>{" "}
      {"missing" in re ? (
        <em>original not available</em>
      ) : (
        <>
          <strong>{re.display}</strong> {re.excerpt}
        </>
      )}
    </button>
  );
}

function EditBox(props: {
  m: MessageView;
  onSave: (text: string) => Promise<void>;
  onDone: () => void;
}) {
  const [text, setText] = useState(() => editableText(props.m));
  const [error, setError] = useState<string>();
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = input.current;
    el?.focus();
    el?.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const save = async () => {
    const next = text.trim();
    if (next === "" || next === editableText(props.m)) {
      props.onDone();
      return;
    }
    try {
      await props.onSave(next);
      props.onDone();
    } catch (err) {
      setError(`Not saved: ${(err as Error).message}`);
    }
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    e.stopPropagation();
    if (e.key === "Escape") {
      e.preventDefault();
      props.onDone();
    } else if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void save();
    }
  };
  return (
    <div className="edit-box">
      <textarea
        ref={input}
        aria-label="Edit message"
        value={text}
        rows={Math.min(6, text.split("\n").length)}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
      />
      {error ? (
        <p className="composer-error" role="alert">
          {error}
        </p>
      ) : null}
      <p className="edit-hint muted">
        Enter saves · Escape cancels{" "}
        <button type="button" className="link" onClick={() => void save()}>
          Save
        </button>{" "}
        <button type="button" className="link" onClick={props.onDone}>
          Cancel
        </button>
      </p>
    </div>
  );
}

function Toolbar(props: {
  m: MessageView;
  tabIndex: number;
  inThread: boolean;
  actions: MessageActions;
  nav: MessageNav;
}) {
  const { m, actions, nav, tabIndex } = props;
  const button = (label: string, icon: keyof typeof CHAT_ICONS, onClick: () => void) => (
    <button type="button" aria-label={label} title={label} tabIndex={tabIndex} onClick={onClick}>
      <Icon d={CHAT_ICONS[icon]} size={17} />
    </button>
  );
  return (
    <div className="message-actions" role="toolbar" aria-label="Message actions">
      {button("Reply (r)", "reply", () => actions.reply(m))}
      {button("React (+)", "react", () => nav.setPicking(m.id))}
      {props.inThread ? null : button("Open thread (t)", "thread", () => actions.openThread(m.id))}
      {canChange(m) ? button("Edit (e)", "edit", () => nav.setEditing(m.id)) : null}
      {canChange(m) ? button("Delete (Del)", "remove", () => actions.remove(m)) : null}
    </div>
  );
}

export function MessageItem(props: {
  m: MessageView;
  /** The reader's key. */
  me: string;
  nav: MessageNav;
  actions: MessageActions;
  /** In the thread panel: no thread button, no replies count. */
  inThread?: boolean;
  /** The open thread's root: a reply to it needs no quote there. */
  threadRoot?: string | undefined;
}) {
  const { m, nav, actions } = props;
  const active = nav.active === m.id;
  const tabIndex = active ? 0 : -1;
  const deleted = m.deleted !== undefined;
  const editing = nav.editing === m.id && !deleted;
  const picking = nav.picking === m.id && !deleted;
  const time = new Date(m.time);
  const classes = [
    "line",
    m.mentionsMe ? "mentions-me" : "",
    deleted ? "deleted" : "",
    editing ? "editing" : "",
  ].filter(Boolean);
  return (
    <article
      className={classes.join(" ")}
      data-message-id={m.id}
      aria-label={`${m.display}, ${clockTime(m.time)}${m.edited ? ", edited" : ""}${m.mentionsMe ? ", mentions you" : ""}`}
      tabIndex={tabIndex}
    >
      <time className="line-time" dateTime={time.toISOString()} title={time.toLocaleString()}>
        {clockTime(m.time)}
      </time>
      {m.replyTo && m.replyTo.id !== props.threadRoot ? (
        <ReplyQuote m={m} onOpen={actions.openThread} tabIndex={tabIndex} />
      ) : null}
      {deleted ? (
        <p className="text tombstone">{tombstone(m)}</p>
      ) : editing ? (
        <EditBox
          m={m}
          onSave={(text) => actions.edit(m, text)}
          onDone={() => {
            nav.setEditing(undefined);
            nav.focus(m.id);
          }}
        />
      ) : (
        <MessageText text={m.text} segments={m.segments} me={props.me}>
          {m.edited ? (
            <span className="edited" title="edited by its author">
              {" "}
              (edited)
            </span>
          ) : null}
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
      )}
      {m.reactions.length > 0 && !deleted ? (
        <ReactionBar
          reactions={m.reactions}
          tabbable={active}
          onToggle={(emoji, on) => actions.react(m, emoji, on)}
          onPick={() => nav.setPicking(m.id)}
        />
      ) : null}
      {m.replies > 0 && !props.inThread ? (
        <button
          type="button"
          className="replies-link"
          tabIndex={tabIndex}
          onClick={() => actions.openThread(m.id)}
        >
          {m.replies} {m.replies === 1 ? "reply" : "replies"}
        </button>
      ) : null}
      {deleted || editing ? null : (
        <Toolbar
          m={m}
          tabIndex={tabIndex}
          inThread={props.inThread ?? false}
          actions={actions}
          nav={nav}
        />
      )}
      {picking ? (
        <EmojiPicker
          mine={m.reactions.filter((r) => r.mine).map((r) => r.emoji)}
          onPick={(emoji) => {
            const mine = m.reactions.some((r) => r.emoji === emoji && r.mine);
            actions.react(m, emoji, !mine);
            nav.setPicking(undefined);
            nav.focus(m.id);
          }}
          onClose={() => {
            nav.setPicking(undefined);
            nav.focus(m.id);
          }}
        />
      ) : null}
    </article>
  );
}
