// A small emoji picker for reactions: a row of common emoji, focused when it opens; ←/→ move,
// Enter or a click picks, Escape closes. A short fixed set, as most team chats offer first:
// the protocol takes any emoji, and a full picker would weigh more than the chat page.
import { type KeyboardEvent, useEffect, useRef } from "react";

export const QUICK_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"] as const;

export function EmojiPicker(props: {
  /** Emoji the reader already reacted with (shown pressed; picking one removes it). */
  mine: readonly string[];
  onPick: (emoji: string) => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector("button")?.focus();
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    // the message list under the picker must not see these keys
    e.stopPropagation();
    if (e.key === "Escape") {
      e.preventDefault();
      props.onClose();
      return;
    }
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    e.preventDefault();
    const buttons = [...(ref.current?.querySelectorAll("button") ?? [])];
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const step = e.key === "ArrowRight" ? 1 : -1;
    buttons[(i + step + buttons.length) % buttons.length]?.focus();
  };
  return (
    <div
      ref={ref}
      className="emoji-picker"
      role="toolbar"
      aria-label="Pick a reaction"
      onKeyDown={onKeyDown}
    >
      {QUICK_EMOJI.map((emoji) => (
        <button
          key={emoji}
          type="button"
          aria-pressed={props.mine.includes(emoji)}
          aria-label={`React ${emoji}`}
          onClick={() => props.onPick(emoji)}
        >
          {emoji}
        </button>
      ))}
    </div>
  );
}
