// The reactions under a message: one chip per emoji with its count, pressed when one of them is
// the reader's (a click toggles the reader's own), the names of who reacted on hover and in the
// accessible name; and a button that opens the emoji picker.
import type { MessageView } from "@natschat/client";

export function ReactionBar(props: {
  reactions: MessageView["reactions"];
  /** Whether the chips are in the tab order (the message is the active one). */
  tabbable: boolean;
  onToggle: (emoji: string, on: boolean) => void;
  onPick: () => void;
}) {
  const tabIndex = props.tabbable ? 0 : -1;
  return (
    <fieldset className="reactions">
      <legend className="sr-only">Reactions</legend>
      {props.reactions.map((r) => (
        <button
          key={r.emoji}
          type="button"
          className={`reaction${r.mine ? " mine" : ""}`}
          aria-pressed={r.mine}
          aria-label={`${r.emoji} ${r.count}: ${r.who.join(", ")}${r.mine ? " (remove yours)" : ""}`}
          title={r.who.join(", ")}
          tabIndex={tabIndex}
          onClick={() => props.onToggle(r.emoji, !r.mine)}
        >
          <span aria-hidden="true">{r.emoji}</span>
          <span className="reaction-count">{r.count}</span>
        </button>
      ))}
      <button
        type="button"
        className="reaction add"
        aria-label="Add a reaction"
        title="Add a reaction (+)"
        tabIndex={tabIndex}
        onClick={props.onPick}
      >
        +
      </button>
    </fieldset>
  );
}
