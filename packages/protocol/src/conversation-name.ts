// A conversation as one string, the form read state and search use on the wire and as map keys:
// `#<channel>` for a channel, `@<peerKey>` for the DM with a peer (seen from the user's side).
import { isPublicKey } from "./nkey.ts";
import { type Conv, isValidChannel, validateChannel } from "./subjects.ts";

/** The wire name of a conversation: `#KUBECON`, `@U…`. */
export function conversationName(conv: Conv): string {
  return conv.kind === "post" ? `#${validateChannel(conv.channel)}` : `@${conv.peer}`;
}

/** Parses `#<channel>` or `@<userKey>`; undefined for anything else. */
export function parseConversationName(name: unknown): Conv | undefined {
  if (typeof name !== "string" || name.length < 2 || name.length > 57) return undefined;
  const rest = name.slice(1);
  if (name[0] === "#" && isValidChannel(rest)) return { kind: "post", channel: rest };
  if (name[0] === "@" && isPublicKey(rest, "U")) return { kind: "dm", peer: rest };
  return undefined;
}
