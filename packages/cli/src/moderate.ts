// `natschat moderate remove MESSAGE_ID [--dms]`: an admin removes any stored message. It signs a
// chat-moderate token with the admin role's key (the data dir's admin creds) and sends it on
// chat.mod.remove, where only the admin role may publish; the history service checks the
// signature, marks the message deleted by "admin" (pages then give a tombstone), tells the
// readers, and logs the admin's key and the message id.
import { readFile } from "node:fs/promises";
import {
  encodeModeration,
  isMessageId,
  MODERATION_SUBJECT,
  parseCreds,
  parseEventReply,
  signerFromSeed,
} from "@natschat/protocol";
import { layout } from "@natschat/trust";
import { parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";
import { ServiceReplyError } from "./revoke.ts";
import { connectVerbRole } from "./up-state.ts";

const USAGE =
  "natschat moderate remove MESSAGE_ID [--dms] [--dir DIR] [--server URL] [--creds ADMIN_CREDS]";

export async function moderateVerb(argv: string[]): Promise<number> {
  const { flags, positionals } = parseVerb(
    argv,
    { dms: { type: "boolean" }, server: { type: "string" }, creds: { type: "string" } },
    USAGE,
    2,
  );
  const [action, id] = positionals;
  if (action !== "remove") {
    throw new UsageError(
      `${action === undefined ? "action missing" : `unknown action "${action}"`}; the one action is "remove"\nusage: ${USAGE}`,
    );
  }
  if (!isMessageId(id)) {
    const what =
      id === undefined ? "message id missing" : `"${String(id).slice(0, 80)}" is not a message id`;
    throw new UsageError(
      `${what}: it is <author key>.<jti>, as a client shows it\nusage: ${USAGE}`,
    );
  }
  const credsPath = flags.creds ?? layout(flags.dir).creds("admin");
  const creds = await parseCreds(await readFile(credsPath, "utf8"));
  const store = flags.dms === true ? "dms" : "posts";
  const token = await encodeModeration(await signerFromSeed(creds.seed), {
    name: "admin",
    target: id,
    store,
  });
  const nc = await connectVerbRole(flags, "admin");
  try {
    const reply = await nc
      .request(MODERATION_SUBJECT, token, { timeout: 10_000 })
      .catch((err: Error) => {
        throw new ServiceReplyError(
          "UNAVAILABLE",
          `no answer on ${MODERATION_SUBJECT} (${err.message}); is the history service running?`,
        );
      });
    const r = parseEventReply({
      data: reply.data,
      header: (k) => reply.headers?.get(k) || undefined,
    });
    if (!r.ok) {
      const hint =
        r.code === "NOT_FOUND"
          ? store === "posts"
            ? "; if it is a DM, add --dms"
            : "; if it is a channel post, leave out --dms"
          : "";
      throw new ServiceReplyError(r.code, `${r.message}${hint}`);
    }
    console.log(
      `removed ${id} from the ${store} (seq ${r.value.seq}); readers see "removed by an admin"`,
    );
    return 0;
  } finally {
    await nc.close();
  }
}
