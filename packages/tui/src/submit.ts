// What Enter does with the typed line: a post to the conversation on screen (a reply when a
// message is being answered, or in a thread), or a slash command (parsed by the client core's
// parseCommand, the same parser as the web UI's). A command is never posted; one the chat does
// not know, or one used wrongly, gets a notice and the line stays for fixing. The DM command finds
// its person among the users this chat knows, online or not: a DM to someone offline is stored
// and reaches them through history. /mute and /unmute name a channel, a person, or nothing (the
// conversation on screen); /search hands its text to the screen, which shows the results.
import { mutedConversation, parseCommand } from "@natschat/client";
import { type ChatModel, conversationLabel, userKeyByName } from "./model.ts";

/** What the screen should do after a line was submitted. */
export interface Outcome {
  /** Empty the input (false: the line stays, to be fixed). */
  clear: boolean;
  /** A line for the user: "error" in red, "info" in yellow. */
  notice?: { text: string; tone: "error" | "info" };
  /** Show the command help in the message pane. */
  help?: true;
  /** Leave the chat. */
  quit?: true;
  /** A send (or mute) that was started; it rejects with the reason it failed. */
  sending?: Promise<void>;
  /** Search for this text and show the results. */
  search?: string;
}

/**
 * Acts on one typed line in conversation `target` ("#CHANNEL" or "@<key>"); a post answers
 * message `replyTo` when given.
 */
export function submitLine(
  model: ChatModel,
  target: string,
  line: string,
  replyTo?: string,
): Outcome {
  const cmd = parseCommand(line);
  switch (cmd.kind) {
    case "empty":
      return { clear: false };
    case "post":
    case "me":
      return {
        clear: true,
        sending:
          replyTo === undefined
            ? model.send(target, cmd.text)
            : model.send(target, cmd.text, { replyTo }),
      };
    case "search":
      return { clear: true, search: cmd.query };
    case "mute":
      return mute(model, target, cmd.muted, cmd.conversation);
    case "help":
      return { clear: true, help: true };
    case "quit":
      return { clear: true, quit: true };
    case "join": {
      const id = `#${cmd.channel}`;
      const channels = model.snapshot().channels;
      if (!channels.some((c) => c.id === id)) {
        const joined = channels.map((c) => `#${c.title}`).join(", ");
        return {
          clear: false,
          notice: {
            tone: "error",
            text: `#${cmd.channel} is not one of this chat's channels (${joined}); start it with --channels to add one`,
          },
        };
      }
      model.select(id);
      return { clear: true };
    }
    case "dm": {
      const snap = model.snapshot();
      const key = userKeyByName(snap, cmd.name);
      if (key === undefined) {
        return {
          clear: false,
          notice: {
            tone: "error",
            text: `no one called "${cmd.name}" is known here yet: people appear once they are online or have posted`,
          },
        };
      }
      const id = `@${key}`;
      model.select(id);
      const online = snap.users.find((u) => u.key === key)?.online ?? false;
      const notice = online
        ? undefined
        : ({
            tone: "info",
            text: `${cmd.name} is offline: DMs are kept and reach them when they are back`,
          } as const);
      return {
        clear: true,
        ...(notice ? { notice } : {}),
        ...(cmd.text === undefined ? {} : { sending: model.send(id, cmd.text) }),
      };
    }
    case "unknown":
    case "invalid":
      return { clear: false, notice: { tone: "error", text: cmd.message } };
  }
}

/** /mute and /unmute: `named` is "#CHANNEL", "@name", or undefined for `target`. */
function mute(model: ChatModel, target: string, on: boolean, named: string | undefined): Outcome {
  const snap = model.snapshot();
  const found = mutedConversation(snap, named, target);
  if (!found.ok) return { clear: false, notice: { tone: "error", text: found.message } };
  const id = found.id;
  const label = conversationLabel(snap, id);
  return {
    clear: true,
    notice: {
      tone: "info",
      text: on
        ? `${label} muted: no bell or marker for it (/unmute ${label} undoes it)`
        : `${label} unmuted`,
    },
    sending: Promise.resolve(model.mute(id, on)).then(() => undefined),
  };
}
