// The terminal chat screen (Ink): a sidebar of channels and DMs (unread counts, online dots), the
// selected conversation's messages (time, issued name, wrapped text), an input line and a status
// line. Tab moves focus between sidebar and input; arrows and Enter select; Enter sends or runs a
// slash command (submit.ts); PageUp/PageDown scroll by pages of rows; Esc closes the help;
// Ctrl-C quits.
//
// The screen fills the terminal exactly and is redrawn at the terminal's new size when it is
// resized (Ink re-lays out the last tree on a resize, but the tree carries the size it was drawn
// for, so the app re-renders itself with the new one).
import {
  type ChatSnapshot,
  type ConversationView,
  commandHelp,
  type SessionState,
} from "@natschat/client";
import { Box, Text, useInput, useStdout } from "ink";
import {
  type ReactNode,
  useCallback,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { type ChatModel, type SidebarEntry, sidebarEntries } from "./model.ts";
import { lastPageTop, messageRows, type Row, visibleRows, wrapLines } from "./rows.ts";
import { type Outcome, submitLine } from "./submit.ts";

/** Width of the sidebar, in columns. */
export const SIDEBAR_WIDTH = 26;

type Focus = "sidebar" | "input";
type Notice = NonNullable<Outcome["notice"]>;

const STATE_COLOR: Record<SessionState, string> = {
  connecting: "yellow",
  connected: "green",
  reconnecting: "yellow",
  revoked: "red",
  expired: "red",
  closed: "gray",
};

const KEYS_HELP = [
  "Enter send · Tab sidebar/input · ↑/↓ + Enter pick a conversation",
  "PageUp/PageDown scroll · Esc close this help · Ctrl-C quit",
];

function Sidebar(props: {
  entries: SidebarEntry[];
  cursor: number;
  selected: string;
  focused: boolean;
  height: number;
}) {
  const { entries, cursor, selected, focused, height } = props;
  const channels = entries.filter((e) => e.kind === "channel");
  const people = entries.filter((e) => e.kind === "dm");
  const row = (e: SidebarEntry, i: number) => {
    const active = focused && i === cursor;
    const marker = e.id === selected ? "›" : " ";
    const unread = e.unread > 0 ? ` (${e.unread})` : "";
    return (
      <Box key={e.id}>
        <Text inverse={active} wrap="truncate-end">
          {marker}
          {e.kind === "dm" ? (
            <Text color={e.online ? "green" : "gray"}>{e.online ? "●" : "○"}</Text>
          ) : (
            ""
          )}
          {e.kind === "dm" ? " " : ""}
          <Text bold={e.unread > 0}>{e.label.slice(0, SIDEBAR_WIDTH - 8)}</Text>
          <Text color="yellow">{unread}</Text>
        </Text>
      </Box>
    );
  };
  return (
    <Box
      flexDirection="column"
      width={SIDEBAR_WIDTH}
      height={height}
      overflow="hidden"
      flexShrink={0}
      borderStyle="round"
      borderColor={focused ? "cyan" : "gray"}
      paddingX={1}
    >
      <Text bold>Channels</Text>
      {channels.map((e) => row(e, entries.indexOf(e)))}
      <Text bold>Direct</Text>
      {people.length === 0 ? <Text dimColor>no one yet</Text> : null}
      {people.map((e) => row(e, entries.indexOf(e)))}
    </Box>
  );
}

function MessageRow({ row }: { row: Row }) {
  const head = row.head;
  return (
    <Text wrap="truncate-end">
      {head ? (
        <>
          <Text dimColor>{head.time} </Text>
          <Text bold color={head.mine ? "cyan" : head.known ? "magenta" : "gray"}>
            {head.name}
          </Text>
          :{row.text ? ` ${row.text}` : ""}
        </>
      ) : (
        row.text || " "
      )}
    </Text>
  );
}

/** What the pane says when there are no messages to show. */
function emptyText(c: ConversationView | undefined): string {
  if (!c) return "";
  if (c.history === "loading") return "loading history…";
  const where = c.kind === "channel" ? `#${c.title}` : `your conversation with ${c.title}`;
  return `${where} is empty: say hello (/help lists the commands)`;
}

function Messages(props: {
  conversation: ConversationView | undefined;
  rows: Row[];
  top: number | undefined;
  help: boolean;
  width: number;
  height: number;
}) {
  const { conversation, rows, top, help, width, height } = props;
  const title = conversation
    ? conversation.kind === "channel"
      ? `#${conversation.title}`
      : `@${conversation.title}${conversation.online ? " (online)" : " (offline)"}`
    : "";
  let body: ReactNode[];
  if (help) {
    const lines = wrapLines(["Commands", ...commandHelp(), "", "Keys", ...KEYS_HELP], width).slice(
      0,
      height,
    );
    // the lines are fixed text: a line's position is its identity
    body = lines.map((l, i) => (
      // biome-ignore lint/suspicious/noArrayIndexKey: fixed lines, never reordered
      <Text key={i} wrap="truncate-end" bold={l === "Commands" || l === "Keys"}>
        {l || " "}
      </Text>
    ));
  } else if (rows.length === 0) {
    body = [
      <Text key="empty" dimColor wrap="truncate-end">
        {emptyText(conversation)}
      </Text>,
    ];
  } else {
    body = visibleRows(rows, height, top).map((r) => <MessageRow key={r.key} row={r} />);
  }
  const atTop = top !== undefined && Math.min(top, lastPageTop(rows.length, height)) === 0;
  return (
    <Box
      flexDirection="column"
      flexGrow={1}
      borderStyle="round"
      borderColor="gray"
      paddingX={1}
      height={height + 3}
    >
      <Text bold wrap="truncate-end">
        {title}
        {help ? <Text dimColor> · help (Esc closes)</Text> : null}
        {!help && conversation?.history === "loading" && rows.length > 0 ? (
          <Text dimColor> loading history…</Text>
        ) : null}
        {conversation?.history === "failed" ? <Text color="red"> history unavailable</Text> : null}
        {!help && top !== undefined ? (
          <Text dimColor>{atTop ? " (oldest loaded" : " (scrolled up"} · PageDown for newer)</Text>
        ) : null}
      </Text>
      <Box flexDirection="column" height={height} justifyContent="flex-end">
        {body}
      </Box>
    </Box>
  );
}

