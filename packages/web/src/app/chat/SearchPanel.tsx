// Search results in the side panel: newest first over the channels and the reader's own DMs
// (the history service's search: current text, edits included, deleted messages never), with
// "More results" for the next page. A result opens its conversation at the message.
import type { ChatSession } from "@natschat/client";
import { useEffect, useState } from "react";
import { Icon } from "../Icon.tsx";
import { CHAT_ICONS } from "./chat-icons.ts";
import { clockTime, dayLabel } from "./grouping.ts";
import { MessageText } from "./rich-text.tsx";

type SearchPage = Awaited<ReturnType<ChatSession["search"]>>;
export type SearchHit = SearchPage["hits"][number];

export function SearchPanel(props: {
  query: string;
  search: (query: string, cursor?: string) => Promise<SearchPage>;
  /** "#KUBECON" or a person's name, for a conversation id. */
  where: (conversation: string) => string;
  me: string;
  onOpen: (hit: SearchHit) => void;
  onClose: () => void;
}) {
  const { query, search } = props;
  const [hits, setHits] = useState<readonly SearchHit[]>([]);
  const [cursor, setCursor] = useState<string>();
  const [busy, setBusy] = useState(true);
  const [error, setError] = useState<string>();

  useEffect(() => {
    let current = true;
    setHits([]);
    setCursor(undefined);
    setBusy(true);
    setError(undefined);
    search(query).then(
      (page) => {
        if (!current) return;
        setHits(page.hits);
        setCursor(page.cursor);
        setBusy(false);
      },
      (err: Error) => {
        if (!current) return;
        setError(err.message);
        setBusy(false);
      },
    );
    return () => {
      current = false;
    };
  }, [query, search]);

  const more = async () => {
    if (!cursor) return;
    setBusy(true);
    try {
      const page = await search(query, cursor);
      setHits((h) => [...h, ...page.hits]);
      setCursor(page.cursor);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <aside
      className="side-panel"
      aria-label="Search results"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          props.onClose();
        }
      }}
    >
      <header className="side-header">
        <h2>
          Results <span className="muted">for “{query}”</span>
        </h2>
        <button
          type="button"
          className="icon-button"
          aria-label="Close the search results"
          title="Close (Escape)"
          onClick={props.onClose}
        >
          <Icon d={CHAT_ICONS.close} />
        </button>
      </header>
      <div className="side-body">
        {error ? (
          <p className="error-text" role="alert">
            Search failed: {error}
          </p>
        ) : null}
        {!busy && !error && hits.length === 0 && !cursor ? (
          <p className="messages-empty">No messages match “{query}”.</p>
        ) : null}
        <ol className="search-hits" aria-label="Search results">
          {hits.map((hit) => (
            <li key={hit.id}>
              <button type="button" className="search-hit" onClick={() => props.onOpen(hit)}>
                <span className="search-meta">
                  <strong>{hit.display}</strong>
                  <span className="muted">
                    in {props.where(hit.conversation)} · {dayLabel(hit.time)} {clockTime(hit.time)}
                  </span>
                </span>
                <MessageText text={hit.text} segments={hit.segments} me={props.me} />
              </button>
            </li>
          ))}
        </ol>
        {busy ? (
          <p className="muted" role="status">
            Searching…
          </p>
        ) : cursor ? (
          <button type="button" className="secondary more" onClick={() => void more()}>
            More results
          </button>
        ) : hits.length > 0 ? (
          <p className="muted">No more results.</p>
        ) : null}
      </div>
    </aside>
  );
}
