// Search over what we may read (every channel, our own DMs) through the history service's
// endpoint (chat.svc.history.search): newest first, paged by the service's cursor. Each hit is
// verified like any stored message (envelope on its subject, edit token) and shown as a
// MessageView with its conversation, taken from the subject the server proved.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  EnvelopeVerifier,
  encodeSearchRequest,
  HISTORY_SEARCH_SUBJECT,
  parseSearchReply,
  SEARCH_QUERY_MAX_LENGTH,
} from "@natschat/protocol";
import type { SearchHit, SearchOptions, SearchResult } from "./api.ts";
import { ChatError } from "./errors.ts";
import { messageView } from "./message-view.ts";
import { requestService } from "./service-request.ts";
import type { ChatStore } from "./store.ts";
import { type StoredContext, storedRecord } from "./stored-message.ts";
import { parseTarget, targetId } from "./target.ts";

/** Options of search. */
export interface SearchContext {
  store: ChatStore;
  nc: () => NatsConnection | undefined;
  now: () => number;
  withState: StoredContext["withState"];
}

/** One page of hits for `query`; rejects with ChatError when the service refused. */
export async function search(
  o: SearchContext,
  query: string,
  opts: SearchOptions = {},
): Promise<SearchResult> {
  const q = query.trim();
  if (q.length === 0 || q.length > SEARCH_QUERY_MAX_LENGTH) {
    throw new ChatError(
      "BAD_REQUEST",
      `search for 1 to ${SEARCH_QUERY_MAX_LENGTH} characters, not ${q.length}`,
    );
  }
  const conv =
    opts.conversation === undefined ? undefined : targetId(parseTarget(opts.conversation));
  const page = await requestService(
    o.nc,
    HISTORY_SEARCH_SUBJECT,
    encodeSearchRequest({
      q,
      ...(conv === undefined ? {} : { conv }),
      ...(opts.cursor === undefined ? {} : { cursor: opts.cursor }),
    }),
    parseSearchReply,
    "the search failed",
  );
  const { store } = o;
  const ctx: StoredContext = {
    me: store.me.key,
    // a page may hold a message twice only if the service erred; each is checked on its own
    verifier: new EnvelopeVerifier({ now: o.now, replayWindowSeconds: 0 }),
    withState: o.withState,
    countDrop: (reason) => store.countDrop(reason),
  };
  const hits: SearchHit[] = [];
  for (const h of page.hits) {
    const found = await storedRecord(h, ctx);
    if (!found) continue;
    if (found.conversationId !== h.conv) {
      store.countDrop("wrong-subject");
      continue;
    }
    store.user(found.rec.from);
    store.mentioned(found.rec);
    hits.push(
      Object.freeze({
        ...messageView(store.viewContext(found.conversationId), found.rec),
        conversation: found.conversationId,
      }),
    );
  }
  return {
    hits: Object.freeze(hits),
    ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
  };
}
