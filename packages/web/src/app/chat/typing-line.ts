// The line under the messages that says who is typing, from ConversationView.typing (display
// names of others, already expired by the client core when their indicator lapses).

/** "alice is typing…", "alice and bob are typing…", "alice, bob and 2 others are typing…". */
export function typingLine(names: readonly string[]): string {
  const [a, b, c] = names;
  if (a === undefined) return "";
  if (b === undefined) return `${a} is typing…`;
  if (c === undefined) return `${a} and ${b} are typing…`;
  if (names.length === 3) return `${a}, ${b} and ${c} are typing…`;
  return `${a}, ${b} and ${names.length - 2} others are typing…`;
}
