// chat.req.access: registration and renewal (the work is the Provisioner's). The client's address
// comes from Nats-Request-Info, which the server adds on CHAT's import (share: true); a request
// without it (an old account JWT without share, or a request from inside ADMIN, which only the
// service roles may send) is served without the per-address limit, and counted.
import type { NatsConnection } from "@nats-io/nats-core";
import type { ServiceMsg } from "@nats-io/services";
import { AccessError, ForgedRequestInfoError, requestInfoOf } from "@natschat/protocol";
import type { Reply } from "./endpoint.ts";
import type { Logger } from "./log.ts";
import type { Provisioner } from "./provision.ts";
import { announce, wireUser } from "./registry-endpoints.ts";
import { addressKey } from "./request-info.ts";

export class AccessEndpoint {
  /** Requests that came without Nats-Request-Info (no per-address limit applied). */
  withoutRequestInfo = 0;

  constructor(
    readonly nc: NatsConnection,
    readonly provisioner: Provisioner,
    /** The CHAT account: Request-Info is trusted only when it names it (the import's account). */
    readonly chatAccount: string,
    readonly log: Logger,
  ) {}

  handle = async (msg: ServiceMsg): Promise<Reply> => {
    let parsed: ReturnType<typeof requestInfoOf>;
    try {
      parsed = requestInfoOf(msg.headers);
    } catch (err) {
      if (!(err instanceof ForgedRequestInfoError)) throw err;
      // a requester that adds its own header would pass for another address: refused, and
      // counted as malformed, before any shared budget is spent
      throw new AccessError("BAD_REQUEST", err.message, "malformed", { cause: err });
    }
    const info = parsed?.acc === this.chatAccount ? parsed : undefined;
    if (!info?.host && this.withoutRequestInfo++ === 0) {
      this.log.warn(
        "an access request came without Nats-Request-Info: no per-address limit for such requests (is CHAT's import of chat.req.access share: true?)",
      );
    }
    const r = await this.provisioner.handle(msg.data, {
      ...(info?.host ? { address: addressKey(info.host) } : {}),
      noReply: !msg.reply,
    });
    if (!r.ok) {
      this.log.debug("access refused", { code: r.code, reason: r.reason, msg: r.message });
      return r;
    }
    this.log.info(r.kind === "new" ? "registered" : "renewed", { name: r.name, key: r.key });
    // Only the replica that wrote a change announces it, so each change is broadcast once.
    announce(
      this.nc,
      { op: r.kind === "new" ? "registered" : "renewed", user: wireUser(r.record, r.revision) },
      this.log,
    );
    return { ok: true, body: r.body };
  };
}
