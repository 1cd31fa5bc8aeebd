// Flag parsing shared by every verb: strict, with --dir and --help everywhere. Mistyped flags get
// our own errors (unknown flag with the nearest known one, a value missing or given to a switch),
// checked before node:util parseArgs sees them; `--help` prints the verb's usage and every flag
// with what it means (flag-help.ts), and exits 0 (HelpRequested, printed by mod.ts).
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { closest } from "@natschat/client";
import { defaultDataDir } from "@natschat/trust";
import { UsageError } from "./errors.ts";
import { flagHelp } from "./flag-help.ts";

type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

export interface Parsed<F extends FlagSpec> {
  flags: { [K in keyof F]?: F[K]["type"] extends "boolean" ? boolean : string } & { dir: string };
  positionals: string[];
}

/** `--help` was asked for: `text` is the verb's help, for stdout (exit 0). */
export class HelpRequested extends Error {
  override name = "HelpRequested";
  readonly code = "HELP";
  constructor(readonly text: string) {
    super("help requested");
  }
}

const ALWAYS = {
  dir: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies FlagSpec;

/** The verb a usage line is for: "natschat users [--watch]" → "users". */
function verbOf(usage: string): string {
  return /^natschat (\S+)/.exec(usage)?.[1] ?? "";
}

/** The help of a verb: its usage, then one line per flag with what it takes and means. */
export function verbHelp(usage: string, flags: FlagSpec): string {
  const verb = verbOf(usage);
  const all: FlagSpec = { ...flags, ...ALWAYS };
  const rows = Object.entries(all).map(([name, spec]) => {
    const h = flagHelp(verb, name);
    const short = spec.short ? `, -${spec.short}` : "";
    const value = spec.type === "string" ? ` ${h?.value ?? "VALUE"}` : "";
    return [`--${name}${value}${short}`, h?.help ?? ""] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `usage: ${usage}`,
    "",
    "flags:",
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`.trimEnd()),
  ].join("\n");
}

/** Our own errors for flags parseArgs would reject with its own words; throws HelpRequested. */
function checkFlags(argv: string[], options: FlagSpec, usage: string): void {
  const verb = verbOf(usage);
  const hint = `\`natschat ${verb} --help\` lists them`;
  const names = Object.keys(options);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") return;
    if (arg === "-h") throw new HelpRequested(verbHelp(usage, options));
    if (!arg.startsWith("-") || arg === "-") continue;
    const eq = arg.indexOf("=");
    const name = (eq < 0 ? arg : arg.slice(0, eq)).replace(/^--?/, "");
    const spec = arg.startsWith("--") ? options[name] : undefined;
    if (!spec) {
      const near = arg.startsWith("--") ? closest(name, names) : undefined;
      throw new UsageError(
        `unknown flag ${arg.slice(0, eq < 0 ? undefined : eq)}` +
          (near ? `; did you mean --${near}?` : "") +
          `; ${hint}\nusage: ${usage}`,
      );
    }
    if (name === "help") throw new HelpRequested(verbHelp(usage, options));
    if (spec.type === "boolean") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value (drop "${arg.slice(eq)}")`);
      continue;
    }
    if (eq >= 0) continue;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith("--")) {
      const value = flagHelp(verb, name)?.value ?? "VALUE";
      throw new UsageError(`--${name} needs a value (--${name} ${value})\nusage: ${usage}`);
    }
    i++;
  }
}

/** Parses argv for one verb; the usage text is shown in any error. */
export function parseVerb<F extends FlagSpec>(
  argv: string[],
  flags: F,
  usage: string,
  maxPositionals = 0,
): Parsed<F> {
  const options: FlagSpec = { ...flags, ...ALWAYS };
  checkFlags(argv, options, usage);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // checkFlags caught what users mistype; anything else is shown as parseArgs says it
    throw new UsageError(`${(err as Error).message.split("\n")[0]}\nusage: ${usage}`);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(
      `unexpected argument "${parsed.positionals[maxPositionals]}"\nusage: ${usage}`,
    );
  }
  for (const [k, v] of Object.entries(parsed.values)) {
    if (typeof v === "string" && v.trim() === "")
      throw new UsageError(`--${k} needs a value\nusage: ${usage}`);
  }
  const dir = resolve((parsed.values.dir as string | undefined) ?? defaultDataDir());
  return {
    flags: { ...parsed.values, dir } as Parsed<F>["flags"],
    positionals: parsed.positionals,
  };
}

/** Parses a TCP port flag (1..65535). */
export function parsePort(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new UsageError(`--${flag} "${value}" is not a port: use a whole number from 1 to 65535`);
  }
  return n;
}
