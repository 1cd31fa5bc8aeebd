// Wire format of message events (issue 13): the writer's answer to an event request (the
// target's place and its new state), and the update the history service publishes after every
// stored change (on chat.KUBECON.updates.posts.<channel>, or on both DM participants' private
// feeds). Encoders and parsers only, no I/O; parsers never throw on a reply.
import {
  HISTORY_ERROR_STATUS,
  type Parsed,
  parseServiceError,
  type WireMsg,
} from "./history-wire.ts";
import { isMessageId } from "./message-id.ts";
import { type MessageState, parseMessageState } from "./message-state.ts";
import { jsonObject, onlyKeys } from "./wire-json.ts";

/** Largest update or event answer, bytes (a state holds at most one edit and 500 reactions). */
export const UPDATE_MAX_BYTES = 64 * 1024;

/** Which history store a message is in. */
export type MessageStore = "posts" | "dms";

/** The new state of one stored message. */
export interface MessageUpdate {
  /** The message id, `<authorKey>.<jti>`. */
  id: string;
  store: MessageStore;
  /** Its stream sequence. */
  seq: number;
  state: MessageState;
}

/** The writer's answer to an accepted event: the target's update. */
export type EventAck = MessageUpdate;

/** Encodes an update (or an event's answer). */
export function encodeUpdate(u: MessageUpdate): string {
  return JSON.stringify({ id: u.id, store: u.store, seq: u.seq, state: u.state });
}

/** Parses an update; undefined when it is not one (a receiver drops it and counts it). */
export function parseUpdate(data: Uint8Array | string): MessageUpdate | undefined {
  try {
    const o = jsonObject(data, UPDATE_MAX_BYTES, "an update");
    onlyKeys(o, ["id", "store", "seq", "state"], "an update");
    const state = parseMessageState(o.state);
    if (
      !isMessageId(o.id) ||
      (o.store !== "posts" && o.store !== "dms") ||
      typeof o.seq !== "number" ||
      !Number.isSafeInteger(o.seq) ||
      o.seq < 1 ||
      state === undefined
    )
      return undefined;
    return { id: o.id, store: o.store, seq: o.seq, state };
  } catch {
    return undefined;
  }
}

/** Parses the writer's answer to an event request: the update, or the service's error. */
export function parseEventReply(msg: WireMsg): Parsed<EventAck> {
  const err = parseServiceError(msg);
  if (err) return { ok: false, ...err };
  const u = parseUpdate(msg.data);
  if (!u) {
    return {
      ok: false,
      code: "INTERNAL",
      status: HISTORY_ERROR_STATUS.INTERNAL,
      message: "the history service answered with something that is not an update",
    };
  }
  return { ok: true, value: u };
}
