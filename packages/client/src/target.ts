// Conversation ids and targets: "#CHANNEL" for a channel, "@<user key>" for a DM peer, and the
// parser of what a user types to name one.
import { isPublicKey, isValidChannel } from "@natschat/protocol";
import { ChatError } from "./errors.ts";

/** "#NAME" for a channel. */
export function channelId(channel: string): string {
  return `#${channel}`;
}

/** "@<key>" for a DM peer. */
export function dmId(peerKey: string): string {
  return `@${peerKey}`;
}

/** Parses "#NAME", "NAME", "@U…" or "U…" into a conversation target. */
export function parseTarget(
  target: string,
): { kind: "channel"; channel: string } | { kind: "dm"; peer: string } {
  const t = target.trim();
  const bare = t.startsWith("@") || t.startsWith("#") ? t.slice(1) : t;
  if (!t.startsWith("#") && isPublicKey(bare, "U")) return { kind: "dm", peer: bare };
  if (t.startsWith("@")) {
    throw new ChatError("CHAT_BAD_TARGET", `"${t.slice(0, 60)}" is not "@" followed by a user key`);
  }
  if (!isValidChannel(bare)) {
    throw new ChatError(
      "CHAT_BAD_TARGET",
      `"${t.slice(0, 40)}" is neither a channel ("#NAME": letters, digits, '-', '_') nor a user key`,
    );
  }
  return { kind: "channel", channel: bare };
}

/** The conversation id of a parsed target. */
export function targetId(t: ReturnType<typeof parseTarget>): string {
  return t.kind === "channel" ? channelId(t.channel) : dmId(t.peer);
}
