// Read state (issue 13): each user's last-read position per conversation and its muted
// conversations, one value per user in the KV bucket natschat-read (written only by the history
// role; chat users have no $KV), served by chat.svc.history.readstate as the user the server
// names. Changes are compare-and-set on the value's revision (two sessions, two replicas, never a
// lost update), positions only move forward, and after a change the whole state is published on
// the user's private feed (chat.KUBECON.user.<key>.read, which only that user may read) so its
// other sessions agree at once. Unread counts come from the history index: the messages after a
// position not sent by the user, for every channel with a position and every DM peer.
import { JetStreamApiError } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ServiceMsg } from "@nats-io/services";
import {
  encodeReadState,
  parseConversationName,
  parseReadStateRequest,
  READ_STATE_MAX_CONVERSATIONS,
  type ReadState,
  type ReadStateRequest,
  storeDmSubject,
  storePostSubject,
  UNREAD_CAP,
  userFeedSubject,
} from "@natschat/protocol";
import { READ_STORE } from "@natschat/trust";
import { InFlightLimit } from "./in-flight.ts";
import { type ConversationIndex, channelKey, type IndexBuilder, pairDmsKey } from "./index.ts";
import { isCasConflict } from "./kv-cas.ts";
import type { Logger } from "./log.ts";
import { type ReaderStats, ReadRefusal } from "./readers.ts";
import { answerUser } from "./user-endpoint.ts";

/** A history store as read state sees it (a StreamFollower). */
export interface IndexedStore {
  readonly index: ConversationIndex;
  readonly builder: IndexBuilder;
  readonly lastSeq: number;
  caughtUp(): Promise<void>;
}

/** The stored value: `{v: 1, read, muted}`. */
interface StoredReadState {
  read: Record<string, number>;
  muted: string[];
}

/** Options of the read-state endpoint. */
export interface ReadStatesOptions {
  kv: KV;
  /** The CHAT connection: it publishes the users' feeds. */
  nc: NatsConnection;
  chatAccount: string;
  posts: IndexedStore;
  dms: IndexedStore;
  log: Logger;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The stored value must fit the bucket's values, with room for the headers. */
const VALUE_MAX_BYTES = READ_STORE.maxMsgSize - 512;

function parseStored(bytes: Uint8Array): StoredReadState | undefined {
  try {
    const o = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
    if (o.v !== 1 || typeof o.read !== "object" || o.read === null || !Array.isArray(o.muted))
      return undefined;
    return { read: o.read as Record<string, number>, muted: o.muted as string[] };
  } catch {
    return undefined;
  }
}

/** The bucket refused a write for its limits (max_bytes with discard new, or resources). */
function isStoreFull(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === 10077 || err.code === 10047);
}

/** The conversations a state holds (positions and mutes together). */
function conversations(s: StoredReadState): Set<string> {
  return new Set([...Object.keys(s.read), ...s.muted]);
}

/** The state after a request; undefined when it changes nothing. */
function applied(
  s: StoredReadState,
  req: Exclude<ReadStateRequest, { op: "get" }>,
): StoredReadState | undefined {
  if (req.op === "read") {
    if ((s.read[req.conv] ?? 0) >= req.seq) return undefined; // positions only move forward
    return { read: { ...s.read, [req.conv]: req.seq }, muted: s.muted };
  }
  const has = s.muted.includes(req.conv);
  if (has === req.muted) return undefined;
  return {
    read: s.read,
    muted: req.muted ? [...s.muted, req.conv] : s.muted.filter((c) => c !== req.conv),
  };
}

/** The read-state endpoint's logic. */
export class ReadStates {
  readonly stats: ReaderStats = { ok: 0, errors: {} };
  readonly #limit = new InFlightLimit(64, 4);

  constructor(readonly opts: ReadStatesOptions) {}

  /** Handles one request on chat.svc.history.readstate; every outcome is a reply. */
  handle(msg: ServiceMsg): Promise<void> {
    return answerUser(
      {
        chatAccount: this.opts.chatAccount,
        limit: this.#limit,
        stats: this.stats,
        log: this.opts.log,
        endpoint: "read state",
      },
      msg,
      async (who, data) => encodeReadState(await this.serve(who.user, parseReadStateRequest(data))),
    );
  }

