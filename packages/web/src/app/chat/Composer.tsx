// The message input: Enter sends, Shift+Enter adds a line; it keeps focus after sending and
// when the conversation changes, so one can keep typing.
import { MSG_MAX_LENGTH } from "@natschat/protocol";
import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from "react";
import { Icon } from "../Icon.tsx";

export function Composer(props: {
  target: string;
  label: string;
  disabled: boolean;
  /** A short tip after the placeholder, e.g. "/help for commands". */
  hint?: string;
  onSend: (text: string) => Promise<void>;
}) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string>();
  const input = useRef<HTMLTextAreaElement>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: refocus when the conversation changes
  useEffect(() => {
    input.current?.focus();
  }, [props.target]);

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

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void send();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };
  const left = MSG_MAX_LENGTH - text.length;

  return (
    <form className="composer" onSubmit={onSubmit}>
      {error ? (
        <p className="composer-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="composer-row">
        <textarea
          ref={input}
          className="composer-input"
          aria-label={props.label}
          placeholder={
            props.disabled
              ? "Waiting for the connection…"
              : `${props.label}${props.hint ? ` (${props.hint})` : ""}`
          }
          rows={1}
          value={text}
          onChange={(e) => setText(e.target.value)}
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
