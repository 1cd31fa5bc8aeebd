// The terminal chat screen (Ink): a sidebar of channels and DMs, the message pane, an input line
// and a status line (parts drawn by panes.tsx). The keys:
//   input     Enter sends or runs a slash command (submit.ts); Tab completes "@name", else moves
//             focus to the sidebar; PageUp/PageDown scroll; Esc closes help, a notice, a reply
//             or an edit being written, then a thread; with nothing to close it selects a message
//   select    (Esc or Alt+↑) ↑/↓ move; r reply, e edit, d delete (y confirms), + react (an emoji
//             prompt; 1–5 react at once), t or Enter open the thread; Esc back to the input
//   thread    the root and its replies; what is sent goes into the thread; Esc back
//   search    (/search TEXT) ↑/↓ pick a hit, Enter opens its conversation, n loads more, Esc
//   sidebar   ↑/↓ and Enter pick a conversation; Tab back to the input
// A mention of me or a DM (unless muted) rings the terminal bell and marks its conversation in
// the sidebar until it is opened. Ctrl-C quits.
//
// The screen fills the terminal exactly and is redrawn at the terminal's new size when it is
// resized (Ink re-lays out the last tree on a resize, but the tree carries the size it was drawn
// for, so the app re-renders itself with the new one).
import { type ConversationView, commandHelp, type MessageView } from "@natschat/client";
import { Box, Text, useInput, useStdout } from "ink";
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { completeMention, mentionAtEnd, typingLine } from "./compose.ts";
import { useLatest } from "./latest.ts";
import { type AlertReason, type ChatModel, conversationLabel, sidebarEntries } from "./model.ts";
import {
  atOldest,
  InputLine,
  Pane,
  type PaneContent,
  QUICK_REACTIONS,
  SIDEBAR_WIDTH,
  Sidebar,
  StatusLine,
} from "./panes.tsx";
import {
  lastPageTop,
  messageRows,
  plainText,
  type Row,
  rowsOf,
  separator,
  spanOf,
  topShowing,
  wrapLines,
} from "./rows.ts";
import { searchRows, useSearch } from "./search.ts";
import { type Outcome, submitLine } from "./submit.ts";

export { QUICK_REACTIONS, SIDEBAR_WIDTH };

/** Where keys go. */
type Focus = "input" | "sidebar" | "select" | "react" | "confirm" | "search";
type Notice = NonNullable<Outcome["notice"]>;

const KEYS_HELP = [
  "Enter send · Tab complete @name, or sidebar/input · ↑/↓ + Enter pick a conversation",
  "Esc (or Alt+↑) select a message: ↑/↓ move · r reply · e edit · d delete · + react (1–5:",
  `  ${QUICK_REACTIONS.map((e, i) => `${i + 1} ${e}`).join(" ")}) · t thread · Esc back`,
  "Thread: what you send is a reply in it; Esc back to the channel",
  "Search: ↑/↓ pick · Enter open · n more results · Esc close",
  "PageUp/PageDown scroll · Esc close this help · Ctrl-C quit",
];

/** A reply or an edit being written. */
interface Draft {
  replyTo?: { id: string; display: string };
  editing?: string;
}

/** The terminal's size, re-read on every resize. */
function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = useCallback(
    () => ({ columns: stdout?.columns || 100, rows: stdout?.rows || 24 }),
    [stdout],
  );
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (!stdout) return;
    const onResize = () => setSize(read());
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout, read]);
  return size;
}

/** `text` without its last character (a whole emoji, not half of it). */
function withoutLast(text: string): string {
  return Array.from(text).slice(0, -1).join("");
}

/**
 * `text` after typing `chunk`: a chunk holds several keys when they come fast (a paste, keys
 * held down), so backspaces inside it delete, and other control characters are dropped.
 */
function typed(text: string, chunk: string): string {
  let out = text;
  for (const ch of chunk) {
    if (ch === "\u007F" || ch === "\b") out = withoutLast(out);
    else if (ch >= " ") out += ch;
  }
  return out;
}

/** The first words of a message, for a prompt. */
function excerpt(m: MessageView, max = 30): string {
  const t = m.deleted ? "(deleted)" : plainText(m).replace(/\s+/g, " ");
  const chars = Array.from(t);
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : t;
}