  /** Answers `user`'s request with its whole state, changed as asked. */
  async serve(user: string, req: ReadStateRequest): Promise<ReadState> {
    // counts include every message acked before the request, whichever replica stored it
    await Promise.all([this.opts.posts.caughtUp(), this.opts.dms.caughtUp()]);
    if (req.op === "read") this.#checkSeq(req.conv, req.seq);
    for (let attempt = 0; attempt < 16; attempt++) {
      const entry = await this.opts.kv.get(user);
      const revision = entry?.operation === "PUT" ? entry.revision : 0;
      let stored: StoredReadState = { read: {}, muted: [] };
      if (revision > 0 && entry) {
        const parsed = parseStored(entry.value);
        if (!parsed) {
          this.opts.log.warn("unreadable read state left as it is", { user });
          throw new ReadRefusal(
            "INTERNAL",
            `the stored read state is unreadable: an operator must look at key ${user} of natschat-read`,
          );
        }
        stored = parsed;
      }
      const next = req.op === "get" ? undefined : applied(stored, req);
      if (!next) return this.#withUnread(user, stored, revision);
      this.#checkBounds(stored, next);
      const value = encoder.encode(JSON.stringify({ v: 1, ...next }));
      if (value.length > VALUE_MAX_BYTES)
        throw new ReadRefusal(
          "LIMIT",
          `the read state is ${value.length} bytes, the most is ${VALUE_MAX_BYTES}: unmute or forget some conversations`,
        );
      let rev: number;
      try {
        rev =
          revision === 0
            ? await this.opts.kv.create(user, value)
            : await this.opts.kv.update(user, value, revision);
      } catch (err) {
        if (isStoreFull(err))
          throw new ReadRefusal(
            "STORE_FULL",
            "the read-state store is full; the position was not saved (an operator must grow it)",
          );
        // another session (or replica) changed it first: apply the request to its state, after
        // a short random pause so two writers do not keep colliding
        if (!isCasConflict(err)) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
        continue;
      }
      const state = this.#withUnread(user, next, rev);
      // saved: the user's other sessions hear it; if the CHAT connection is closing they miss
      // this one and get it from their next `get`
      try {
        this.opts.nc.publish(userFeedSubject(user, "read"), encodeReadState(state));
      } catch (err) {
        this.opts.log.debug("read state saved, not published", { err });
      }
      return state;
    }
    throw new ReadRefusal("UNAVAILABLE", "the read state is changing too fast; retry");
  }

  /** Refuses a position beyond the newest stored message (it would hide every later one). */
  #checkSeq(conv: string, seq: number): void {
    const c = parseConversationName(conv);
    const last = c?.kind === "post" ? this.opts.posts.lastSeq : this.opts.dms.lastSeq;
    if (seq > last)
      throw new ReadRefusal(
        "BAD_REQUEST",
        `seq ${seq} is beyond the newest stored message (${last}): send the sequence of a message read`,
      );
  }

  #checkBounds(before: StoredReadState, after: StoredReadState): void {
    const n = conversations(after).size;
    if (n > READ_STATE_MAX_CONVERSATIONS && n > conversations(before).size)
      throw new ReadRefusal(
        "LIMIT",
        `the read state holds ${READ_STATE_MAX_CONVERSATIONS} conversations, the most it may: unmute one first`,
      );
  }

  /** The state with its unread counts, from the index. */
  #withUnread(user: string, s: StoredReadState, rev: number): ReadState {
    const { posts, dms } = this.opts;
    const unread: Record<string, number> = {};
    const count = (all: number, mine: number) => Math.min(UNREAD_CAP, Math.max(0, all - mine));
    for (const [conv, pos] of Object.entries(s.read)) {
      const c = parseConversationName(conv);
      if (c?.kind !== "post") continue;
      unread[conv] = count(
        posts.index.countAfter(channelKey(c.channel), pos),
        posts.builder.countAfterOf(storePostSubject(c.channel, user), pos),
      );
    }
    // every DM peer, newest conversation first, as many as a state may hold
    const peers = dms.builder
      .dmPeersOf(user)
      .map((peer) => ({ peer, last: dms.index.last(pairDmsKey(user, peer)) }))
      .sort((a, b) => b.last - a.last)
      .slice(0, READ_STATE_MAX_CONVERSATIONS);
    for (const { peer } of peers) {
      const pos = s.read[`@${peer}`] ?? 0;
      unread[`@${peer}`] = count(
        dms.index.countAfter(pairDmsKey(user, peer), pos),
        dms.builder.countAfterOf(storeDmSubject(peer, user), pos),
      );
    }
    for (const conv of Object.keys(s.read)) if (conv.startsWith("@")) unread[conv] ??= 0;
    return { rev, read: s.read, muted: s.muted, unread };
  }
}
