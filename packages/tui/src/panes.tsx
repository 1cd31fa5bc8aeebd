// The parts of the chat screen, drawn from what ChatApp (app.tsx) hands them: the sidebar (unread
// counts, online dots, a marker for a mention or a DM, muted conversations dimmed), the message
// pane (a conversation, a thread, search results or the help: rows made by rows.ts, the selected
// message in inverse video, the typing line at its foot), the input line and the status line.
import type { ChatSnapshot, SessionState } from "@natschat/client";
import { Box, Text } from "ink";
import type { ReactNode } from "react";
import type { AlertReason, SidebarEntry } from "./model.ts";
import { lastPageTop, type Row, visibleRows } from "./rows.ts";

/** Width of the sidebar, in columns. */
export const SIDEBAR_WIDTH = 26;

const STATE_COLOR: Record<SessionState, string> = {
  connecting: "yellow",
  connected: "green",
  reconnecting: "yellow",
  revoked: "red",
  expired: "red",
  closed: "gray",
};

/** The emoji that 1–5 stand for, in the react prompt and in select mode. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "👀"] as const;

/** The marker of a conversation that asks for attention: "@" a mention, "!" a DM. */
export const ALERT_MARK: Record<AlertReason, string> = { mention: "@", dm: "!" };

export function Sidebar(props: {
  entries: SidebarEntry[];
  cursor: number;
  selected: string;
  focused: boolean;
  height: number;
  alerts: ReadonlyMap<string, AlertReason>;
}) {
  const { entries, cursor, selected, focused, height, alerts } = props;
  const channels = entries.filter((e) => e.kind === "channel");
  const people = entries.filter((e) => e.kind === "dm");
  const row = (e: SidebarEntry, i: number) => {
    const active = focused && i === cursor;
    const marker = e.id === selected ? "›" : " ";
    const unread = e.unread > 0 ? ` (${e.unread})` : "";
    const alert = alerts.get(e.id) ?? (e.mentions > 0 ? "mention" : undefined);
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
          <Text bold={e.unread > 0 && !e.muted} dimColor={e.muted}>
            {e.label.slice(0, SIDEBAR_WIDTH - 10)}
          </Text>
          <Text color="yellow">{unread}</Text>
          {alert ? (
            <Text color="red" bold>
              {" "}
              {ALERT_MARK[alert]}
            </Text>
          ) : null}
          {e.muted ? <Text dimColor> muted</Text> : null}
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

function MessageRow({ row, selected }: { row: Row; selected: boolean }) {
  const head = row.head;
  if (row.kind === "separator") {
    return (
      <Text
        wrap="truncate-end"
        color={row.key === "new" ? "yellow" : undefined}
        dimColor={row.key !== "new"}
      >
        {row.text}
      </Text>
    );
  }
  return (
    <Text wrap="truncate-end" inverse={selected} dimColor={row.kind === "quote"}>
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

/** What the message pane shows. */
export interface PaneContent {
  /** Its title line (the pane's first row). */
  title: ReactNode;
  /** Fixed lines (help), or rows that scroll (messages, thread, search results). */
  lines?: string[];
  rows?: Row[];
  /** What it says when there are no rows. */
  empty?: string;
  /** The message shown in inverse (selection), by id. */
  selected?: string;
  /** The typing line at the foot ("" for none). */
  typing: string;
  /** Rows start at the top (a list read from the top, as search results), not at the bottom. */
  fromTop?: boolean;
}

/** The message pane: `height` rows under the title, the last one for the typing line if any. */
export function Pane(props: { content: PaneContent; top: number | undefined; height: number }) {
  const { content, top, height } = props;
  const bodyHeight = content.typing ? Math.max(1, height - 1) : height;
  let body: ReactNode[];
  if (content.lines) {
    // the lines are fixed text: a line's position is its identity
    body = content.lines.slice(0, bodyHeight).map((l, i) => (
      // biome-ignore lint/suspicious/noArrayIndexKey: fixed lines, never reordered
      <Text key={i} wrap="truncate-end" bold={l === "Commands" || l === "Keys"}>
        {l || " "}
      </Text>
    ));
  } else if (!content.rows || content.rows.length === 0) {
    body = [
      <Text key="empty" dimColor wrap="truncate-end">
        {content.empty ?? ""}
      </Text>,
    ];
  } else {
    body = visibleRows(content.rows, bodyHeight, top).map((r) => (
      <MessageRow
        key={r.key}
        row={r}
        selected={r.message !== undefined && r.message === content.selected}
      />
    ));
  }
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
        {content.title}
      </Text>
      <Box
        flexDirection="column"
        height={bodyHeight}
        justifyContent={content.fromTop ? "flex-start" : "flex-end"}
      >
        {body}
      </Box>
      {content.typing ? (
        <Text dimColor italic wrap="truncate-end">
          {content.typing}
        </Text>
      ) : null}
    </Box>
  );
}

/** Whether a pane of `height` rows that starts at `top` shows the oldest row. */
export function atOldest(total: number, height: number, top: number | undefined): boolean {
  return top !== undefined && Math.min(top, lastPageTop(total, height)) === 0;
}

/**
 * The input line: what is typed (after `label`: "› ", "↪ alice › ", "edit › "…), or in select
 * mode its keys, the delete question about message `asking`, the emoji prompt, the search keys.
 */
export function InputLine(props: {
  mode: "input" | "sidebar" | "select" | "react" | "confirm" | "search";
  text: string;
  prompt: string;
  label: string;
  asking: string;
  width: number;
}) {
  const { mode, text, prompt, label, asking, width } = props;
  let line: ReactNode;
  if (mode === "select") {
    line = (
      <Text dimColor wrap="truncate-end">
        ↑/↓ select · r reply · e edit · d delete · + react (1–5) · t thread · Esc back
      </Text>
    );
  } else if (mode === "confirm") {
    line = (
      <Text wrap="truncate-end">
        <Text color="red">delete your message "{asking}"?</Text> y deletes, any other key keeps it
      </Text>
    );
  } else if (mode === "react") {
    line = (
      <Text wrap="truncate-end">
        <Text color="cyan">
          react {QUICK_REACTIONS.map((e, i) => `${i + 1} ${e}`).join("  ")} or an emoji + Enter ›{" "}
        </Text>
        {prompt}
        <Text inverse> </Text>
      </Text>
    );
  } else if (mode === "search") {
    line = (
      <Text dimColor wrap="truncate-end">
        ↑/↓ pick · Enter open · n more · Esc close
      </Text>
    );
  } else {
    const room = Math.max(5, width - 6 - label.length);
    const shown = text.length > room ? `…${text.slice(-(room - 1))}` : text;
    line = (
      <Text wrap="truncate-end">
        <Text color="cyan">{label}</Text>
        {shown}
        {mode === "input" ? <Text inverse> </Text> : null}
      </Text>
    );
  }
  return (
    <Box borderStyle="round" borderColor={mode === "sidebar" ? "gray" : "cyan"} paddingX={1}>
      {line}
    </Box>
  );
}

export function StatusLine(props: { snap: ChatSnapshot }) {
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
