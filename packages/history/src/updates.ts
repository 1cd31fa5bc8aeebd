// Publishes a stored change of a message's state (issue 13): on the channel's updates subject for
// a post, or on both participants' private feeds for a DM (nobody else may read those). Only
// the history role may publish there (server permissions), so a client trusts what arrives.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  encodeUpdate,
  type MessageUpdate,
  type TargetMessage,
  updatesSubject,
  userFeedSubject,
} from "@natschat/protocol";

/** The subjects an update of a message stored at `where` (by `author`) goes to. */
export function updateSubjects(target: Pick<TargetMessage, "author" | "where">): string[] {
  if (target.where.kind === "post") return [updatesSubject(target.where.channel)];
  return [...new Set([target.author, target.where.recipient])].map((k) =>
    userFeedSubject(k, "updates"),
  );
}

/** Publishes `update` of `target` where its readers get it. */
export function publishUpdate(
  nc: NatsConnection,
  target: Pick<TargetMessage, "author" | "where">,
  update: MessageUpdate,
): void {
  const data = encodeUpdate(update);
  for (const subject of updateSubjects(target)) nc.publish(subject, data);
}
