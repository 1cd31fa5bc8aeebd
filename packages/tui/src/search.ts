// /search in the terminal: the results view (hits newest first, each under its conversation's
// name), the hit the selection is on, and paging with the service's cursor. A page that comes
// back after the search was closed or replaced is dropped.
import type { ChatSnapshot, SearchHit } from "@natschat/client";
import { useRef } from "react";
import { useLatest } from "./latest.ts";
import { type ChatModel, conversationLabel } from "./model.ts";
import { type Row, rowsOf, separator } from "./rows.ts";

/** Search results on screen. */
export interface SearchView {
  query: string;
  hits: readonly SearchHit[];
  cursor?: string;
  loading: boolean;
  error?: string;
  /** The hit the selection is on. */
  index: number;
}

/** The rows of search results: each hit under its conversation's name, then where paging is. */
export function searchRows(snap: ChatSnapshot, s: SearchView, width: number, now: number): Row[] {
  const rows = s.hits.flatMap((h): Row[] => [
    {
      key: `${h.id}/c`,
      message: h.id,
      kind: "quote",
      text: conversationLabel(snap, h.conversation),
    },
    ...rowsOf(h, width, now, snap.me.key),
  ]);
  if (s.loading) rows.push(separator("searching", "searching…", width));
  else if (s.error) rows.push(separator("error", s.error, width));
  else if (s.cursor) rows.push(separator("more", "n: more results", width));
  else rows.push(separator("end", s.hits.length === 0 ? "no results" : "end of results", width));
  return rows;
}

/** The search on screen; `onPick` is told the hit the selection moves to. */
export function useSearch(model: ChatModel, onPick: (id: string) => void) {
  const [view, ref, set] = useLatest<SearchView | undefined>(undefined);
  const run = useRef(0);

  /** Asks for the first page of `query`, or the next page of `more`. */
  const fetch = (query: string, more: SearchView | undefined) => {
    const mine = ++run.current;
    const base: SearchView = more ?? { query, hits: [], loading: true, index: 0 };
    set({ ...base, loading: true });
    model
      .search(query, more?.cursor ? { cursor: more.cursor } : {})
      .then((page) => {
        if (mine !== run.current) return;
        const hits = [...base.hits, ...page.hits];
        // a next page puts the selection on its first hit
        const index = more ? Math.min(base.hits.length, hits.length - 1) : 0;
        set({
          query,
          hits,
          loading: false,
          index,
          ...(page.cursor ? { cursor: page.cursor } : {}),
        });
        const id = hits[index]?.id;
        if (id) onPick(id);
      })
      .catch((err: unknown) => {
        if (mine !== run.current) return;
        set({ ...base, loading: false, error: err instanceof Error ? err.message : String(err) });
      });
  };

  return {
    view,
    ref,
    start: (query: string) => fetch(query, undefined),
    /** The next page, if there is one and none is on its way. */
    more: () => {
      const s = ref.current;
      if (s?.cursor && !s.loading) fetch(s.query, s);
    },
    /** Moves the selection by `delta` hits. */
    move: (delta: number) => {
      const s = ref.current;
      if (!s || s.hits.length === 0) return;
      const index = Math.max(0, Math.min(s.hits.length - 1, s.index + delta));
      set({ ...s, index });
      onPick(s.hits[index]?.id as string);
    },
    close: () => {
      run.current++;
      set(undefined);
    },
  };
}
