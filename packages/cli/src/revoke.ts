// `natschat revoke NAME [--release]`: asks the access service (admin role) to revoke a user on
// every server; the name stays reserved unless --release.
import { ACCESS_ERROR_HEADER, parseRevokeResult, REVOKE_SUBJECT } from "@natschat/protocol";
import { parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";
import { connectVerbRole } from "./up-state.ts";

const USAGE = "natschat revoke NAME [--release] [--dir DIR] [--server URL] [--creds ADMIN_CREDS]";

/** An error reply of the access service, with its code. */
export class ServiceReplyError extends Error {
  override name = "ServiceReplyError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The message of an `-ERR '<message>'` body. */
export function errText(body: string): string {
  return body
    .replace(/^-ERR\s*/, "")
    .replace(/^'(.*)'$/s, "$1")
    .trim();
}

export async function revokeVerb(argv: string[]): Promise<number> {
  const { flags, positionals } = parseVerb(
    argv,
    { release: { type: "boolean" }, server: { type: "string" }, creds: { type: "string" } },
    USAGE,
    1,
  );
  const name = positionals[0];
  if (name === undefined) throw new UsageError(`name missing\nusage: ${USAGE}`);
  const nc = await connectVerbRole(flags, "admin");
  try {
    const body = JSON.stringify({ name, release: flags.release === true });
    const reply = await nc
      .request(REVOKE_SUBJECT, body, { timeout: 30_000 })
      .catch((err: Error) => {
        throw new ServiceReplyError(
          "UNAVAILABLE",
          `no answer on ${REVOKE_SUBJECT} (${err.message}); is the access service running?`,
        );
      });
    const text = reply.string();
    const code = reply.headers?.get(ACCESS_ERROR_HEADER);
    if (code || text.startsWith("-ERR"))
      throw new ServiceReplyError(code || "UNKNOWN", errText(text));
    const result = parseRevokeResult(text);
    const { revoked, servers } = result;
    console.log(
      `revoked "${revoked.name}" (${revoked.key}) on ${servers.filter((s) => s.ok).length} of ${servers.length} servers${revoked.released ? "; the name is released" : "; the name stays reserved"}`,
    );
    for (const s of servers) {
      console.log(`  ${s.ok ? "ok  " : "FAIL"} ${s.server}${s.message ? ` (${s.message})` : ""}`);
    }
    return 0;
  } finally {
    await nc.close();
  }
}
