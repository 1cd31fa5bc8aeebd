// What every endpoint shares: a reply type, and the one place where a request is answered, so
// no reply can escape the error handling. An error thrown by the work is an error reply (an
// AccessError with its code, anything else INTERNAL, logged and counted); an error thrown while
// responding (a reply over max_payload, a closed connection) is logged and counted, and the
// requester gets an INTERNAL error reply when one can still be sent.
import { headers } from "@nats-io/nats-core";
import type { ServiceMsg } from "@nats-io/services";
import {
  ACCESS_ERROR_HEADER,
  AccessError,
  type AccessErrorCode,
  formatAccessError,
} from "@natschat/protocol";
import type { Logger } from "./log.ts";
import type { Endpoint, ServiceFigures } from "./stats.ts";

/** An endpoint's answer. */
export type Reply =
  | { ok: true; body: string }
  | { ok: false; code: AccessErrorCode; message: string; reason: string };

/** The work of an endpoint. */
export type Work = (msg: ServiceMsg) => Promise<Reply>;

export const STATUS: Record<AccessErrorCode, number> = {
  NAME_INVALID: 400,
  BAD_REQUEST: 400,
  BAD_PROOF: 401,
  NAME_REVOKED: 403,
  NAME_RESERVED: 403,
  LEGACY_DISABLED: 403,
  NOT_FOUND: 404,
  NAME_TAKEN: 409,
  REPLAY: 409,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  REGISTRY_FULL: 507,
};

/** Turns anything thrown by endpoint work into a reply. */
export function replyOf(
  err: unknown,
  endpoint: Endpoint,
  log: Logger,
  figures: ServiceFigures,
): Reply {
  if (err instanceof AccessError) {
    return { ok: false, code: err.code, message: err.message, reason: err.reason };
  }
  figures.unexpected++;
  log.error("request failed unexpectedly", { endpoint, err });
  return {
    ok: false,
    code: "INTERNAL",
    message: "internal error in the access service; try again",
    reason: "internal",
  };
}

function sendError(msg: ServiceMsg, code: AccessErrorCode, message: string): void {
  const { body } = formatAccessError(code, message);
  const h = headers();
  h.set(ACCESS_ERROR_HEADER, code);
  msg.respondError(STATUS[code] ?? 500, message.slice(0, 200), body, { headers: h });
}

/** Sends a reply and counts it; never throws. */
export function respond(
  msg: ServiceMsg,
  endpoint: Endpoint,
  reply: Reply,
  started: number,
  log: Logger,
  figures: ServiceFigures,
): void {
  const ms = performance.now() - started;
  if (reply.ok) figures.ok(endpoint, ms);
  else figures.refused(endpoint, reply.code, reply.reason, ms);
  if (!msg.reply) return; // a publish without a reply subject: nothing to answer
  try {
    if (reply.ok) msg.respond(reply.body);
    else sendError(msg, reply.code, reply.message);
  } catch (err) {
    figures.unexpected++;
    log.error("reply failed", { endpoint, bytes: reply.ok ? reply.body.length : 0, err });
    try {
      sendError(msg, "INTERNAL", "the reply could not be sent (too large?); try a smaller request");
    } catch (again) {
      log.error("error reply failed too", { endpoint, err: again });
    }
  }
}