/** What the empty pane says for conversation `c`. */
function emptyText(c: ConversationView | undefined): string {
  if (!c) return "";
  if (c.history === "loading") return "loading history…";
  const where = c.kind === "channel" ? `#${c.title}` : `your conversation with ${c.title}`;
  return `${where} is empty: say hello (/help lists the commands)`;
}

/** Props of ChatApp. */
export interface ChatAppProps {
  model: ChatModel;
  /** Called on Ctrl-C and /quit. */
  onQuit: () => void;
  /** Terminal size override (tests); defaults to the real terminal, followed on resize. */
  columns?: number;
  rows?: number;
  /** The clock (tests): decides whether a message's time shows its day. */
  now?: () => number;
  /** Rings the bell (tests count); defaults to writing BEL to the terminal. */
  bell?: () => void;
}

/** The whole chat screen. */
export function ChatApp({ model, onQuit, columns, rows, now = Date.now, bell }: ChatAppProps) {
  const subscribe = useCallback((cb: () => void) => model.onChange(cb), [model]);
  const getSnapshot = useCallback(() => model.snapshot(), [model]);
  const snap = useSyncExternalStore(subscribe, getSnapshot);
  const terminal = useTerminalSize();
  const { stdout } = useStdout();
  const width = columns ?? terminal.columns;
  const height = rows ?? terminal.rows;
  const [focus, focusRef, setFocus] = useLatest<Focus>("input");
  const [cursor, cursorRef, setCursor] = useLatest(0);
  const [text, textRef, setText] = useLatest("");
  const [prompt, promptRef, setPrompt] = useLatest("");
  const [draft, draftRef, setDraft] = useLatest<Draft>({});
  const [picked, pickedRef, setPicked] = useLatest<string | undefined>(undefined);
  // the first row shown while the reader has scrolled up; undefined: follow the newest
  const [top, topRef, setTop] = useLatest<number | undefined>(undefined);
  const [alerts, setAlerts] = useState<ReadonlyMap<string, AlertReason>>(new Map());
  const [notice, setNotice] = useState<Notice | undefined>();
  const [help, helpRef, setHelp] = useLatest(false);
  // the names that Tab offered for the mention at `at`, and the text it made
  const completion = useRef<
    { at: number; names: string[]; index: number; text: string } | undefined
  >(undefined);
  const searcher = useSearch(model, (id) => setPicked(id));
  const search = searcher.view;

  const entries = sidebarEntries(snap);
  const thread = snap.thread;
  const selected = [...snap.channels, ...snap.dms].find((c) => c.id === snap.selected);
  const talkingIn = thread?.conversation ?? snap.selected;
  const talking = [...snap.channels, ...snap.dms].find((c) => c.id === talkingIn);
  // rows of the terminal: the pane's box (title and border: 3), input box (3), status (1)
  const paneHeight = Math.max(1, height - 7 - (notice ? 1 : 0));
  const paneWidth = Math.max(10, width - SIDEBAR_WIDTH - 4);
  const typing = help || search ? "" : typingLine(talking?.typing ?? []);
  const bodyHeight = typing ? Math.max(1, paneHeight - 1) : paneHeight;
  const at = now();

  // the messages on screen (what select mode moves over) and their rows
  const items: readonly MessageView[] = search
    ? search.hits
    : thread
      ? [...(thread.root ? [thread.root] : []), ...thread.replies]
      : (selected?.messages ?? []);
  let paneRows: Row[];
  if (search) paneRows = searchRows(snap, search, paneWidth, at);
  else if (thread) {
    const root = thread.root ? rowsOf(thread.root, paneWidth, at, snap.me.key) : [];
    const n = thread.replies.length;
    paneRows = [
      ...root,
      separator("replies", n === 1 ? "1 reply" : `${n} replies`, paneWidth),
      ...messageRows(thread.replies, paneWidth, at, {
        me: snap.me.key,
        ...(thread.root ? { rootId: thread.root.id } : {}),
      }),
    ];
  } else {
    paneRows = messageRows(selected?.messages ?? [], paneWidth, at, {
      me: snap.me.key,
      ...(selected?.firstUnread ? { firstUnread: selected.firstUnread } : {}),
    });
  }
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const rowsRef = useRef(paneRows);
  rowsRef.current = paneRows;
  const bodyHeightRef = useRef(bodyHeight);
  bodyHeightRef.current = bodyHeight;
  const page = Math.max(1, bodyHeight - 1);

  if (cursorRef.current >= entries.length && entries.length > 0)
    cursorRef.current = entries.length - 1;

  // a new conversation or view starts at its newest message (search results: at their first,
  // the newest, hit)
  const searching = search !== undefined;
  // biome-ignore lint/correctness/useExhaustiveDependencies: these are the triggers
  useEffect(
    () => setTop(searching ? 0 : undefined),
    [snap.selected, thread?.root?.id, search?.query],
  );

  // a mention of me or a DM: the bell, and a marker until its conversation is opened
  const ring = useCallback(() => {
    if (bell) bell();
    else stdout?.write("\u0007");
  }, [bell, stdout]);
  useEffect(
    () =>
      model.onNotify((n) => {
        ring();
        if (n.conversation === model.snapshot().selected) return;
        setAlerts((a) => new Map(a).set(n.conversation, n.reason));
      }),
    [model, ring],
  );
  // another conversation: a thread, reply or edit of the last one does not come along
  // biome-ignore lint/correctness/useExhaustiveDependencies: the trigger is the conversation
  useEffect(() => {
    const open = model.snapshot().thread;
    if (open && open.conversation !== snap.selected) model.closeThread();
    if (draftRef.current.editing) setText("");
    if (draftRef.current.editing || draftRef.current.replyTo) setDraft({});
  }, [snap.selected]);
  useEffect(() => {
    setAlerts((a) => {
      if (!a.has(snap.selected)) return a;
      const next = new Map(a);
      next.delete(snap.selected);
      return next;
    });
  }, [snap.selected]);

  /** Puts the selection on `id` (the effect below scrolls to it). */
  const pick = (id: string | undefined) => setPicked(id);

  // the selected message (or search hit) stays on screen: when it moves, and when rows come in
  // biome-ignore lint/correctness/useExhaustiveDependencies: these are the triggers
  useEffect(() => {
    if (picked === undefined) return;
    const span = spanOf(rowsRef.current, picked);
    if (span)
      setTop(topShowing(rowsRef.current.length, bodyHeightRef.current, topRef.current, span));
  }, [picked, paneRows.length, bodyHeight]);

  /** The message the selection is on, if it is still shown (never a stand-in: keys act on it). */
  const pickedMessage = (): MessageView | undefined =>
    itemsRef.current.find((m) => m.id === pickedRef.current);

  const fail = (err: unknown) =>
    setNotice({ tone: "error", text: err instanceof Error ? err.message : String(err) });

  /** Select mode, on the newest message shown. */
  const enterSelect = () => {
    const last = itemsRef.current.at(-1);
    if (!last) {
      setNotice({ tone: "info", text: "no message here to select" });
      return;
    }
    setNotice(undefined);
    setFocus("select");
    pick(last.id);
  };

  const react = (m: MessageView, emoji: string) => {
    const mine = m.reactions.some((r) => r.emoji === emoji && r.mine);
    model.react(m.id, emoji, !mine).catch(fail);
  };

  const closeSearch = () => {
    searcher.close();
    setPicked(undefined);
    setFocus("input");
  };

  const submit = () => {
    const line = textRef.current;
    const d = draftRef.current;
    const current = model.snapshot();
    const target = current.thread?.conversation ?? current.selected;
    if (d.editing) {
      const edited = line.trim();
      if (edited === "") {
        setNotice({
          tone: "error",
          text: "an edit cannot be empty: Esc keeps the message, d on it deletes it",
        });
        return;
      }
      const id = d.editing;
      setText("");
      setDraft({});
      setNotice(undefined);
      model.edit(id, edited).catch((err: unknown) => {
        fail(err);
        if (!textRef.current) {
          setText(edited);
          setDraft({ editing: id });
        }
      });
      return;
    }
    const replyTo = d.replyTo?.id ?? current.thread?.root?.id;
    const outcome = submitLine(model, target, line, replyTo);
    setNotice(outcome.notice);
    if (outcome.clear) {
      setText("");
      if (outcome.sending) setDraft({});
    }
    if (outcome.help) setHelp(true);
    else if (line.trim()) setHelp(false);
    if (outcome.quit) onQuit();
    if (outcome.search !== undefined) {
      searcher.start(outcome.search);
      setFocus("search");
    }
    outcome.sending?.catch((err: unknown) => {
      fail(err);
      if (!textRef.current) {
        setText(line.trim());
        setDraft(d);
      }
    });
  };

  /** Esc in the input or the sidebar: closes the nearest thing, or starts selecting. */
  const closeNearest = () => {
    if (helpRef.current || notice) {
      setHelp(false);
      setNotice(undefined);
    } else if (draftRef.current.editing) {
      setDraft({});
      setText("");
    } else if (draftRef.current.replyTo) {
      setDraft({});
    } else if (model.snapshot().thread) {
      model.closeThread();
      setPicked(undefined);
    } else enterSelect();
  };

  const selectKeys = (input: string, key: Key) => {
    const list = itemsRef.current;
    const m = pickedMessage();
    if (key.escape || list.length === 0) {
      setFocus("input");
      setPicked(undefined);
      return;
    }
    if (!m) {
      // it is gone (evicted, or the view changed): the newest, and no action on a stand-in
      pick(list.at(-1)?.id);
      return;
    }
    const i = list.indexOf(m);
    if (key.upArrow || input === "k") pick(list[Math.max(0, i - 1)]?.id);
    else if (key.downArrow || input === "j") pick(list[Math.min(list.length - 1, i + 1)]?.id);
    else if (input === "r") {
      if (m.deleted) return setNotice({ tone: "error", text: "that message was deleted" });
      setDraft({ replyTo: { id: m.id, display: m.display } });
      setFocus("input");
      setNotice(undefined);
    } else if (input === "e") {
      if (!m.mine) return setNotice({ tone: "error", text: "you can edit only your own messages" });
      if (m.deleted)
        return setNotice({ tone: "error", text: "a deleted message cannot be edited" });
      setDraft({ editing: m.id });
      setText(plainText(m));
      setFocus("input");
      setNotice(undefined);
    } else if (input === "d") {
      if (!m.mine)
        return setNotice({ tone: "error", text: "you can delete only your own messages" });
      if (m.deleted) return setNotice({ tone: "info", text: "that message is deleted already" });
      setFocus("confirm");
      setNotice(undefined);
    } else if (input === "+") {
      if (m.deleted) return setNotice({ tone: "error", text: "that message was deleted" });
      setPrompt("");
      setFocus("react");
      setNotice(undefined);
    } else if (/^[1-5]$/.test(input)) {
      if (m.deleted) return setNotice({ tone: "error", text: "that message was deleted" });
      react(m, QUICK_REACTIONS[Number(input) - 1] as string);
    } else if (input === "t" || key.return) {
      model.openThread(m.id);
      setPicked(undefined);
      setFocus("input");
      setNotice(undefined);
    } else if (key.tab) {
      setPicked(undefined);
      setFocus("input");
    }
  };

  /** Tab in the input: completes the "@name" being typed (again: the next one); false if none. */
  const completeAtEnd = (): boolean => {
    const c = completion.current;
    if (c && c.names.length > 1 && textRef.current === c.text) {
      // Tab again, nothing typed since: the next candidate
      const index = (c.index + 1) % c.names.length;
      const next = completeMention(textRef.current, c.at, c.names[index] as string);
      completion.current = { ...c, index, text: next };
      setText(next);
      return true;
    }
    const mention = mentionAtEnd(textRef.current);
    if (!mention) return false;
    const names = model.mentionCandidates(mention.prefix).map((u) => u.name);
    if (names.length === 0) return false;
    const next = completeMention(textRef.current, mention.at, names[0] as string);
    completion.current = { at: mention.at, names, index: 0, text: next };
    setText(next);
    setNotice(
      names.length > 1 ? { tone: "info", text: `Tab again: ${names.join(", ")}` } : undefined,
    );
    return true;
  };

  type Key = Parameters<Parameters<typeof useInput>[0]>[1];

  /** One key (or chunk of typed text). */
  const onKey = (input: string, key: Key) => {
    // fresh values, not the ones of the last render (see useLatest)
    const current = model.snapshot();
    const entries = sidebarEntries(current);
    if (key.ctrl && input === "c") {
      onQuit();
      return;
    }
    const f = focusRef.current;
    const chars = Array.from(input);
    if ((f === "select" || f === "confirm" || f === "search") && chars.length > 1) {
      // keys typed fast come as one chunk: one at a time (a key may move focus to the input)
      for (const ch of chars) onKey(ch, { ...key, return: ch === "\r" || ch === "\n" });
      return;
    }
    if (f === "confirm") {
      const m = pickedMessage();
      setFocus("select");
      if (input === "y" && m) {
        model.remove(m.id).catch(fail);
        setNotice(undefined);
      } else setNotice({ tone: "info", text: "kept" });
      return;
    }
    if (f === "react") {
      const m = pickedMessage();
      if (key.escape || !m) {
        setFocus("select");
        return;
      }
      if (promptRef.current === "" && /^[1-5]$/.test(input)) {
        react(m, QUICK_REACTIONS[Number(input) - 1] as string);
        setFocus("select");
        return;
      }
      if (key.backspace || key.delete) return setPrompt(withoutLast(promptRef.current));
      if (key.ctrl || key.meta) return;
      // an emoji and its Enter can come as one chunk (a paste, a compose key)
      const [first = "", ...rest] = input.split(/\r\n|\r|\n/);
      setPrompt(typed(promptRef.current, first));
      if (key.return || rest.length > 0) {
        const emoji = promptRef.current.trim();
        if (emoji) react(m, emoji);
        setFocus("select");
      }
      return;
    }
    if (f === "search") {
      const s = searcher.ref.current;
      if (key.escape || !s) return closeSearch();
      if (key.upArrow || input === "k") searcher.move(-1);
      else if (key.downArrow || input === "j") searcher.move(1);
      else if (input === "n") searcher.more();
      else if (key.return) {
        const hit = s.hits[s.index];
        if (!hit) return;
        closeSearch();
        if (current.thread) model.closeThread();
        model.select(hit.conversation);
      }
      return;
    }
    if (f === "select") {
      selectKeys(input, key);
      return;
    }
    if (key.escape) {
      closeNearest();
      return;
    }
    if (key.meta && key.upArrow) {
      enterSelect();
      return;
    }
    if (key.tab) {
      if (f === "input" && completeAtEnd()) return;
      if (f === "input") {
        setCursor(
          Math.max(
            0,
            entries.findIndex((e) => e.id === current.selected),
          ),
        );
        setFocus("sidebar");
      } else setFocus("input");
      return;
    }
    completion.current = undefined;
    if (key.pageUp || key.pageDown) {
      const last = lastPageTop(rowsRef.current.length, bodyHeightRef.current);
      const from = Math.min(topRef.current ?? last, last);
      const next = key.pageUp ? Math.max(0, from - page) : from + page;
      setTop(next >= last ? undefined : next);
      return;
    }
    if (f === "sidebar") {
      const c = cursorRef.current;
      if (key.upArrow) setCursor(Math.max(0, c - 1));
      else if (key.downArrow) setCursor(Math.min(entries.length - 1, c + 1));
      else if (key.return) {
        const entry = entries[c];
        if (entry) {
          if (current.thread) model.closeThread();
          model.select(entry.id);
          setHelp(false);
          setDraft({});
          setFocus("input");
        }
      }
      return;
    }
    if (key.return) {
      submit();
      return;
    }
    if (key.backspace || key.delete) {
      setText(withoutLast(textRef.current));
      return;
    }
    if (key.ctrl || key.meta || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) {
      return;
    }
    if (!input) return;
    // A chunk of typed or pasted text arrives as one event, with its Enter (or a Tab that
    // completes a mention) inside it.
    const lines = input.split(/\r\n|\r|\n/);
    lines.forEach((line, i) => {
      line.split("\t").forEach((part, j) => {
        if (j > 0) completeAtEnd();
        setText(typed(textRef.current, part));
      });
      if (i < lines.length - 1) submit();
    });
    const now = textRef.current;
    if (now.trim() !== "" && !now.startsWith("/") && !draftRef.current.editing) {
      model.typing(current.thread?.conversation ?? current.selected);
    }
  };

  useInput((input, key) => {
    const moves = key.upArrow || key.downArrow || key.leftArrow || key.rightArrow;
    if (key.meta && input !== "" && !moves && !key.pageUp && !key.pageDown) {
      // Esc and the next key read as one (ESC x is also how a terminal sends Alt+x): Esc, then x
      onKey("", { ...key, meta: false, escape: true });
      onKey(input, { ...key, meta: false });
    } else onKey(input, key);
  });

  // --- what the pane shows ---------------------------------------------------------------
  let content: PaneContent;
  if (help) {
    content = {
      title: (
        <>
          {selected
            ? selected.kind === "channel"
              ? `#${selected.title}`
              : `@${selected.title}`
            : ""}
          <Text dimColor> · help (Esc closes)</Text>
        </>
      ),
      lines: wrapLines(["Commands", ...commandHelp(), "", "Keys", ...KEYS_HELP], paneWidth),
      typing: "",
    };
  } else if (search) {
    content = {
      title: (
        <>
          search "{search.query}"
          <Text dimColor>
            {" "}
            · {search.hits.length} {search.hits.length === 1 ? "result" : "results"}
            {search.cursor ? ", more with n" : ""} · Enter opens · Esc closes
          </Text>
        </>
      ),
      rows: paneRows,
      ...(picked ? { selected: picked } : {}),
      typing: "",
      fromTop: true,
    };
  } else {
    const scrolled = top !== undefined;
    const oldest = atOldest(paneRows.length, bodyHeight, top);
    const where = thread
      ? `thread in ${conversationLabel(snap, thread.conversation)}`
      : selected
        ? selected.kind === "channel"
          ? `#${selected.title}`
          : `@${selected.title}${selected.online ? " (online)" : " (offline)"}`
        : "";
    content = {
      title: (
        <>
          {where}
          {selected?.muted && !thread ? <Text dimColor> (muted)</Text> : null}
          {thread ? <Text dimColor> · Esc back</Text> : null}
          {thread?.loading ? <Text dimColor> loading…</Text> : null}
          {!thread && selected?.history === "loading" && paneRows.length > 0 ? (
            <Text dimColor> loading history…</Text>
          ) : null}
          {!thread && selected?.history === "failed" ? (
            <Text color="red"> history unavailable</Text>
          ) : null}
          {scrolled ? (
            <Text dimColor>
              {oldest ? " (oldest loaded" : " (scrolled up"} · PageDown for newer)
            </Text>
          ) : null}
        </>
      ),
      rows: paneRows,
      empty: thread
        ? thread.loading
          ? "loading thread…"
          : "original not available"
        : emptyText(selected),
      ...(picked && (focus === "select" || focus === "react" || focus === "confirm")
        ? { selected: picked }
        : {}),
      typing,
    };
  }

  const pm = picked ? items.find((m) => m.id === picked) : undefined;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box>
        <Sidebar
          entries={entries}
          cursor={cursor}
          selected={snap.selected}
          focused={focus === "sidebar"}
          height={paneHeight + 3}
          alerts={alerts}
        />
        <Pane content={content} top={top} height={paneHeight} />
      </Box>
      <InputLine
        mode={focus}
        text={text}
        prompt={prompt}
        label={
          draft.editing
            ? "edit › "
            : draft.replyTo
              ? `↪ ${draft.replyTo.display} › `
              : thread
                ? "↪ thread › "
                : "› "
        }
        asking={pm ? excerpt(pm) : ""}
        width={width}
      />
      {notice ? (
        <Text color={notice.tone === "error" ? "red" : "yellow"} wrap="truncate-end">
          {notice.text}
        </Text>
      ) : null}
      <StatusLine snap={snap} />
    </Box>
  );
}
