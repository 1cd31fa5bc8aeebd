// Who asks: the server adds `Nats-Request-Info` (JSON: acc, user, name, host, rtt, …) to a
// request that crosses a service import with `share: true`, and overrides any value the requester
// set. Only requests from inside ADMIN reach the service without crossing the import, and there
// nobody but the service roles may publish on its subjects (admin is denied; tested), so on these
// subjects the header is the server's word. Parsed at the edge into a typed value.
import type { MsgHdrs } from "@nats-io/nats-core";

export const REQUEST_INFO_HEADER = "Nats-Request-Info";

/** The fields the service uses. */
export interface RequestInfo {
  /** The requester's account public key. */
  acc: string;
  /** The requester's user public key (operator mode). */
  user?: string;
  /** The client's address as the server saw it. */
  host?: string;
}

/** The Request-Info of a message, or undefined when absent or unreadable. */
export function requestInfoOf(headers: MsgHdrs | undefined): RequestInfo | undefined {
  const text = headers?.get(REQUEST_INFO_HEADER);
  if (!text) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined; // the server writes valid JSON; anything else is treated as absent
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.acc !== "string") return undefined;
  return {
    acc: o.acc,
    ...(typeof o.user === "string" ? { user: o.user } : {}),
    ...(typeof o.host === "string" && o.host.length <= 64 ? { host: o.host } : {}),
  };
}

/**
 * The key an address is limited under: an IPv4 address as is, an IPv6 address by its /64 prefix
 * (one subscriber usually holds a whole /64, so rotating addresses inside it gains nothing).
 */
export function addressKey(host: string): string {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (!h.includes(":")) return h;
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/.test(h)) return h.slice(7); // IPv4-mapped
  const [head = "", tail = ""] = h.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = h.includes("::")
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
