// Mentions as the user types them: `@name` of a known user (the roster and the directory's
// answers; issued names are unique) becomes `<@KEY>` before the message is signed, so the stored
// text names the key and a rename cannot retarget it; and the candidates an `@` prefix offers.
// A name nobody known holds stays as typed. Pure: the known names are passed in.
import { mentionOf, normalizeName } from "@natschat/protocol";
import type { MentionCandidate } from "./api.ts";

/** Most candidates mentionCandidates returns. */
export const MENTION_CANDIDATES_MAX = 8;

// `@` at the start or after a character that cannot end a name or an e-mail's local part;
// then a name (letters, digits, '-', '_'; 1 to 16) that is not followed by another name character.
const TYPED_MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9][A-Za-z0-9_-]{0,15})(?![A-Za-z0-9_-])/g;

/** Replaces `@name` of every known user by `<@KEY>`; `keyOf` maps an issued name to its key. */
export function mentionsToKeys(text: string, keyOf: (name: string) => string | undefined): string {
  return text.replace(TYPED_MENTION, (whole, before: string, name: string) => {
    let key: string | undefined;
    try {
      key = keyOf(normalizeName(name));
    } catch {
      key = undefined; // not a valid name: leave it as typed
    }
    return key === undefined ? whole : `${before}${mentionOf(key)}`;
  });
}

/**
 * Known users whose issued name starts with `prefix` (case-insensitive, an optional leading `@`),
 * not us, by name, at most MENTION_CANDIDATES_MAX.
 */
export function mentionCandidates(
  prefix: string,
  known: Iterable<MentionCandidate>,
  me: string,
): MentionCandidate[] {
  const p = prefix.replace(/^@/, "").trim().toLowerCase();
  const out: MentionCandidate[] = [];
  const seen = new Set<string>();
  for (const u of known) {
    if (u.key === me || seen.has(u.key) || !u.name.startsWith(p)) continue;
    seen.add(u.key);
    out.push({ key: u.key, name: u.name });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name)).slice(0, MENTION_CANDIDATES_MAX);
}
