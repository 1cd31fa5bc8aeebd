// Helpers of the input line: "@" + Tab completion of a mention (the candidates come from the
// session: the users it knows, online or not), and the typing line under the messages.

/** The "@word" being typed at the end of `text`: where its "@" is and the word after it. */
export function mentionAtEnd(text: string): { at: number; prefix: string } | undefined {
  const m = /(?:^|\s)@([\p{L}\p{N}_-]*)$/u.exec(text);
  if (!m) return undefined;
  const prefix = m[1] ?? "";
  return { at: text.length - prefix.length - 1, prefix };
}

/** `text` with its mention being typed (the "@" at `at`) completed as "@name ". */
export function completeMention(text: string, at: number, name: string): string {
  return `${text.slice(0, at)}@${name} `;
}

/** "alice is typing…", "alice and bob are typing…", "alice, bob and 2 others are typing…". */
export function typingLine(names: readonly string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  const others = names.length - 2;
  return `${names[0]}, ${names[1]} and ${others} ${others === 1 ? "other" : "others"} are typing…`;
}
