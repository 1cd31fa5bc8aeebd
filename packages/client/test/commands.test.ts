// The slash-command parser shared by the terminal and the web UI: commands are never posts,
// unknown ones are told apart (with a "did you mean"), and plain text stays a post.
import { closest, commandHelp, parseCommand } from "@natschat/client";
import { describe, expect, it } from "vitest";

describe("parseCommand", () => {
  it("plain text is a post, trimmed; a blank line is nothing", () => {
    expect(parseCommand("  hello there ")).toEqual({ kind: "post", text: "hello there" });
    expect(parseCommand("   ")).toEqual({ kind: "empty" });
    // a path is not a command word
    expect(parseCommand("/usr/bin is on PATH")).toEqual({
      kind: "post",
      text: "/usr/bin is on PATH",
    });
    // "//" escapes a leading slash
    expect(parseCommand("//help is a command")).toEqual({
      kind: "post",
      text: "/help is a command",
    });
  });

  it("/help, /quit and their aliases", () => {
    for (const l of ["/help", "/?", "/HELP", " /help  "])
      expect(parseCommand(l)).toEqual({ kind: "help" });
    for (const l of ["/quit", "/exit", "/q"]) expect(parseCommand(l)).toEqual({ kind: "quit" });
  });

  it("/join and /switch take a channel with or without '#'", () => {
    expect(parseCommand("/join #NATS")).toEqual({ kind: "join", channel: "NATS" });
    expect(parseCommand("/switch General")).toEqual({ kind: "join", channel: "General" });
    expect(parseCommand("/j #dev-ops")).toEqual({ kind: "join", channel: "dev-ops" });
    const missing = parseCommand("/join");
    expect(missing).toMatchObject({ kind: "invalid", name: "join" });
    expect(missing.kind === "invalid" && missing.message).toContain("/join #NATS");
    const bad = parseCommand("/join #a.b");
    expect(bad.kind === "invalid" && bad.message).toMatch(/not a channel name/);
  });

  it("/dm NAME [message] normalizes the name and keeps the message", () => {
    expect(parseCommand("/dm Alice")).toEqual({ kind: "dm", name: "alice" });
    expect(parseCommand("/msg @bob  see  you  later ")).toEqual({
      kind: "dm",
      name: "bob",
      text: "see  you  later",
    });
    const bad = parseCommand("/dm al.ice hi");
    expect(bad).toMatchObject({ kind: "invalid", name: "dm" });
    expect(bad.kind === "invalid" && bad.message).toContain("'.'");
    expect(parseCommand("/dm")).toMatchObject({ kind: "invalid", name: "dm" });
  });

  it("/me is an action posted in italics", () => {
    expect(parseCommand("/me waves")).toEqual({ kind: "me", action: "waves", text: "_waves_" });
    expect(parseCommand("/me")).toMatchObject({ kind: "invalid", name: "me" });
  });

  it("an unknown /word is never a post, and a near miss gets a suggestion", () => {
    const typo = parseCommand("/hlep");
    expect(typo).toMatchObject({ kind: "unknown", name: "hlep", suggestion: "help" });
    expect(typo.kind === "unknown" && typo.message).toContain("did you mean /help?");
    const other = parseCommand("/shrug ok");
    expect(other).toMatchObject({ kind: "unknown", name: "shrug" });
    expect(other.kind === "unknown" && other.suggestion).toBeUndefined();
    expect(other.kind === "unknown" && other.message).toContain("/help lists them");
  });

  it("/search takes 1 to 100 characters of text", () => {
    expect(parseCommand("/search  nats jwt ")).toEqual({ kind: "search", query: "nats jwt" });
    expect(parseCommand("/find x")).toEqual({ kind: "search", query: "x" });
    expect(parseCommand("/search")).toMatchObject({ kind: "invalid", name: "search" });
    const long = parseCommand(`/search ${"x".repeat(101)}`);
    expect(long.kind === "invalid" && long.message).toContain("at most 100 characters");
    expect(parseCommand("/serach x")).toMatchObject({ kind: "unknown", suggestion: "search" });
  });

  it("/mute and /unmute take the conversation on screen, a #CHANNEL or a name", () => {
    expect(parseCommand("/mute")).toEqual({ kind: "mute", muted: true });
    expect(parseCommand("/unmute #NATS")).toEqual({
      kind: "mute",
      muted: false,
      conversation: "#NATS",
    });
    expect(parseCommand("/mute @Bob")).toEqual({ kind: "mute", muted: true, conversation: "@bob" });
    expect(parseCommand("/mute #a.b")).toMatchObject({ kind: "invalid", name: "mute" });
    const bad = parseCommand("/unmute al.ice");
    expect(bad.kind === "invalid" && bad.message).toContain("#CHANNEL or a person's name");
  });

  it("help lists every command", () => {
    const lines = commandHelp().join("\n");
    for (const w of [
      "/help",
      "/join #CHANNEL",
      "/switch",
      "/dm NAME",
      "/me",
      "/search TEXT",
      "/mute",
      "/unmute",
      "/quit",
      "//text",
    ]) {
      expect(lines).toContain(w);
    }
  });
});

describe("closest", () => {
  it("finds a word one typo away, and nothing further", () => {
    const verbs = ["init", "up", "status", "users"];
    expect(closest("stauts", verbs)).toBe("status"); // neighbours swapped
    expect(closest("statu", verbs)).toBe("status"); // dropped
    expect(closest("userss", verbs)).toBe("users"); // added
    expect(closest("Stauts", verbs)).toBe("status"); // case does not matter
    expect(closest("xtatux", verbs)).toBeUndefined(); // two edits
    expect(closest("status", verbs)).toBeUndefined(); // the word itself is no typo
  });
});
