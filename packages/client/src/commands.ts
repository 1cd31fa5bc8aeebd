// Slash commands: what a line typed into a chat input means, shared by the terminal and the web
// UI so both understand the same commands the same way. Pure: no session, no I/O. The UI acts on
// the result (switch, open a DM, show help, quit); only "post" and "me" send anything.
//
//   parseCommand(line: string): ChatCommand
//
//   { kind: "post", text }            a plain message (also "//text", which posts "/text", and a
//                                     line whose first word is not a command word, e.g. "/usr/bin")
//   { kind: "empty" }                 nothing to send (blank line)
//   { kind: "help" }                  /help, /?          show COMMANDS (commandHelp())
//   { kind: "join", channel }         /join #NAME, /j, /switch, /channel: show that channel
//                                     (channel has no '#'; checked with the channel rules)
//   { kind: "dm", name, text? }       /dm NAME [message], /msg, /query: open the DM with NAME
//                                     (normalized with the name rules; "@name" accepted), and
//                                     send `text` there when given
//   { kind: "me", action, text }      /me ACTION: an action; `text` is what to post ("_waves_",
//                                     shown in italics under the sender's issued name, as Slack does)
//   { kind: "search", query }         /search TEXT, /find: search the history one may read
//                                     (TEXT: 1 to 100 characters, as the search service takes)
//   { kind: "mute", muted, conversation? } /mute [#CHANNEL | NAME], /unmute …: (un)mute the
//                                     conversation named, or the one on screen when none is;
//                                     `conversation` is "#CHANNEL", or "@name" (a name to resolve)
//   { kind: "quit" }                  /quit, /exit, /q
//   { kind: "unknown", name }         /NAME that is no command: tell the user, never post it
//                                     (`suggestion` names a command when NAME is a near miss)
//   { kind: "invalid", name, message } a command used wrongly (missing or bad argument); the
//                                     message says what to type
//
// A UI without a quit (the web) treats "quit" as it sees fit (the web may say "close the tab").
import { InvalidNameError, isValidChannel, normalizeName } from "@natschat/protocol";
import { closest } from "./spelling.ts";
import type { ChatSnapshot } from "./store.ts";

/** What a typed line means. */
export type ChatCommand =
  | { kind: "post"; text: string }
  | { kind: "empty" }
  | { kind: "help" }
  | { kind: "join"; channel: string }
  | { kind: "dm"; name: string; text?: string }
  | { kind: "me"; action: string; text: string }
  | { kind: "search"; query: string }
  | { kind: "mute"; muted: boolean; conversation?: string }
  | { kind: "quit" }
  | { kind: "unknown"; name: string; suggestion?: string; message: string }
  | { kind: "invalid"; name: string; message: string };

/** One command, for help texts. */
export interface CommandHelp {
  /** How to type it, e.g. "/join #CHANNEL". */
  usage: string;
  /** Other names it answers to. */
  aliases: readonly string[];
  summary: string;
}

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandHelp[] = Object.freeze([
  { usage: "/help", aliases: ["/?"], summary: "show these commands" },
  {
    usage: "/join #CHANNEL",
    aliases: ["/switch", "/j", "/channel"],
    summary: "switch to a channel",
  },
  {
    usage: "/dm NAME [message]",
    aliases: ["/msg", "/query"],
    summary: "open a DM with NAME (online or not); send the message if given",
  },
  { usage: "/me ACTION", aliases: [], summary: "say what you are doing, e.g. /me waves" },
  {
    usage: "/search TEXT",
    aliases: ["/find"],
    summary: "search the channels and your DMs (newest first)",
  },
  {
    usage: "/mute [#CHANNEL | NAME]",
    aliases: [],
    summary: "no bell or marker for it (the one on screen if none is named)",
  },
  { usage: "/unmute [#CHANNEL | NAME]", aliases: [], summary: "undo /mute" },
  { usage: "/quit", aliases: ["/exit", "/q"], summary: "leave the chat (the terminal)" },
  { usage: "//text", aliases: [], summary: "post a message that starts with '/'" },
]);

type Verb = "help" | "join" | "dm" | "me" | "search" | "mute" | "unmute" | "quit";

const VERBS: Readonly<Record<string, Verb>> = Object.freeze({
  help: "help",
  "?": "help",
  join: "join",
  j: "join",
  switch: "join",
  channel: "join",
  dm: "dm",
  msg: "dm",
  query: "dm",
  me: "me",
  search: "search",
  find: "search",
  mute: "mute",
  unmute: "unmute",
  quit: "quit",
  exit: "quit",
  q: "quit",
});

/** A command word: "/" then a letter and letters/digits/'-', or "/?"; then a space or the end. */
const COMMAND = /^\/([A-Za-z][A-Za-z0-9-]*|\?)(?:\s+([\s\S]*))?$/;

