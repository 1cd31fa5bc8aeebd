// Where a verified message belongs, from its subject (protocol v3: the sender's key is the
// subject's last token, and the server lets only that key publish there). The verifier has
// already checked that the envelope matches the subject (type, channel or recipient, signer);
// this decides which of our conversations it goes to, if any.
import { parseChatSubject } from "@natschat/protocol";
import { channelId, dmId } from "./target.ts";

/** The conversation a post or DM on `subject` belongs to, for user `me`; undefined if none. */
export function conversationOf(me: string, subject: string): string | undefined {
  const s = parseChatSubject(subject);
  if (s === undefined) return undefined;
  if (s.kind === "post") return channelId(s.channel);
  if (s.kind !== "dm") return undefined;
  // ours to see only when we are the recipient or the sender (another of our devices sent it)
  if (s.recipient === me) return dmId(s.sender);
  if (s.sender === me) return dmId(s.recipient);
  return undefined;
}
