// The connection state, always visible: connected, connecting, reconnecting, or ended.
import type { SessionState } from "@natschat/client";

const LABELS: Record<SessionState, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  revoked: "Revoked",
  expired: "Expired",
  closed: "Disconnected",
};

export function ConnectionBadge(props: { state: SessionState }) {
  const tone =
    props.state === "connected"
      ? "ok"
      : props.state === "reconnecting" || props.state === "connecting"
        ? "warn"
        : "bad";
  return (
    <output className={`conn conn-${tone}`} data-state={props.state} aria-live="polite">
      <span className="conn-dot" aria-hidden="true" />
      {LABELS[props.state]}
    </output>
  );
}
