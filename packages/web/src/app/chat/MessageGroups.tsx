// Messages in display groups (grouping.ts): a day line, the "new messages" line, and per group
// the sender's avatar, issued name and time over its messages. Shared by the channel pane and
// the thread panel.
import { Avatar } from "./Avatar.tsx";
import { clockTime, type MessageGroup } from "./grouping.ts";
import { MessageItem } from "./MessageItem.tsx";
import type { MessageActions, MessageNav } from "./message-nav.ts";

export function MessageGroups(props: {
  groups: readonly MessageGroup[];
  /** The message id the "New messages" line goes before. */
  separatorAt?: string | undefined;
  me: string;
  nav: MessageNav;
  actions: MessageActions;
  /** In the thread panel: the thread's root id. */
  threadRoot?: string | undefined;
}) {
  return (
    <ol className="groups">
      {props.groups.map((g) => (
        <li key={g.id} className={`group${g.mine ? " mine" : ""}`}>
          {g.day ? (
            <div className="day">
              <span>{g.day}</span>
            </div>
          ) : null}
          {g.id === props.separatorAt ? (
            <div className="unread-separator">
              <span>New messages</span>
            </div>
          ) : null}
          <div className="group-body">
            <Avatar userKey={g.from} display={g.display} />
            <div className="group-content">
              <div className="meta">
                <span
                  className={`author${g.name === undefined ? " unverified" : ""}`}
                  title={
                    g.name === undefined
                      ? `identity not known yet: shown by key ${g.from}`
                      : `${g.name} · ${g.from}`
                  }
                >
                  {g.display}
                </span>
                <time dateTime={new Date(g.time).toISOString()}>{clockTime(g.time)}</time>
              </div>
              {g.messages.map((m) => (
                <MessageItem
                  key={m.id}
                  m={m}
                  me={props.me}
                  nav={props.nav}
                  actions={props.actions}
                  inThread={props.threadRoot !== undefined}
                  threadRoot={props.threadRoot}
                />
              ))}
            </div>
          </div>
        </li>
      ))}
    </ol>
  );
}
