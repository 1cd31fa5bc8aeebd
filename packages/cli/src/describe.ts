// `natschat describe FILE|JWT`: decodes and verifies a JWT or creds file and prints it readably.
// It never prints a seed: for creds it only says whether the seed matches the JWT.
import { readFile, stat } from "node:fs/promises";
import { type ClaimsData, decode } from "@nats-io/jwt";
import { parseCreds } from "@natschat/protocol";
import { parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";

const USAGE = "natschat describe FILE|JWT";

type Claims = ClaimsData<Record<string, unknown>>;

const KIND_BY_PREFIX: Record<string, string> = { O: "operator", A: "account", U: "user" };

function when(seconds: unknown): string {
  return typeof seconds === "number" && seconds > 0
    ? `${new Date(seconds * 1000).toISOString()}`
    : "never";
}

function list(label: string, value: unknown, out: string[]): void {
  if (Array.isArray(value) && value.length > 0)
    out.push(
      `${label}:`,
      ...value.map((v) => `  - ${typeof v === "string" ? v : JSON.stringify(v)}`),
    );
}

/** Readable lines for one verified JWT. */
export function describeClaims(c: Claims): string[] {
  const nats = c.nats ?? {};
  const kind = (nats.type as string | undefined) ?? KIND_BY_PREFIX[c.sub?.[0] ?? ""] ?? "unknown";
  const out = [
    `type:       ${kind}`,
    `name:       ${c.name}`,
    `subject:    ${c.sub}`,
    `issuer:     ${c.iss}${nats.issuer_account ? ` (account ${nats.issuer_account})` : ""}`,
    `issued:     ${when(c.iat)}`,
    `expires:    ${when(c.exp)}${typeof c.exp === "number" && c.exp * 1000 < Date.now() ? " (EXPIRED)" : ""}`,
  ];
  if (nats.system_account) out.push(`system account: ${nats.system_account}`);
  list("signing keys", nats.signing_keys, out);
  const pub = nats.pub as { allow?: string[]; deny?: string[] } | undefined;
  const sub = nats.sub as { allow?: string[]; deny?: string[] } | undefined;
  list("pub allow", pub?.allow, out);
  list("pub deny", pub?.deny, out);
  list("sub allow", sub?.allow, out);
  list("sub deny", sub?.deny, out);
  if (nats.resp) out.push(`responses:  ${JSON.stringify(nats.resp)}`);
  if (kind === "user") {
    out.push(
      `limits:     subs ${nats.subs ?? -1}, data ${nats.data ?? -1}, payload ${nats.payload ?? -1}`,
    );
  }
  if (nats.limits) out.push(`limits:     ${JSON.stringify(nats.limits)}`);
  list("exports", nats.exports, out);
  list("imports", nats.imports, out);
  const revocations = nats.revocations as Record<string, number> | undefined;
  if (revocations && Object.keys(revocations).length > 0) {
    out.push(
      "revocations:",
      ...Object.entries(revocations).map(([k, t]) => `  - ${k} at ${when(t)}`),
    );
  }
  return out;
}

function decodeVerified(token: string, source: string): Claims {
  try {
    return decode<Record<string, unknown>>(token) as Claims;
  } catch (err) {
    throw new UsageError(
      `${source} is not a valid, correctly signed JWT: ${(err as Error).message}`,
    );
  }
}

export async function describeVerb(argv: string[]): Promise<number> {
  const { positionals } = parseVerb(argv, {}, USAGE, 1);
  const input = positionals[0];
  if (!input) throw new UsageError(`usage: ${USAGE}`);
  let text = input.trim();
  let source = "the argument";
  const isFile = await stat(input).then(
    (s) => s.isFile(),
    () => false,
  );
  if (isFile) {
    text = (await readFile(input, "utf8")).trim();
    source = input;
  }
  if (text.includes("-----BEGIN")) {
    const creds = await parseCreds(text);
    console.log(`creds file: ${source}`);
    console.log(describeClaims(decodeVerified(creds.jwt, source)).join("\n"));
    console.log(`seed:       present, matches the subject (not shown)`);
    return 0;
  }
  if (/^S[A-Z2-7]{50,}$/.test(text))
    throw new UsageError(`${source} is an nkey seed, not a JWT; describe never prints seeds`);
  console.log(describeClaims(decodeVerified(text, source)).join("\n"));
  return 0;
}
