// What Welcome says about a name as it is typed, in a person's words. Whether a name is valid is
// decided by the protocol's normalizeName (the one place with the rules); this only explains a
// refusal in plain language, with a fix to try where there is an obvious one.
import { NAME_MAX_LENGTH, normalizeName } from "@natschat/protocol";

/** The name as it will be issued, or what is wrong with it; nothing for an empty field. */
export function checkTypedName(input: string): { name?: string; problem?: string } {
  if (input.trim() === "") return {};
  try {
    return { name: normalizeName(input) };
  } catch {
    return { problem: explain(input.trim()) };
  }
}

function explain(name: string): string {
  const chars = [...name];
  if (chars.length > NAME_MAX_LENGTH) {
    return `That is ${chars.length} characters; a name can have at most ${NAME_MAX_LENGTH}.`;
  }
  if (/\s/.test(name)) {
    const joined = name.toLowerCase().split(/\s+/).join("-");
    return `Names can't have spaces. How about "${joined}"?`;
  }
  const odd = chars.find((c) => !/^[A-Za-z0-9_-]$/.test(c));
  if (odd !== undefined) {
    const code = odd.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return "Names can't have invisible characters.";
    if (code > 0x7f) {
      return `Names use plain letters a to z, digits, '-' and '_', so "${odd}" can't be used.`;
    }
    return `Names can't have "${odd}". Letters, digits, '-' and '_' work.`;
  }
  return "A name must start with a letter or a digit.";
}
