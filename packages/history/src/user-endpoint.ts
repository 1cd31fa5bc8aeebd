// The plumbing of an endpoint that serves a user about that user's own things (read state,
// search over its DMs): who asks is the server's word (Nats-Request-Info, set on CHAT's share:true
// import; a request without it, with two copies, or relayed by a leafnode link that names no
// person, is refused NO_IDENTITY), a bounded number of requests in flight, every outcome a reply
// (bad input BAD_REQUEST, refusals with their code, anything else INTERNAL and logged), counted.
import type { ServiceMsg } from "@nats-io/services";
import {
  ForgedRequestInfoError,
  type HistoryErrorCode,
  HistoryWireError,
  requestInfoText,
} from "@natschat/protocol";
import type { InFlightLimit } from "./in-flight.ts";
import type { Logger } from "./log.ts";
import {
  type ReaderStats,
  type ReadOutcome,
  ReadRefusal,
  type Requester,
  requesterOf,
  respondWith,
} from "./readers.ts";

/** What a user endpoint needs besides its logic. */
export interface UserEndpointContext {
  chatAccount: string;
  limit: InFlightLimit;
  stats: ReaderStats;
  log: Logger;
  /** The endpoint's name, for the log. */
  endpoint: string;
}

/** Serves one request with `serve`, as the user the server names; every outcome is a reply. */
export async function answerUser(
  ctx: UserEndpointContext,
  msg: ServiceMsg,
  serve: (who: Requester, data: Uint8Array) => Promise<string>,
): Promise<void> {
  const outcome = await outcomeOf(ctx, msg, serve);
  if (outcome.ok) ctx.stats.ok++;
  else ctx.stats.errors[outcome.code] = (ctx.stats.errors[outcome.code] ?? 0) + 1;
  respondWith(msg, outcome);
}

const refused = (code: HistoryErrorCode, message: string): ReadOutcome => ({
  ok: false,
  code,
  message,
});

async function outcomeOf(
  ctx: UserEndpointContext,
  msg: ServiceMsg,
  serve: (who: Requester, data: Uint8Array) => Promise<string>,
): Promise<ReadOutcome> {
  let who: Requester | undefined;
  try {
    who = requesterOf(requestInfoText(msg.headers), ctx.chatAccount);
  } catch (err) {
    if (err instanceof ForgedRequestInfoError) return refused("NO_IDENTITY", err.message);
    throw err;
  }
  if (!who)
    return refused(
      "NO_IDENTITY",
      "the request did not come from a chat user through the CHAT account's import",
    );
  if (who.viaLeafnode)
    return refused(
      "NO_IDENTITY",
      `${ctx.endpoint} cannot tell who asks through an edge server yet: connect to a hub server`,
    );
  const release = ctx.limit.take(who.user);
  if (!release)
    return refused("UNAVAILABLE", `too many ${ctx.endpoint} requests at once; retry shortly`);
  try {
    return { ok: true, body: await serve(who, msg.data) };
  } catch (err) {
    if (err instanceof HistoryWireError) return refused("BAD_REQUEST", err.message);
    if (err instanceof ReadRefusal) return refused(err.code, err.message);
    ctx.log.error(`${ctx.endpoint} failed`, { err });
    return refused("INTERNAL", "internal error in the history service");
  } finally {
    release();
  }
}
