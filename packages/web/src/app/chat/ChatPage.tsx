// The chat page: sidebar (channels, DMs, online list), message pane and composer, over the
// shared ChatSession. A revoked or expired session ends here and sends the user to Welcome.
// Slash commands (parsed by the shared parseCommand) run here and are never posted; Ctrl+K
// opens the quick switcher; the conversation on screen is reopened after a reload.
import {
  type ChatSession,
  type ChatSnapshot,
  parseCommand,
  type SessionState,
} from "@natschat/client";
import { type KeyboardEvent, useEffect, useState } from "react";
import type { WebRuntimeConfig } from "../../config.ts";
import { ConfirmDialog } from "../ConfirmDialog.tsx";
import { Icon } from "../Icon.tsx";
import type { StoredIdentity } from "../identity-store.ts";
import { Composer } from "./Composer.tsx";
import { ConnectionBadge } from "./ConnectionBadge.tsx";
import { runCommand } from "./command-actions.ts";
import { HelpDialog } from "./HelpDialog.tsx";
import { loadLastConversation, saveLastConversation } from "./last-conversation.ts";
import { MessageList } from "./MessageList.tsx";
import { QuickSwitcher } from "./QuickSwitcher.tsx";
import { Sidebar } from "./Sidebar.tsx";
import { useChatSession, useSnapshot } from "./use-session.ts";

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

  // Ctrl+K (⌘K) opens the quick switcher from anywhere on the page.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        e.preventDefault();
        setDialog("switcher");
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

  const view = selectedView(snap);
  const unreadTotal = [...snap.channels, ...snap.dms].reduce((n, c) => n + c.unread, 0);
  // The tab title shows unread messages, for a reader in another tab.
  useEffect(() => {
    document.title = unreadTotal > 0 ? `(${unreadTotal}) natschat` : "natschat";
    return () => {
      document.title = "natschat";
    };
  }, [unreadTotal]);
  const all = [...snap.channels, ...snap.dms];
  const select = (id: string) => {
    session.select(id);
    setDrawer(false);
  };
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

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: page-wide keyboard shortcuts
    <div className={`chat${drawer ? " drawer-open" : ""}`} onKeyDown={onKeyDown}>
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
          <span className="pane-spacer" />
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
        {notice ? (
          <div className="banner info" role="status">
            {notice}
            <button
              type="button"
              className="link"
              aria-label="Dismiss the notice"
              onClick={() => setDismissed(notice)}
            >
              Dismiss
            </button>
          </div>
        ) : null}
        <MessageList view={view} />
        <Composer
          target={view.id}
          label={`Message ${title}`}
          disabled={snap.state === "closed" || ENDED.includes(snap.state)}
          onSend={(text) =>
            runCommand(parseCommand(text), {
              session,
              snap,
              current: view.id,
              select,
              showHelp: () => setDialog("help"),
            })
          }
          hint="/help for commands"
        />
      </main>
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
