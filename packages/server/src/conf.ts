// Serializes a plain object into nats-server configuration syntax.
export type ConfValue =
  | string
  | number
  | boolean
  | ConfValue[]
  | { [key: string]: ConfValue | undefined };

const BARE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function quote(s: string): string {
  return JSON.stringify(s);
}

function value(v: ConfValue, indent: string): string {
  if (typeof v === "string") return quote(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    const inner = `${indent}  `;
    return `[\n${v.map((x) => `${inner}${value(x, inner)}`).join("\n")}\n${indent}]`;
  }
  return block(v, indent);
}

function block(obj: { [key: string]: ConfValue | undefined }, indent: string): string {
  const inner = `${indent}  `;
  const lines = Object.entries(obj)
    .filter((e): e is [string, ConfValue] => e[1] !== undefined)
    .map(([k, v]) => `${inner}${BARE_KEY.test(k) ? k : quote(k)}: ${value(v, inner)}`);
  return `{\n${lines.join("\n")}\n${indent}}`;
}

/** Renders top-level settings, one per line, nested blocks indented. */
export function renderConf(
  settings: { [key: string]: ConfValue | undefined },
  header = "",
): string {
  const lines = Object.entries(settings)
    .filter((e): e is [string, ConfValue] => e[1] !== undefined)
    .map(([k, v]) => `${BARE_KEY.test(k) ? k : quote(k)}: ${value(v, "")}`);
  return `${header ? `# ${header}\n` : ""}${lines.join("\n")}\n`;
}