function StatusLine(props: { snap: ChatSnapshot }) {
  const { snap } = props;
  const online = snap.users.filter((u) => u.online && !u.me).length;
  const problem = snap.state !== "connected" ? snap.reason : undefined;
  return (
    <Text wrap="truncate-end">
      <Text color={STATE_COLOR[snap.state]}>● {snap.state}</Text> as{" "}
      <Text bold>{snap.me.name || "…"}</Text> · {online} online
      {snap.dropped > 0 ? ` · ${snap.dropped} dropped` : ""}
      {problem ? <Text color="red"> · {problem}</Text> : null}
      {!problem && snap.notice ? <Text color="yellow"> · {snap.notice}</Text> : null}
      <Text dimColor> · /help · Tab focus · Ctrl-C quit</Text>
    </Text>
  );
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
}

/** The whole chat screen. */
export function ChatApp({ model, onQuit, columns, rows, now = Date.now }: ChatAppProps) {
  const subscribe = useCallback((cb: () => void) => model.onChange(cb), [model]);
  const getSnapshot = useCallback(() => model.snapshot(), [model]);
  const snap = useSyncExternalStore(subscribe, getSnapshot);
  const terminal = useTerminalSize();
  const width = columns ?? terminal.columns;
  const height = rows ?? terminal.rows;
  // Keys can arrive faster than React re-renders (pastes, scripted input): the handler reads
  // focus, cursor, text and scroll from refs that it updates itself; state only re-renders.
  const [focus, setFocusState] = useState<Focus>("input");
  const [cursor, setCursorState] = useState(0);
  const focusRef = useRef<Focus>("input");
  const cursorRef = useRef(0);
  const setFocus = (f: Focus) => {
    focusRef.current = f;
    setFocusState(f);
  };
  const setCursor = (c: number) => {
    cursorRef.current = c;
    setCursorState(c);
  };
  const [text, setTextState] = useState("");
  const textRef = useRef("");
  const setText = (t: string) => {
    textRef.current = t;
    setTextState(t);
  };
  const [notice, setNotice] = useState<Notice | undefined>();
  const [help, setHelp] = useState(false);
  // the first row shown while the reader has scrolled up; undefined: follow the newest
  const [top, setTopState] = useState<number | undefined>(undefined);
  const topRef = useRef<number | undefined>(undefined);
  const setTop = (t: number | undefined) => {
    topRef.current = t;
    setTopState(t);
  };

  const entries = sidebarEntries(snap);
  const selected = [...snap.channels, ...snap.dms].find((c) => c.id === snap.selected);
  // rows of the terminal: the pane's box (title and border: 3), input box (3), status (1)
  const paneHeight = Math.max(1, height - 7 - (notice ? 1 : 0));
  const paneWidth = Math.max(10, width - SIDEBAR_WIDTH - 4);
  const messageRowsNow = messageRows(selected?.messages ?? [], paneWidth, now());
  const rowsRef = useRef(messageRowsNow);
  rowsRef.current = messageRowsNow;
  const page = Math.max(1, paneHeight - 1);

  if (cursorRef.current >= entries.length && entries.length > 0)
    cursorRef.current = entries.length - 1;

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new conversation starts at its newest message
  useEffect(() => setTop(undefined), [snap.selected]);

  const submit = (target: string) => {
    const line = textRef.current;
    const outcome = submitLine(model, target, line);
    setNotice(outcome.notice);
    if (outcome.clear) setText("");
    if (outcome.help) setHelp(true);
    else if (line.trim()) setHelp(false);
    if (outcome.quit) onQuit();
    outcome.sending?.catch((err: unknown) => {
      setNotice({ tone: "error", text: err instanceof Error ? err.message : String(err) });
      if (!textRef.current) setText(line.trim());
    });
  };

  useInput((input, key) => {
    // fresh values, not the ones of the last render (see the refs above)
    const current = model.snapshot();
    const entries = sidebarEntries(current);
    if (key.ctrl && input === "c") {
      onQuit();
      return;
    }
    if (key.escape) {
      setHelp(false);
      setNotice(undefined);
      return;
    }
    if (key.tab) {
      if (focusRef.current === "input") {
        setCursor(
          Math.max(
            0,
            entries.findIndex((e) => e.id === current.selected),
          ),
        );
        setFocus("sidebar");
      } else {
        setFocus("input");
      }
      return;
    }
    if (key.pageUp || key.pageDown) {
      const last = lastPageTop(rowsRef.current.length, paneHeight);
      const from = Math.min(topRef.current ?? last, last);
      const next = key.pageUp ? Math.max(0, from - page) : from + page;
      setTop(next >= last ? undefined : next);
      return;
    }
    if (focusRef.current === "sidebar") {
      const c = cursorRef.current;
      if (key.upArrow) setCursor(Math.max(0, c - 1));
      else if (key.downArrow) setCursor(Math.min(entries.length - 1, c + 1));
      else if (key.return) {
        const entry = entries[c];
        if (entry) {
          model.select(entry.id);
          setHelp(false);
          setFocus("input");
        }
      }
      return;
    }
    if (key.return) {
      submit(current.selected);
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
    // A chunk of typed or pasted text arrives as one event, with its Enter inside it.
    const lines = input.split(/\r\n|\r|\n/);
    lines.forEach((line, i) => {
      setText(typed(textRef.current, line));
      if (i < lines.length - 1) submit(model.snapshot().selected);
    });
  });

  const inputWidth = Math.max(10, width - 6);
  const shownText = text.length > inputWidth ? `…${text.slice(-(inputWidth - 1))}` : text;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box>
        <Sidebar
          entries={entries}
          cursor={cursor}
          selected={snap.selected}
          focused={focus === "sidebar"}
          height={paneHeight + 3}
        />
        <Messages
          conversation={selected}
          rows={messageRowsNow}
          top={top}
          help={help}
          width={paneWidth}
          height={paneHeight}
        />
      </Box>
      <Box borderStyle="round" borderColor={focus === "input" ? "cyan" : "gray"} paddingX={1}>
        <Text wrap="truncate-end">
          <Text color="cyan">› </Text>
          {shownText}
          {focus === "input" ? <Text inverse> </Text> : null}
        </Text>
      </Box>
      {notice ? (
        <Text color={notice.tone === "error" ? "red" : "yellow"} wrap="truncate-end">
          {notice.text}
        </Text>
      ) : null}
      <StatusLine snap={snap} />
    </Box>
  );
}
