// The JSON edge of every natschat wire parser: bounded size, UTF-8, one object, known fields
// only, typed numbers. Failures throw HistoryWireError("BAD_REQUEST") with a message that says
// what to send instead.
import { HistoryWireError } from "./errors.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Throws BAD_REQUEST with `message`. */
export function bad(message: string): never {
  throw new HistoryWireError("BAD_REQUEST", message);
}

/** Parses `data` (at most `max` bytes) as one JSON object; empty means `{}`. */
export function jsonObject(
  data: Uint8Array | string,
  max: number,
  what: string,
): Record<string, unknown> {
  if (data.length > max) bad(`${what} is ${data.length} bytes, the limit is ${max}`);
  let text: string;
  try {
    text = typeof data === "string" ? data : decoder.decode(data);
  } catch (err) {
    throw new HistoryWireError("BAD_REQUEST", `${what} is not UTF-8`, { cause: err });
  }
  let value: unknown;
  try {
    value = text.trim() === "" ? {} : JSON.parse(text);
  } catch (err) {
    throw new HistoryWireError("BAD_REQUEST", `${what} is not JSON`, { cause: err });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    bad(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Refuses a field not in `allowed`. */
export function onlyKeys(o: Record<string, unknown>, allowed: string[], what: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      bad(
        `${what} has an unknown field ${JSON.stringify(k.slice(0, 40))}; use ${allowed.join(", ")}`,
      );
}

/** An optional stream sequence (a whole number ≥ 1). */
export function optSeq(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1)
    bad(`${key} must be a stream sequence (a whole number ≥ 1)`);
  return v;
}
