// User-name rules: the one place that decides what a chat name may be.
//
// The rules, applied in this order:
//   1. Trim outer whitespace.
//   2. Fold ASCII 'A'..'Z' to 'a'..'z'. Nothing else is folded: String#toLowerCase would map
//      look-alikes such as the Kelvin sign (U+212A) to an ASCII 'k', so it is not used.
//   3. The result must match ^[a-z0-9][a-z0-9_-]{0,15}$ : 1 to 16 characters, ASCII letters and
//      digits, '-' and '_', starting with a letter or digit.
// Anything else throws InvalidNameError saying what is wrong: empty or blank input, a name that
// is too long (with its length and the maximum), control characters, non-ASCII characters
// (including Unicode look-alikes such as Cyrillic 'а'), and '.', '*', '>', '/', spaces and
// other punctuation. A name is never truncated or rewritten beyond steps 1 and 2.
import { InvalidNameError } from "./errors.ts";

/** Longest allowed user name, in characters. */
export const NAME_MAX_LENGTH = 16;

const NAME = /^[a-z0-9][a-z0-9_-]{0,15}$/;
const ALLOWED = /^[a-z0-9_-]$/;
const HINT = "use letters, digits, '-' or '_'";

// Letters, marks, digits, punctuation, symbols and the plain space print safely in a log line;
// everything else (controls, bidi overrides, zero-width characters) is shown as U+XXXX.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function hex(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Quotes a name for an error message, shortened so a huge input cannot flood a log. */
function quote(name: string): string {
  const chars = [...name];
  const shown = chars.slice(0, 24).map((c) => (PRINTABLE.test(c) ? c : `<${hex(c)}>`));
  return `"${shown.join("")}${chars.length > 24 ? "…" : ""}"`;
}

function describe(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return `control character ${hex(ch)}`;
  if (cp > 0x7f) {
    const shown = PRINTABLE.test(ch) ? `'${ch}' ` : "";
    return `non-ASCII character ${shown}(${hex(ch)})`;
  }
  if (ch === " ") return "a space";
  return `'${ch}'`;
}

/** Normalizes and validates a user name; throws InvalidNameError if it breaks a rule. */
export function normalizeName(input: string): string {
  if (typeof input !== "string" || input.length === 0) {
    throw new InvalidNameError(`name is empty, pick 1 to ${NAME_MAX_LENGTH} characters: ${HINT}`);
  }
  const trimmed = input.trim();
  if (trimmed.length === 0) {
    throw new InvalidNameError(
      `name is only whitespace, pick 1 to ${NAME_MAX_LENGTH} characters: ${HINT}`,
    );
  }
  const name = trimmed.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const length = [...name].length;
  if (length > NAME_MAX_LENGTH) {
    throw new InvalidNameError(
      `name ${quote(name)} is ${length} characters long, the maximum is ${NAME_MAX_LENGTH}`,
    );
  }
  for (const ch of name) {
    if (!ALLOWED.test(ch)) {
      throw new InvalidNameError(`name ${quote(name)} has ${describe(ch)}, ${HINT}`);
    }
  }
  if (!NAME.test(name)) {
    throw new InvalidNameError(`name ${quote(name)} must start with a letter or a digit`);
  }
  return name;
}

/** True if `input` normalizes to a valid name. */
export function isValidName(input: string): boolean {
  try {
    normalizeName(input);
    return true;
  } catch {
    // The error only carries the explanation, which this predicate does not need.
    return false;
  }
}