/** Parses one typed line: a slash command, or a post. Never throws. */
export function parseCommand(line: string): ChatCommand {
  const trimmed = line.trim();
  if (trimmed === "") return { kind: "empty" };
  if (trimmed.startsWith("//")) return { kind: "post", text: trimmed.slice(1) };
  const m = COMMAND.exec(trimmed);
  if (!m) return { kind: "post", text: trimmed };
  const word = (m[1] as string).toLowerCase();
  const rest = (m[2] ?? "").trim();
  const verb = Object.hasOwn(VERBS, word) ? VERBS[word] : undefined;
  switch (verb) {
    case "help":
      return { kind: "help" };
    case "quit":
      return { kind: "quit" };
    case "join":
      return join(word, rest);
    case "dm":
      return dm(word, rest);
    case "me":
      return rest === ""
        ? { kind: "invalid", name: word, message: "/me needs an action, e.g. /me waves" }
        : { kind: "me", action: rest, text: `_${rest}_` };
    case "search":
      return search(word, rest);
    case "mute":
    case "unmute":
      return mute(word, verb === "mute", rest);
    default: {
      const suggestion = nearest(word);
      return {
        kind: "unknown",
        name: word,
        ...(suggestion ? { suggestion } : {}),
        message:
          `/${word} is not a command` +
          (suggestion ? `; did you mean /${suggestion}?` : "") +
          "; /help lists them, and //text posts a line that starts with '/'",
      };
    }
  }
}

/** Help lines, one per command: "/join #CHANNEL (/switch, /j) — switch to a channel". */
export function commandHelp(): string[] {
  return COMMANDS.map(
    (c) => `${c.usage}${c.aliases.length > 0 ? ` (${c.aliases.join(", ")})` : ""} — ${c.summary}`,
  );
}

function join(word: string, rest: string): ChatCommand {
  const channel = rest.startsWith("#") ? rest.slice(1) : rest;
  if (channel === "") {
    return {
      kind: "invalid",
      name: word,
      message: `/${word} needs a channel, e.g. /${word} #NATS`,
    };
  }
  if (!isValidChannel(channel)) {
    return {
      kind: "invalid",
      name: word,
      message: `"${rest.slice(0, 40)}" is not a channel name: use 1 to 32 letters, digits, '-' or '_', e.g. /${word} #NATS`,
    };
  }
  return { kind: "join", channel };
}

function dm(word: string, rest: string): ChatCommand {
  const first = rest.split(/\s/, 1)[0] ?? "";
  const raw = first.startsWith("@") ? first.slice(1) : first;
  if (raw === "") {
    return { kind: "invalid", name: word, message: `/${word} needs a name, e.g. /${word} alice` };
  }
  let name: string;
  try {
    name = normalizeName(raw);
  } catch (err) {
    if (!(err instanceof InvalidNameError)) throw err;
    return { kind: "invalid", name: word, message: err.message };
  }
  // rest is trimmed: the name is its first word, and the message keeps its own spacing
  const text = rest.slice(first.length).trim();
  return text === "" ? { kind: "dm", name } : { kind: "dm", name, text };
}

/** The most characters a search takes (the search service's limit). */
const MAX_QUERY = 100;

function search(word: string, rest: string): ChatCommand {
  if (rest === "") {
    return { kind: "invalid", name: word, message: `/${word} needs some text, e.g. /${word} jwt` };
  }
  if (Array.from(rest).length > MAX_QUERY) {
    return {
      kind: "invalid",
      name: word,
      message: `a search is at most ${MAX_QUERY} characters; shorten it`,
    };
  }
  return { kind: "search", query: rest };
}

function mute(word: string, muted: boolean, rest: string): ChatCommand {
  if (rest === "") return { kind: "mute", muted };
  if (rest.startsWith("#")) {
    const parsed = join(word, rest);
    return parsed.kind === "join"
      ? { kind: "mute", muted, conversation: `#${parsed.channel}` }
      : parsed;
  }
  const raw = rest.startsWith("@") ? rest.slice(1) : rest;
  try {
    return { kind: "mute", muted, conversation: `@${normalizeName(raw)}` };
  } catch (err) {
    if (!(err instanceof InvalidNameError)) throw err;
    return {
      kind: "invalid",
      name: word,
      message: `${err.message}; /${word} takes #CHANNEL or a person's name (none: the one on screen)`,
    };
  }
}

/** The command word closest to `word` (a typo away), if any. */
function nearest(word: string): string | undefined {
  return closest(word, [
    "help",
    "join",
    "switch",
    "dm",
    "msg",
    "me",
    "search",
    "mute",
    "unmute",
    "quit",
    "exit",
  ]);
}

/**
 * The conversation id a /mute or /unmute names: `named` ("#CHANNEL", or "@name" of a user this
 * session knows), or `current` when none is named; or why it names none.
 */
export function mutedConversation(
  snap: Pick<ChatSnapshot, "channels" | "users">,
  named: string | undefined,
  current: string,
): { ok: true; id: string } | { ok: false; message: string } {
  if (named === undefined) return { ok: true, id: current };
  if (named.startsWith("#")) {
    return snap.channels.some((c) => c.id === named)
      ? { ok: true, id: named }
      : { ok: false, message: `${named} is not one of this chat's channels` };
  }
  const name = named.slice(1);
  const key = snap.users.find((u) => u.name === name)?.key;
  return key === undefined
    ? { ok: false, message: `no one called "${name}" is known here yet` }
    : { ok: true, id: `@${key}` };
}
