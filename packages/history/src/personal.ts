// The history service's per-user side (issue 13), built from a replica's pieces: read state
// (chat.svc.history.readstate), search (chat.svc.history.search) and the typing relay. Kept apart
// from service.ts so the replica's wiring stays one call.
import type { JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { READ_BUCKET } from "@natschat/trust";
import type { StreamFollower } from "./index.ts";
import type { Logger } from "./log.ts";
import { ReadStates } from "./read-state.ts";
import { Search, type StateLookup } from "./search.ts";
import { TypingRelay } from "./typing-relay.ts";

/** What the per-user side needs of a replica. */
export interface PersonalOptions {
  /** The CHAT connection (role history). */
  chat: NatsConnection;
  jsm: JetStreamManager;
  followers: { posts: StreamFollower; dms: StreamFollower };
  chatAccount: string;
  maxReplyBytes: number;
  /** The message states, for search (edited text, deletions). */
  states?: StateLookup;
  typingIntervalMs?: number;
  log: Logger;
}

/** The per-user side of a replica, started. */
export interface Personal {
  readStates: ReadStates;
  search: Search;
  typing: TypingRelay;
  stop(): Promise<void>;
}

/** Opens the read-state bucket (ensureHistoryStores made it) and starts the typing relay. */
export async function startPersonal(o: PersonalOptions): Promise<Personal> {
  const kv = await new Kvm(o.chat).open(READ_BUCKET);
  const { posts, dms } = o.followers;
  const readStates = new ReadStates({
    kv,
    nc: o.chat,
    chatAccount: o.chatAccount,
    posts,
    dms,
    log: o.log,
  });
  const search = new Search({
    chatAccount: o.chatAccount,
    direct: o.jsm.direct,
    posts: {
      stream: posts.stream,
      index: posts.index,
      bounds: async () => {
        const { state } = await o.jsm.streams.info(posts.stream);
        return { first: state.first_seq, last: state.last_seq };
      },
      caughtUp: () => posts.caughtUp(),
    },
    dms: { stream: dms.stream, index: dms.index, caughtUp: () => dms.caughtUp() },
    ...(o.states ? { states: o.states } : {}),
    maxReplyBytes: o.maxReplyBytes,
    log: o.log,
  });
  const typing = new TypingRelay(o.chat, {
    log: o.log,
    ...(o.typingIntervalMs ? { intervalMs: o.typingIntervalMs } : {}),
  });
  typing.start();
  return { readStates, search, typing, stop: () => typing.stop() };
}
