// The chat page: sidebar (channels, DMs, online list), message pane and composer, and a side
// panel for a thread or search results, over the shared ChatSession. A revoked or expired
// session ends here and sends the user to Welcome. Slash commands (parsed by the shared
// parseCommand) run here and are never posted; Ctrl+K opens the quick switcher, Ctrl+Shift+F
// the search box; the conversation on screen is reopened after a reload. What is done to a
// message (reply, react, edit, delete, thread) is carried out here on the session.
import {
  type ChatSession,
  type ChatSnapshot,
  type MessageView,
  parseCommand,
  type SessionState,
} from "@natschat/client";
import {
  type FormEvent,
  type KeyboardEvent,
  type ReactNode,
  useCallback,
  useEffect,
  useRef,
  useState,
} from "react";
import type { WebRuntimeConfig } from "../../config.ts";
import { ConfirmDialog } from "../ConfirmDialog.tsx";
import { Icon } from "../Icon.tsx";
import type { StoredIdentity } from "../identity-store.ts";
import { Composer } from "./Composer.tsx";
import { ConnectionBadge } from "./ConnectionBadge.tsx";
import { CHAT_ICONS } from "./chat-icons.ts";
import { runCommand } from "./command-actions.ts";
import { excerpt } from "./composer-text.ts";
import { HelpDialog } from "./HelpDialog.tsx";
import { loadLastConversation, saveLastConversation } from "./last-conversation.ts";
import { MessageList } from "./MessageList.tsx";
import type { MessageActions } from "./message-nav.ts";
import { useNotifications } from "./notifications.ts";
import { QuickSwitcher } from "./QuickSwitcher.tsx";
import { type SearchHit, SearchPanel } from "./SearchPanel.tsx";
import { Sidebar } from "./Sidebar.tsx";
import { ThreadPanel } from "./ThreadPanel.tsx";
import { typingLine } from "./typing-line.ts";
import { useChatSession, useSnapshot } from "./use-session.ts";
import "./chat-events.css";

interface ChatPageProps {
  config: WebRuntimeConfig;
  identity: StoredIdentity;
  /** The session ended for good (revoked or expired): forget the creds, show Welcome. */
  onEnded: (state: "revoked" | "expired", reason: string) => void;
  onLogout: () => void;
}

export default function ChatPage(props: ChatPageProps) {
  const [attempt, setAttempt] = useState(0);
  const start = useChatSession(props.config, props.identity, attempt);
  const { onEnded } = props;

  useEffect(() => {
    if (start?.phase === "failed" && start.refused) onEnded("revoked", start.error);
  }, [start, onEnded]);

  if (start === undefined || start.phase === "starting") {
    return (
      <div className="center-screen">
        <div className="spinner" aria-hidden="true" />
        <p role="status">Connecting as {props.identity.name}…</p>
      </div>
    );
  }
  if (start.phase === "failed") {
    return (
      <div className="center-screen">
        <div className="card">
          <h1>Cannot connect</h1>
          <p className="error-text" role="alert">
            {start.error}
          </p>
          <div className="row">
            <button type="button" className="primary" onClick={() => setAttempt((n) => n + 1)}>
              Try again
            </button>
            <button type="button" className="secondary" onClick={props.onLogout}>
              Log out
            </button>
          </div>
        </div>
      </div>
    );
  }
  return (
    <ChatScreen
      session={start.session}
      identity={props.identity}
      onEnded={onEnded}
      onLogout={props.onLogout}
      onReconnect={() => setAttempt((n) => n + 1)}
    />
  );
}

const ENDED: readonly SessionState[] = ["revoked", "expired"];

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `${name}.creds`;
  a.click();
  URL.revokeObjectURL(url);
}

function selectedView(snap: ChatSnapshot) {
  return [...snap.channels, ...snap.dms].find((c) => c.id === snap.selected) ?? snap.channels[0];
}

/** "#KUBECON", or the name of the person of a DM ("@<key>"). */
function whereOf(snap: ChatSnapshot, conversation: string): string {
  if (conversation.startsWith("#")) return conversation;
  const key = conversation.slice(1);
  return snap.users.find((u) => u.key === key)?.display ?? conversation;
}

/** The longest search query the service takes. */
const SEARCH_MAX = 100;

