// What a slash command does in the web chat. The shared parser (@natschat/client parseCommand)
// says what a line means; this carries it out on the session, or throws an Error whose message
// the composer shows (the line is then given back, never posted).
import {
  type ChatCommand,
  type ChatSession,
  type ChatSnapshot,
  mutedConversation,
} from "@natschat/client";

/** What the chat page lends the commands. */
export interface CommandContext {
  session: ChatSession;
  snap: ChatSnapshot;
  /** The conversation on screen ("#CHANNEL" or "@<key>"). */
  current: string;
  select: (id: string) => void;
  showHelp: () => void;
  /** Opens the search panel with `query`. */
  search: (query: string) => void;
  /** The message a post answers (a reply), if any. */
  replyTo?: string;
}

/** Runs a parsed line; resolves once it is done (a post handed to the connection). */
export async function runCommand(cmd: ChatCommand, ctx: CommandContext): Promise<void> {
  switch (cmd.kind) {
    case "empty":
      return;
    case "post":
    case "me":
      return ctx.session.send(
        ctx.current,
        cmd.text,
        ctx.replyTo ? { replyTo: ctx.replyTo } : undefined,
      );
    case "help":
      ctx.showHelp();
      return;
    case "join": {
      const id = `#${cmd.channel}`;
      const found = ctx.snap.channels.find((c) => c.id.toLowerCase() === id.toLowerCase());
      if (!found) {
        const names = ctx.snap.channels.map((c) => c.id).join(", ");
        throw new Error(`there is no ${id} here; the channels are ${names}`);
      }
      ctx.select(found.id);
      return;
    }
    case "dm": {
      if (cmd.name === ctx.snap.me.name) throw new Error("that is you; /dm someone else");
      const peer = ctx.snap.users.find((u) => !u.me && u.name === cmd.name);
      if (!peer) {
        throw new Error(
          `nobody called "${cmd.name}" has been seen here yet; once they post or come online, /dm ${cmd.name} works (Ctrl+K lists everyone known)`,
        );
      }
      const id = `@${peer.key}`;
      ctx.select(id);
      if (cmd.text !== undefined) await ctx.session.send(id, cmd.text);
      return;
    }
    case "search":
      ctx.search(cmd.query);
      return;
    case "mute": {
      const found = mutedConversation(ctx.snap, cmd.conversation, ctx.current);
      if (!found.ok) throw new Error(found.message);
      // the header's bell shows the new state
      await ctx.session.mute(found.id, cmd.muted);
      return;
    }
    case "quit":
      throw new Error("to leave, close this tab (or Log out to forget your key in this browser)");
    case "unknown":
    case "invalid":
      throw new Error(cmd.message);
  }
}
