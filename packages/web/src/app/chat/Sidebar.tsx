// The sidebar: who we are, channels, direct messages and who is online, each with unread badges
// (from the read state the history service keeps, so every session of a user agrees), an "@"
// badge for unread mentions, a muted mark, and presence dots; the connection state and logout
// at the bottom.
import type { ChatSnapshot, ConversationView, UserView } from "@natschat/client";
import { Icon } from "../Icon.tsx";
import { Avatar } from "./Avatar.tsx";
import { ConnectionBadge } from "./ConnectionBadge.tsx";
import { CHAT_ICONS } from "./chat-icons.ts";

interface SidebarProps {
  snap: ChatSnapshot;
  onSelect: (id: string) => void;
  onLogout: () => void;
  onDownloadCreds: () => void;
}

function Badge(props: { count: number; muted?: boolean }) {
  if (props.count <= 0) return null;
  return (
    <span
      className={`badge${props.muted ? " quiet" : ""}`}
      role="status"
      aria-label={`${props.count} unread`}
    >
      {props.count > 99 ? "99+" : props.count}
    </span>
  );
}

function MentionBadge(props: { count: number }) {
  if (props.count <= 0) return null;
  return (
    // the button's own label says it in words
    <span className="badge mention-badge" aria-hidden="true">
      @{props.count > 9 ? "9+" : props.count}
    </span>
  );
}

function PresenceDot(props: { online: boolean }) {
  return (
    <span
      className={`presence ${props.online ? "presence-on" : "presence-off"}`}
      role="img"
      aria-label={props.online ? "online" : "offline"}
    />
  );
}

function ConversationButton(props: {
  view: ConversationView;
  selected: boolean;
  onSelect: (id: string) => void;
}) {
  const { view } = props;
  const details = `${view.unread ? `, ${view.unread} unread` : ""}${view.mentions ? `, ${view.mentions} mentioning you` : ""}${view.muted ? ", muted" : ""}`;
  const label =
    view.kind === "channel"
      ? `Channel ${view.title}${details}`
      : `Direct message with ${view.title}${view.online ? " (online)" : ""}${details}`;
  return (
    <li>
      <button
        type="button"
        className={`nav-item${props.selected ? " selected" : ""}${view.unread && !view.muted ? " has-unread" : ""}${view.muted ? " muted" : ""}`}
        aria-current={props.selected ? "page" : undefined}
        aria-label={label}
        data-conversation={view.id}
        onClick={() => props.onSelect(view.id)}
      >
        {view.kind === "channel" ? (
          <span className="hash" aria-hidden="true">
            #
          </span>
        ) : (
          <PresenceDot online={view.online ?? false} />
        )}
        <span className="nav-label">{view.title}</span>
        {view.muted ? (
          <span className="muted-mark" title="muted">
            <Icon d={CHAT_ICONS.bellOff} size={14} />
          </span>
        ) : null}
        <MentionBadge count={view.mentions} />
        <Badge count={view.unread} muted={view.muted} />
      </button>
    </li>
  );
}

function PersonButton(props: { user: UserView; unread: number; onSelect: (id: string) => void }) {
  const { user } = props;
  return (
    <li>
      <button
        type="button"
        className="nav-item person"
        aria-label={`Message ${user.display}${user.online ? " (online)" : " (offline)"}`}
        data-user={user.key}
        title={user.key}
        onClick={() => props.onSelect(`@${user.key}`)}
      >
        <span className="avatar-wrap">
          <Avatar userKey={user.key} display={user.display} size="sm" />
          <PresenceDot online={user.online} />
        </span>
        <span className="nav-label">{user.display}</span>
        <Badge count={props.unread} />
      </button>
    </li>
  );
}

export function Sidebar(props: SidebarProps) {
  const { snap } = props;
  const others = snap.users.filter((u) => !u.me);
  const online = others.filter((u) => u.online);
  const unreadOf = (key: string) => snap.dms.find((d) => d.peer === key)?.unread ?? 0;
  return (
    <div className="sidebar-inner">
      <header className="brand">
        <span className="logo" aria-hidden="true">
          <Icon name="logo" size={17} />
        </span>
        <span className="brand-name">natschat</span>
      </header>

      <div className="nav-scroll">
        <nav className="nav-section" aria-label="Channels">
          <h2 className="nav-heading">Channels</h2>
          <ul>
            {snap.channels.map((c) => (
              <ConversationButton
                key={c.id}
                view={c}
                selected={snap.selected === c.id}
                onSelect={props.onSelect}
              />
            ))}
          </ul>
        </nav>

        <nav className="nav-section" aria-label="Direct messages">
          <h2 className="nav-heading">Direct messages</h2>
          {snap.dms.length === 0 ? (
            <p className="nav-empty">Pick someone online to start a conversation.</p>
          ) : (
            <ul>
              {snap.dms.map((d) => (
                <ConversationButton
                  key={d.id}
                  view={d}
                  selected={snap.selected === d.id}
                  onSelect={props.onSelect}
                />
              ))}
            </ul>
          )}
        </nav>

        <section className="nav-section" aria-label="Online">
          <h2 className="nav-heading">
            Online <span className="count">{online.length}</span>
          </h2>
          {online.length === 0 ? (
            <p className="nav-empty">Nobody else is online yet.</p>
          ) : (
            <ul>
              {online.map((u) => (
                <PersonButton
                  key={u.key}
                  user={u}
                  unread={unreadOf(u.key)}
                  onSelect={props.onSelect}
                />
              ))}
            </ul>
          )}
        </section>
      </div>

      <footer className="me">
        <Avatar userKey={snap.me.key} display={snap.me.name || "?"} />
        <div className="me-text">
          <span className="me-name" data-testid="me-name">
            {snap.me.name}
          </span>
          <ConnectionBadge state={snap.state} />
        </div>
        <div className="me-actions">
          <button
            type="button"
            className="icon-button"
            aria-label="Download my creds file"
            title="Download my creds file (to chat from the terminal too)"
            onClick={props.onDownloadCreds}
          >
            <Icon name="download" />
          </button>
          <button
            type="button"
            className="icon-button"
            aria-label="Log out"
            title="Log out"
            onClick={props.onLogout}
          >
            <Icon name="logout" />
          </button>
        </div>
      </footer>
    </div>
  );
}
