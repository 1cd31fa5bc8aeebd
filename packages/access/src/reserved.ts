// Names nobody may register: the roles of the trust tree, the services, the default channels, and
// words a reader would take for the system speaking ("admin", "everyone", "here"). The list is
// configurable (`--reserved-names` adds to it); names are compared after normalization.
import { DEFAULT_CHANNELS, normalizeName } from "@natschat/protocol";
import { ROLES } from "@natschat/trust";

/** Reserved by default. */
export const DEFAULT_RESERVED_NAMES: readonly string[] = Object.freeze([
  ...ROLES,
  ...DEFAULT_CHANNELS.map((c) => c.toLowerCase()),
  "history",
  "history-api",
  "directory",
  "admin",
  "admins",
  "administrator",
  "sysadmin",
  "root",
  "operator",
  "system",
  "server",
  "service",
  "natschat",
  "nats",
  "synadia",
  "cncf",
  "here",
  "everyone",
  "all",
  "channel",
  "me",
  "you",
  "null",
  "undefined",
  "anonymous",
  "guest",
  "help",
  "support",
  "security",
  "moderator",
  "mod",
  "staff",
  "official",
  "owner",
]);

/** A reserved-name list. */
export class ReservedNames {
  readonly #names: Set<string>;
  constructor(names: Iterable<string> = DEFAULT_RESERVED_NAMES) {
    this.#names = new Set([...names].map((n) => n.trim().toLowerCase()));
  }

  /** True when `name` (already normalized) is reserved. */
  has(name: string): boolean {
    return this.#names.has(name);
  }

  get size(): number {
    return this.#names.size;
  }
}

/** Parses `--reserved-names a,b,c` into valid names; throws on a name that breaks the rules. */
export function parseReservedNames(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => normalizeName(s));
}