function ChatScreen(props: {
  session: ChatSession;
  identity: StoredIdentity;
  onEnded: ChatPageProps["onEnded"];
  onLogout: () => void;
  onReconnect: () => void;
}) {
  const { session, onEnded } = props;
  const snap = useSnapshot(session);
  const [drawer, setDrawer] = useState(false);
  const [confirmLogout, setConfirmLogout] = useState(false);
  const [dismissed, setDismissed] = useState<string>();
  const [dialog, setDialog] = useState<"help" | "switcher">();
  const [replyTo, setReplyTo] = useState<{ conversation: string; message: MessageView }>();
  const [confirmDelete, setConfirmDelete] = useState<MessageView>();
  const [problem, setProblem] = useState<string>();
  const [searchText, setSearchText] = useState("");
  const [searchQuery, setSearchQuery] = useState<string>();
  const [focusAfter, setFocusAfter] = useState<string>();
  const composerInput = useRef<HTMLTextAreaElement>(null);
  const searchInput = useRef<HTMLInputElement>(null);
  const snapRef = useRef(snap);
  snapRef.current = snap;

  // Reopen the conversation that was on screen before a reload (a DM is created for its peer).
  useEffect(() => {
    const last = loadLastConversation(session.me.key);
    if (last) {
      try {
        session.select(last);
      } catch {
        // a saved id this version no longer understands: stay on the first channel
      }
    }
  }, [session]);
  useEffect(() => {
    saveLastConversation(snap.me.key, snap.selected);
  }, [snap.me.key, snap.selected]);

  // Ctrl+K (⌘K) opens the quick switcher, Ctrl+Shift+F goes to the search box, from anywhere.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey)) return;
      const key = e.key.toLowerCase();
      if (key === "k" && !e.shiftKey) {
        e.preventDefault();
        setDialog("switcher");
      } else if (key === "f" && e.shiftKey) {
        e.preventDefault();
        searchInput.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  useEffect(() => {
    if (ENDED.includes(snap.state)) {
      onEnded(snap.state as "revoked" | "expired", snap.reason ?? snap.state);
    }
  }, [snap.state, snap.reason, onEnded]);

  const select = useCallback(
    (id: string) => {
      session.select(id);
      setDrawer(false);
    },
    [session],
  );
  const where = useCallback((conversation: string) => whereOf(snapRef.current, conversation), []);
  const notifications = useNotifications(session, select, where);
  const searchPage = useCallback(
    (q: string, cursor?: string) => session.search(q, cursor ? { cursor } : {}),
    [session],
  );

  // A search result opens its conversation; the message gets the focus once it is on screen
  // (tried again on each snapshot until it is).
  // biome-ignore lint/correctness/useExhaustiveDependencies: `snap` re-runs it as messages arrive
  useEffect(() => {
    if (!focusAfter) return;
    const line = document.querySelector<HTMLElement>(
      `.messages [data-message-id="${CSS.escape(focusAfter)}"]`,
    );
    if (!line) return;
    line.focus();
    line.scrollIntoView({ block: "center" });
    setFocusAfter(undefined);
  }, [focusAfter, snap]);

  const view = selectedView(snap);
  const all = [...snap.channels, ...snap.dms];
  // Muted conversations do not count in the tab title (their badges still show in the list).
  const unreadTotal = all.reduce((n, c) => n + (c.muted ? 0 : c.unread), 0);
  // The tab title shows unread messages, for a reader in another tab.
  useEffect(() => {
    document.title = unreadTotal > 0 ? `(${unreadTotal}) natschat` : "natschat";
    return () => {
      document.title = "natschat";
    };
  }, [unreadTotal]);
  // Alt+↑ / Alt+↓ move between conversations; Escape closes the drawer on small screens.
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape" && drawer) setDrawer(false);
    if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
    const i = all.findIndex((c) => c.id === snap.selected);
    const next = all[(i + (e.key === "ArrowDown" ? 1 : all.length - 1)) % all.length];
    if (next) {
      e.preventDefault();
      select(next.id);
    }
  };
  if (!view) return null;
  const title = view.kind === "channel" ? `#${view.title}` : view.title;
  const notice = snap.notice !== dismissed ? snap.notice : undefined;
  const disabled = snap.state === "closed" || ENDED.includes(snap.state);
  const failed = (what: string) => (err: unknown) =>
    setProblem(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  const focusComposer = () => composerInput.current?.focus();
  const openThread = (id: string) => {
    setSearchQuery(undefined);
    try {
      session.openThread(id);
    } catch (err) {
      // a quote of a message this page does not hold (older than its history)
      failed("The thread cannot be opened")(err);
    }
  };
  const actions: MessageActions = {
    reply: (m) => setReplyTo({ conversation: view.id, message: m }),
    react: (m, emoji, on) => {
      session.react(m.id, emoji, on).catch(failed("Reaction not saved"));
    },
    edit: (m, text) => session.edit(m.id, text),
    remove: (m) => setConfirmDelete(m),
    openThread,
  };
  const reply = replyTo?.conversation === view.id ? replyTo.message : undefined;
  const thread = snap.thread;
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    const q = searchText.trim();
    if (q === "") return;
    if (q.length > SEARCH_MAX) {
      setProblem(`A search has at most ${SEARCH_MAX} characters; this one has ${q.length}.`);
      return;
    }
    session.closeThread();
    setSearchQuery(q);
  };
  const openHit = (hit: SearchHit) => {
    select(hit.conversation);
    setFocusAfter(hit.id);
  };
  const panel = thread !== undefined || searchQuery !== undefined;

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: page-wide keyboard shortcuts
    <div
      className={`chat${drawer ? " drawer-open" : ""}${panel ? " with-panel" : ""}`}
      onKeyDown={onKeyDown}
    >
      <aside className="sidebar" aria-label="Conversations" id="sidebar">
        <Sidebar
          snap={snap}
          onSelect={select}
          onLogout={() => setConfirmLogout(true)}
          onDownloadCreds={() => download(props.identity.name, props.identity.creds)}
        />
      </aside>
      <button
        type="button"
        className="scrim"
        aria-label="Close the conversation list"
        tabIndex={-1}
        onClick={() => setDrawer(false)}
      />
      <main className="pane">
        <header className="pane-header">
          <button
            type="button"
            className="icon-button menu"
            aria-label="Open the conversation list"
            aria-controls="sidebar"
            aria-expanded={drawer}
            onClick={() => setDrawer(true)}
          >
            <Icon name="menu" size={20} />
            {unreadTotal > 0 ? <span className="menu-dot" aria-hidden="true" /> : null}
          </button>
          <h1 className="pane-title">
            {view.kind === "dm" ? (
              <span
                className={`presence ${view.online ? "presence-on" : "presence-off"}`}
                role="img"
                aria-label={view.online ? "online" : "offline"}
              />
            ) : null}
            {title}
          </h1>
          {view.kind === "dm" && view.peer ? (
            <span className="pane-sub" title={view.peer}>
              {view.online ? "online" : "offline"}
            </span>
          ) : null}
          <button
            type="button"
            className={`icon-button mute${view.muted ? " on" : ""}`}
            aria-pressed={view.muted}
            aria-label={`Mute ${title}`}
            title={
              view.muted
                ? `${title} is muted: no notifications, not counted in the tab title`
                : `Mute ${title}`
            }
            onClick={() => {
              session.mute(view.id, !view.muted).catch(failed("Mute not saved"));
            }}
          >
            <Icon d={view.muted ? CHAT_ICONS.bellOff : CHAT_ICONS.bell} />
          </button>
          <span className="pane-spacer" />
          {notifications.offer ? (
            <span className="notify-offer">
              <button type="button" className="primary small" onClick={notifications.enable}>
                Enable notifications
              </button>
              <button type="button" className="link" onClick={notifications.dismiss}>
                Not now
              </button>
            </span>
          ) : null}
          <search className="pane-search">
            <form onSubmit={onSearch}>
              <input
                ref={searchInput}
                type="search"
                aria-label="Search messages"
                placeholder="Search"
                title="Search channels and your DMs (Ctrl+Shift+F)"
                value={searchText}
                onChange={(e) => setSearchText(e.target.value)}
              />
            </form>
          </search>
          <ConnectionBadge state={snap.state} />
        </header>
        {snap.state === "reconnecting" ? (
          <div className="banner warn" role="status">
            Connection lost, reconnecting… Messages you send are delivered once it is back.
          </div>
        ) : null}
        {snap.state === "closed" ? (
          <div className="banner bad" role="alert">
            Disconnected{snap.reason ? `: ${snap.reason}` : ""}.{" "}
            <button type="button" className="link" onClick={props.onReconnect}>
              Reconnect
            </button>
          </div>
        ) : null}
        {problem ? (
          <Banner tone="bad" what="problem" onDismiss={() => setProblem(undefined)}>
            {problem}
          </Banner>
        ) : null}
        {notice ? (
          <Banner tone="info" what="notice" onDismiss={() => setDismissed(notice)}>
            {notice}
          </Banner>
        ) : null}
        <MessageList view={view} me={snap.me.key} actions={actions} onLeave={focusComposer} />
        <p className="typing-line" aria-live="polite">
          {typingLine(view.typing)}
        </p>
        <Composer
          target={view.id}
          label={`Message ${title}`}
          disabled={disabled}
          inputRef={composerInput}
          mentions={(prefix) => session.mentionCandidates(prefix)}
          onTyping={() => session.typing(view.id)}
          {...(reply
            ? {
                replyTo: { id: reply.id, display: reply.display, excerpt: excerpt(reply) },
                onCancelReply: () => setReplyTo(undefined),
              }
            : {})}
          onUpFromEmpty={() => {
            // the newest message, as ↑ in an empty input does in most chats
            const rows = document.querySelectorAll<HTMLElement>(".messages [data-message-id]");
            rows[rows.length - 1]?.focus();
          }}
          onSend={async (text) => {
            const cmd = parseCommand(text);
            await runCommand(cmd, {
              session,
              snap,
              current: view.id,
              select,
              showHelp: () => setDialog("help"),
              search: (q) => {
                session.closeThread();
                setSearchText(q);
                setSearchQuery(q);
              },
              ...(reply ? { replyTo: reply.id } : {}),
            });
            if (cmd.kind === "post" || cmd.kind === "me") {
              setReplyTo(undefined);
              notifications.sent();
            }
          }}
          hint="/help for commands"
        />
      </main>
      {thread ? (
        <ThreadPanel
          thread={thread}
          where={whereOf(snap, thread.conversation)}
          me={snap.me.key}
          actions={actions}
          disabled={disabled}
          mentions={(prefix) => session.mentionCandidates(prefix)}
          onTyping={() => session.typing(thread.conversation)}
          onSend={async (text) => {
            if (!thread.root) return;
            await session.send(thread.conversation, text, { replyTo: thread.root.id });
            notifications.sent();
          }}
          onClose={() => {
            session.closeThread();
            focusComposer();
          }}
        />
      ) : searchQuery !== undefined ? (
        <SearchPanel
          query={searchQuery}
          search={searchPage}
          where={where}
          me={snap.me.key}
          onOpen={openHit}
          onClose={() => {
            setSearchQuery(undefined);
            searchInput.current?.focus();
          }}
        />
      ) : null}
      {confirmDelete ? (
        <ConfirmDialog
          title="Delete this message?"
          confirmLabel="Delete"
          danger
          onCancel={() => {
            setConfirmDelete(undefined);
            focusComposer();
          }}
          onConfirm={() => {
            session.remove(confirmDelete.id).catch(failed("Not deleted"));
            setConfirmDelete(undefined);
            focusComposer();
          }}
        >
          <p>
            “{excerpt(confirmDelete)}” will show as <em>message deleted</em> to everyone.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog === "help" ? <HelpDialog onClose={() => setDialog(undefined)} /> : null}
      {dialog === "switcher" ? (
        <QuickSwitcher snap={snap} onSelect={select} onClose={() => setDialog(undefined)} />
      ) : null}
      {confirmLogout ? (
        <ConfirmDialog
          title="Log out?"
          confirmLabel="Log out"
          danger
          onCancel={() => setConfirmLogout(false)}
          onConfirm={props.onLogout}
        >
          <p>
            This browser will forget your key. The name <strong>{snap.me.name}</strong> stays
            reserved for it, so download your creds file first if you want to come back as{" "}
            {snap.me.name}.
          </p>
          <button
            type="button"
            className="secondary"
            onClick={() => download(props.identity.name, props.identity.creds)}
          >
            Download my creds file
          </button>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** A dismissible line over the messages: a problem (an alert) or a notice (a status). */
function Banner(props: {
  tone: "bad" | "info";
  what: string;
  onDismiss: () => void;
  children: ReactNode;
}) {
  return (
    <div className={`banner ${props.tone}`} role={props.tone === "bad" ? "alert" : "status"}>
      {props.children}
      <button
        type="button"
        className="link"
        aria-label={`Dismiss the ${props.what}`}
        onClick={props.onDismiss}
      >
        Dismiss
      </button>
    </div>
  );
}
