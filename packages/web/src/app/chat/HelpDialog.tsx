// The in-app help: the slash commands (from the shared parser's list) and the keyboard shortcuts.
import { COMMANDS } from "@natschat/client";
import { Dialog } from "../Dialog.tsx";

const SHORTCUTS: readonly [string, string][] = [
  ["Ctrl+K", "switch to a channel or person (offline people too)"],
  ["Alt+↑ / Alt+↓", "previous / next conversation"],
  ["Enter / Shift+Enter", "send / new line"],
  ["@", "mention someone: ↑/↓ choose, Enter or Tab picks"],
  ["↑ (empty input)", "go to the messages"],
  ["↑ / ↓, Home / End", "on a message: previous / next, first / last"],
  ["r", "reply to the message"],
  ["+", "react (←/→ choose an emoji, Enter picks)"],
  ["e / Delete", "edit / delete your message"],
  ["t or Enter", "open the message's thread"],
  ["Escape", "back to the input; close the thread or the search results"],
  ["Ctrl+Shift+F", "search channels and your DMs"],
];

const FORMATTING =
  "**bold**, *italic* or _italic_, `code`, ``` code blocks ```; links open in a new tab";

export function HelpDialog(props: { onClose: () => void }) {
  // the terminal's /quit has no meaning in a tab
  const commands = COMMANDS.filter((c) => c.usage !== "/quit");
  return (
    <Dialog title="Commands" className="help" onClose={props.onClose}>
      <div className="dialog-body">
        <dl className="help-list">
          {commands.map((c) => (
            <div key={c.usage}>
              <dt>
                <code>{c.usage}</code>
                {c.aliases.length > 0 ? (
                  <span className="muted"> also {c.aliases.join(", ")}</span>
                ) : null}
              </dt>
              <dd>{c.summary}</dd>
            </div>
          ))}
          {SHORTCUTS.map(([keys, what]) => (
            <div key={keys}>
              <dt>
                <kbd>{keys}</kbd>
              </dt>
              <dd>{what}</dd>
            </div>
          ))}
        </dl>
        <p className="muted">Formatting: {FORMATTING}.</p>
      </div>
      <div className="row end">
        <button type="button" className="primary" onClick={props.onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
