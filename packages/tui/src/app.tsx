// The terminal chat screen (Ink): a sidebar of channels and DMs (unread counts, online dots), the
// selected conversation's messages (time, issued name, wrapped text), an input line and a status
// line. Tab moves focus between sidebar and input; arrows and Enter select; Enter sends;
// PageUp/PageDown scroll; Ctrl-C quits.
import type { ChatSnapshot, ConversationView, SessionState } from "@natschat/client";
import { Box, Text, useInput, useStdout } from "ink";
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import {
  type ChatModel,
  clock,
  type SidebarEntry,
  sidebarEntries,
  visibleMessages,
} from "./model.ts";

/** Width of the sidebar, in columns. */
export const SIDEBAR_WIDTH = 26;

type Focus = "sidebar" | "input";

const STATE_COLOR: Record<SessionState, string> = {
  connecting: "yellow",
  connected: "green",
  reconnecting: "yellow",
  revoked: "red",
  expired: "red",
  closed: "gray",
};

function Sidebar(props: {
  entries: SidebarEntry[];
  cursor: number;
  selected: string;
  focused: boolean;
}) {
  const { entries, cursor, selected, focused } = props;
  const channels = entries.filter((e) => e.kind === "channel");
  const people = entries.filter((e) => e.kind === "dm");
  const row = (e: SidebarEntry, i: number) => {
    const active = focused && i === cursor;
    const marker = e.id === selected ? "›" : " ";
    const unread = e.unread > 0 ? ` (${e.unread})` : "";
    return (
      <Box key={e.id}>
        <Text inverse={active}>
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
      flexShrink={0}
      borderStyle="round"
      borderColor={focused ? "cyan" : "gray"}
      paddingX={1}
    >
      <Text bold>Channels</Text>
      {channels.map((e) => row(e, entries.indexOf(e)))}
      <Text bold>Direct</Text>
      {people.length === 0 ? <Text dimColor>no one online</Text> : null}
      {people.map((e) => row(e, entries.indexOf(e)))}
    </Box>
  );
}

function Messages(props: {
  conversation: ConversationView | undefined;
  width: number;
  height: number;
  scroll: number;
}) {
  const { conversation, width, height, scroll } = props;
  const inner = Math.max(10, width - 4);
  const shown = conversation ? visibleMessages(conversation.messages, inner, height, scroll) : [];
  const title = conversation
    ? conversation.kind === "channel"
      ? `#${conversation.title}`
      : `@${conversation.title}${conversation.online ? " (online)" : ""}`
    : "";
  return (
    <Box flexDirection="column" flexGrow={1} borderStyle="round" borderColor="gray" paddingX={1}>
      <Text bold>
        {title}
        {conversation?.history === "loading" ? <Text dimColor> loading history…</Text> : null}
        {conversation?.history === "failed" ? <Text color="red"> history unavailable</Text> : null}
        {scroll > 0 ? <Text dimColor> (scrolled back {scroll})</Text> : null}
      </Text>
      <Box flexDirection="column" height={height} overflow="hidden" justifyContent="flex-end">
        {shown.length === 0 ? <Text dimColor>no messages yet</Text> : null}
        {shown.map((m) => (
          <Text key={m.id} wrap="wrap">
            <Text dimColor>{clock(m.time)} </Text>
            <Text bold color={m.mine ? "cyan" : m.name === undefined ? "gray" : "magenta"}>
              {m.display}
            </Text>
            <Text>: {m.text}</Text>
          </Text>
        ))}
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
      <Text dimColor> · Tab focus · Ctrl-C quit</Text>
      {problem ? <Text color="red"> · {problem}</Text> : null}
      {!problem && snap.notice ? <Text color="yellow"> · {snap.notice}</Text> : null}
    </Text>
  );
}

/** Props of ChatApp. */
export interface ChatAppProps {
  model: ChatModel;
  /** Called on Ctrl-C. */
  onQuit: () => void;
  /** Terminal size override (tests); defaults to the real terminal. */
  columns?: number;
  rows?: number;
}

/** The whole chat screen. */
export function ChatApp({ model, onQuit, columns, rows }: ChatAppProps) {
  const subscribe = useCallback((cb: () => void) => model.onChange(cb), [model]);
  const getSnapshot = useCallback(() => model.snapshot(), [model]);
  const snap = useSyncExternalStore(subscribe, getSnapshot);
  const { stdout } = useStdout();
  const width = columns ?? stdout?.columns ?? 100;
  const height = rows ?? stdout?.rows ?? 24;
  // Keys can arrive faster than React re-renders (pastes, scripted input): the handler reads
  // focus and cursor from refs that it updates itself, and state only triggers the re-render.
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
  const [error, setError] = useState<string | undefined>();
  const [scroll, setScroll] = useState(0);

  const entries = sidebarEntries(snap);
  const selected = [...snap.channels, ...snap.dms].find((c) => c.id === snap.selected);
  const paneHeight = Math.max(3, height - 7 - (error ? 1 : 0));

  if (cursorRef.current >= entries.length && entries.length > 0)
    cursorRef.current = entries.length - 1;

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new conversation starts at its newest message
  useEffect(() => setScroll(0), [snap.selected]);

  const submit = (target: string) => {
    const message = textRef.current.trim();
    if (!message) return;
    setText("");
    setError(undefined);
    model.send(target, message).catch((err: unknown) => {
      setError(err instanceof Error ? err.message : String(err));
      setText(message);
    });
  };

  useInput((input, key) => {
    // fresh values, not the ones of the last render (see the refs above)
    const now = model.snapshot();
    const entries = sidebarEntries(now);
    if (key.ctrl && input === "c") {
      onQuit();
      return;
    }
    if (key.tab) {
      if (focusRef.current === "input") {
        setCursor(
          Math.max(
            0,
            entries.findIndex((e) => e.id === now.selected),
          ),
        );
        setFocus("sidebar");
      } else {
        setFocus("input");
      }
      return;
    }
    if (key.pageUp) {
      setScroll((s) =>
        Math.min(
          s + Math.max(1, paneHeight - 2),
          Math.max(0, (selected?.messages.length ?? 1) - 1),
        ),
      );
      return;
    }
    if (key.pageDown) {
      setScroll((s) => Math.max(0, s - Math.max(1, paneHeight - 2)));
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
          setFocus("input");
        }
      }
      return;
    }
    if (key.return) {
      submit(now.selected);
      return;
    }
    if (key.backspace || key.delete) {
      setText(textRef.current.slice(0, -1));
      return;
    }
    if (
      key.ctrl ||
      key.meta ||
      key.escape ||
      key.upArrow ||
      key.downArrow ||
      key.leftArrow ||
      key.rightArrow
    ) {
      return;
    }
    if (!input) return;
    // A chunk of typed or pasted text arrives as one event, with its Enter inside it.
    const lines = input.split(/\r\n|\r|\n/);
    lines.forEach((line, i) => {
      setText(textRef.current + line);
      if (i < lines.length - 1) submit(now.selected);
    });
  });

  const inputWidth = Math.max(10, width - 4);
  const shownText = text.length > inputWidth ? `…${text.slice(-(inputWidth - 1))}` : text;
  return (
    <Box flexDirection="column" width={width}>
      <Box>
        <Sidebar
          entries={entries}
          cursor={cursor}
          selected={snap.selected}
          focused={focus === "sidebar"}
        />
        <Messages
          conversation={selected}
          width={width - SIDEBAR_WIDTH}
          height={paneHeight}
          scroll={scroll}
        />
      </Box>
      <Box borderStyle="round" borderColor={focus === "input" ? "cyan" : "gray"} paddingX={1}>
        <Text>
          <Text color="cyan">› </Text>
          {shownText}
          {focus === "input" ? <Text inverse> </Text> : null}
        </Text>
      </Box>
      {error ? (
        <Text color="red" wrap="truncate-end">
          {error}
        </Text>
      ) : null}
      <StatusLine snap={snap} />
    </Box>
  );
}
