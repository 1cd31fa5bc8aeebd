// The message input: Enter sends, Shift+Enter adds a line; it keeps focus after sending and
// when the conversation changes, so one can keep typing. `@` opens a list of known people
// (↑/↓, Enter or Tab picks, Escape closes) and the picked name is sent as a mention; a reply
// shows what it answers above the input (Escape cancels it); each keystroke tells the session
// we are typing (the session sends at most one indicator per few seconds); ↑ in an empty input
// moves to the messages.
import { MSG_MAX_LENGTH } from "@natschat/protocol";
import {
  type FormEvent,
  type KeyboardEvent,
  type RefObject,
  useEffect,
  useId,
  useRef,
  useState,
} from "react";
import { Icon } from "../Icon.tsx";
import { applyMention, type MentionQuery, mentionQuery } from "./composer-text.ts";

/** A person the `@` list offers. */
export interface MentionCandidate {
  key: string;
  name: string;
}

export function Composer(props: {
  target: string;
  label: string;
  disabled: boolean;
  /** A short tip after the placeholder, e.g. "/help for commands". */
  hint?: string;
  onSend: (text: string) => Promise<void>;
  /** Known people whose name starts with `prefix`. */
  mentions: (prefix: string) => readonly MentionCandidate[];
  /** Called on each keystroke that changes the text. */
  onTyping: () => void;
  /** The message this one will answer, shown above the input. */
  replyTo?: { id: string; display: string; excerpt: string };
  onCancelReply?: () => void;
  /** ↑ in an empty input. */
  onUpFromEmpty?: () => void;
  /** Lets the page move focus into the input. */
  inputRef?: RefObject<HTMLTextAreaElement | null>;
}) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string>();
  const [query, setQuery] = useState<MentionQuery>();
  const [option, setOption] = useState(0);
  const own = useRef<HTMLTextAreaElement>(null);
  const input = props.inputRef ?? own;
  const listId = useId();
  const candidates = query ? props.mentions(query.prefix).slice(0, 8) : [];
  const open = candidates.length > 0;
  const current = Math.min(option, Math.max(candidates.length - 1, 0));

  // biome-ignore lint/correctness/useExhaustiveDependencies: refocus when the conversation changes or a reply starts
  useEffect(() => {
    input.current?.focus();
  }, [props.target, props.replyTo?.id]);

  // Grow with the text, up to a few lines.
  // biome-ignore lint/correctness/useExhaustiveDependencies: measures after every text change
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [text]);

  const send = async () => {
    const msg = text.trim();
    if (!msg || props.disabled) return;
    if (msg.length > MSG_MAX_LENGTH) {
      setError(`A message has at most ${MSG_MAX_LENGTH} characters; this one has ${msg.length}.`);
      return;
    }
    setText("");
    setQuery(undefined);
    setError(undefined);
    input.current?.focus();
    try {
      await props.onSend(msg);
    } catch (err) {
      setText(msg); // give the text back so nothing is lost
      setError(
        msg.startsWith("/") ? (err as Error).message : `Not sent: ${(err as Error).message}`,
      );
    }
  };

  const pick = (c: MentionCandidate | undefined) => {
    const el = input.current;
    if (!c || !query || !el) return;
    const next = applyMention(text, query, el.selectionStart, c.name);
    setText(next.text);
    setQuery(undefined);
    requestAnimationFrame(() => el.setSelectionRange(next.caret, next.caret));
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void send();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (open) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const step = e.key === "ArrowDown" ? 1 : -1;
        setOption((current + step + candidates.length) % candidates.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        pick(candidates[current]);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setQuery(undefined);
        return;
      }
    }
    if (e.key === "Escape" && props.replyTo) {
      e.preventDefault();
      props.onCancelReply?.();
    } else if (e.key === "ArrowUp" && text === "" && props.onUpFromEmpty) {
      e.preventDefault();
      props.onUpFromEmpty();
    } else if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };
  const onChange = (value: string, caret: number) => {
    setText(value);
    setQuery(mentionQuery(value, caret));
    setOption(0);
    if (value.trim() !== "" && !value.startsWith("/")) props.onTyping();
  };
  const left = MSG_MAX_LENGTH - text.length;
  const optionId = (i: number) => `${listId}-${i}`;

  return (
    <form className="composer" onSubmit={onSubmit}>
      {error ? (
        <p className="composer-error" role="alert">
          {error}
        </p>
      ) : null}
      {props.replyTo ? (
        <div className="replying" role="status">
          <span>
            Replying to <strong>{props.replyTo.display}</strong>:{" "}
            <span className="muted">{props.replyTo.excerpt}</span>
          </span>
          <button
            type="button"
            className="link"
            aria-label="Cancel the reply"
            onClick={props.onCancelReply}
          >
            Cancel
          </button>
        </div>
      ) : null}
      {open ? (
        <div id={listId} className="mention-list" role="listbox" aria-label="People">
          {candidates.map((c, i) => (
            // biome-ignore lint/a11y/useKeyWithClickEvents: the input's ↑/↓/Enter/Tab choose; this is for the mouse
            <div
              key={c.key}
              id={optionId(i)}
              role="option"
              tabIndex={-1}
              aria-selected={i === current}
              className={i === current ? "active" : ""}
              // a click must not take the focus from the input
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(c)}
            >
              @{c.name}
            </div>
          ))}
        </div>
      ) : null}
      <div className="composer-row">
        <textarea
          ref={input}
          className="composer-input"
          aria-label={props.label}
          // a textbox that owns a list (ARIA 1.2 allows both attributes on a textbox)
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? optionId(current) : undefined}
          placeholder={
            props.disabled
              ? "Waiting for the connection…"
              : `${props.label}${props.hint ? ` (${props.hint})` : ""}`
          }
          rows={1}
          value={text}
          onChange={(e) => onChange(e.target.value, e.target.selectionStart)}
          onKeyDown={onKeyDown}
          maxLength={MSG_MAX_LENGTH + 200}
        />
        <button
          type="submit"
          className="send"
          aria-label="Send message"
          disabled={props.disabled || text.trim() === ""}
        >
          <Icon name="send" />
        </button>
      </div>
      {left < 200 ? (
        <p className={`composer-count${left < 0 ? " over" : ""}`} aria-live="polite">
          {left} characters left
        </p>
      ) : null}
    </form>
  );
}
