// Flag parsing shared by every verb: strict (unknown flags are errors), with --dir everywhere.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { defaultDataDir } from "@natschat/trust";
import { UsageError } from "./errors.ts";

type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

export interface Parsed<F extends FlagSpec> {
  flags: { [K in keyof F]?: F[K]["type"] extends "boolean" ? boolean : string } & { dir: string };
  positionals: string[];
}

/** Parses argv for one verb; the usage text is shown in any error. */
export function parseVerb<F extends FlagSpec>(
  argv: string[],
  flags: F,
  usage: string,
  maxPositionals = 0,
): Parsed<F> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...flags, dir: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split("\n")[0]}\nusage: ${usage}`);
  }
  if (parsed.values.help) throw new UsageError(`usage: ${usage}`);
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
