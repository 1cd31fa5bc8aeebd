// What the access role's creds allow, read from the creds' own user JWT. A data dir made before
// the directory existed keeps its role creds (init keeps existing creds), and those may not
// subscribe to chat.svc.directory.>: a micro service whose endpoint subscription is refused stops
// as a whole, so the service adds the directory endpoints only when the role may serve them (and
// says how to get them otherwise).
import { parseCreds } from "@natschat/protocol";
import { readCredsFile } from "./connect.ts";
import type { CredsSource } from "./service.ts";

/** True when a NATS subject pattern from a permission list covers `subject` (`*`, `>`). */
export function patternCovers(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return i < s.length;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** The subscribe allow list of the creds' user JWT (undefined: no restriction). */
export async function subscribeAllow(source: CredsSource): Promise<string[] | undefined> {
  const text =
    "path" in source ? new TextDecoder().decode(await readCredsFile(source.path)) : source.text;
  const creds = await parseCreds(text);
  const nats = creds.claims.nats as { sub?: { allow?: unknown } } | undefined;
  const allow = nats?.sub?.allow;
  return Array.isArray(allow) ? allow.filter((a): a is string => typeof a === "string") : undefined;
}

/** True when the creds may subscribe to `subject` (a subject with wildcards counts as itself). */
export async function maySubscribe(source: CredsSource, subject: string): Promise<boolean> {
  const allow = await subscribeAllow(source);
  if (allow === undefined || allow.length === 0) return true;
  return allow.some((a) => a === subject || patternCovers(a, subject));
}
