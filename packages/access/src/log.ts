// A small structured logger: one JSON object per line, with levels. Fields that look like
// secrets (seeds, creds, JWTs) are masked before anything is written, so a careless call site
// cannot leak them; callers still log only names, public keys and codes.

/** Log levels, least to most severe. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Extra fields of a log line. */
export type LogFields = Record<string, unknown>;

/** Writes one finished line (without its newline). */
export type LogSink = (line: string) => void;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

// An nkey seed (S + type letter + 56 base32 characters), a JWT (three base64url parts starting
// with a JSON header), or a creds block: masked wherever they appear in a string.
const SECRETS: [RegExp, string][] = [
  [/-----BEGIN[\s\S]*?------END[^-]*------/g, "[creds]"],
  [/\bS[OACUNX][A-Z2-7]{56}\b/g, "[seed]"],
  [/\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{20,}/g, "[jwt]"],
];

/** Masks seeds, JWTs and creds blocks in a string. */
export function redact(text: string): string {
  let out = text;
  for (const [re, mask] of SECRETS) out = out.replace(re, mask);
  return out;
}

function clean(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redact(value);
  if (value instanceof Error) return redact(value.message);
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v, depth + 1)]));
}

/** Parses a level name; throws with the accepted names. */
export function parseLogLevel(text: string): LogLevel {
  const level = text.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new Error(`log level "${text}" is unknown: use ${LOG_LEVELS.join(", ")}`);
}

/** Creates a JSON-lines logger writing lines at or above `level` to `sink` (default stderr). */
export function createLogger(
  opts: { level?: LogLevel; sink?: LogSink; fields?: LogFields } = {},
): Logger {
  const min = LOG_LEVELS.indexOf(opts.level ?? "info");
  const sink: LogSink = opts.sink ?? ((line) => process.stderr.write(`${line}\n`));
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (LOG_LEVELS.indexOf(level) < min) return;
      const line = {
        time: new Date().toISOString(),
        level,
        msg: redact(msg),
        ...(clean(base) as LogFields),
        ...(fields ? (clean(fields) as LogFields) : {}),
      };
      sink(JSON.stringify(line));
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return make(opts.fields ?? {});
}

/** A logger that writes nothing (tests, benchmarks). */
export const silentLogger: Logger = createLogger({ sink: () => {}, level: "error" });
