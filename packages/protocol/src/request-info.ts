// Who asks a service: nats-server adds `Nats-Request-Info` (JSON: acc, user, name, host, kind, …)
// to a request that crosses a service import with `share: true`, replacing any value the
// requester set. Parsed here once, at the edge, for every service.
//
// `kind` says what kind of connection the server took the request from. A chat user's request
// is "Client". At a leaf edge the edge server applies CHAT's import itself (it has an ADMIN
// leafnode remote), so the service sees the user. A request that travelled a CHAT leafnode link
// and crossed the import at the hub names only the link ("Leafnode"): an edge configured without
// the ADMIN remote, or without the CHAT remote's deny of the service subjects. Such a request is
// never answered as the user's.
//
// The server replaces a requester's own copy only when it is the first header line of that name:
// a second copy, or a first one after another header whose value holds the name, stays, and the
// server's copy is appended after it. A request with more than one copy is therefore forged, and
// refused; with exactly one, that one is the server's.
import { NatschatError } from "./errors.ts";
import { REQUEST_INFO_HEADER } from "./subjects.ts";

/** The fields a service uses. */
export interface RequestInfo {
  /** The requester's account public key. */
  acc: string;
  /** The requester's user public key (operator mode). */
  user?: string;
  /** The client's address as the server saw it. */
  host?: string;
  /** The kind of connection the request came from ("Client", "Leafnode", …). */
  kind?: string;
}

/** Headers as nats-core's MsgHdrs offers them (kept structural: protocol has no NATS code). */
interface HeaderSource {
  keys(): string[];
  values(name: string): string[];
}

/** A request carried more than one Nats-Request-Info: the requester added its own. */
export class ForgedRequestInfoError extends NatschatError {
  override name = "ForgedRequestInfoError";
  constructor() {
    super(
      "REQUEST_INFO_FORGED",
      "the request carries its own Nats-Request-Info header; only the server may set it",
    );
  }
}

/**
 * The text of the server's Nats-Request-Info, or undefined when there is none; throws
 * ForgedRequestInfoError when there is more than one (header names compared without case).
 */
export function requestInfoText(headers: HeaderSource | undefined): string | undefined {
  if (!headers) return undefined;
  const wanted = REQUEST_INFO_HEADER.toLowerCase();
  const values = headers
    .keys()
    .filter((k) => k.toLowerCase() === wanted)
    .flatMap((k) => headers.values(k));
  if (values.length > 1) throw new ForgedRequestInfoError();
  return values[0];
}

/** The server's Request-Info of a message, or undefined; throws ForgedRequestInfoError. */
export function requestInfoOf(headers: HeaderSource | undefined): RequestInfo | undefined {
  return parseRequestInfo(requestInfoText(headers));
}

/** A Nats-Request-Info header's value, parsed; undefined when absent or unreadable. */
export function parseRequestInfo(text: string | undefined): RequestInfo | undefined {
  if (!text || text.length > 16_384) return undefined;
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
    ...(typeof o.kind === "string" ? { kind: o.kind } : {}),
  };
}

/**
 * True for the hub's copy of a request that a leaf edge relayed over its CHAT link: the server
 * could only name the link, and the edge delivered the user's own copy through its ADMIN link.
 */
export function relayedByLeafnode(info: RequestInfo | undefined): boolean {
  return info?.kind === "Leafnode";
}
