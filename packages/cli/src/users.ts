// `natschat users [--watch]`: lists the registry (admin role) page by page with keys, expiry,
// revoked marks and last-seen; --watch then follows chat.req.provisioned.updates until Ctrl-C.
// Pages and changes are parsed by protocol's registry-wire, as the admin page does.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  ACCESS_ERROR_HEADER,
  encodeRegistryQuery,
  PROVISIONED_SUBJECT,
  PROVISIONED_UPDATES_SUBJECT,
  parseRegistryChange,
  parseRegistryPage,
  REGISTRY_PAGE_MAX,
  type RegistryChange,
  type RegistryUser,
} from "@natschat/protocol";
import { parseVerb } from "./args.ts";
import { errText, ServiceReplyError } from "./revoke.ts";
import { connectVerbRole } from "./up-state.ts";

const USAGE = "natschat users [--watch] [--json] [--dir DIR] [--server URL] [--creds ADMIN_CREDS]";

/** Reads every page of the registry (REGISTRY_PAGE_MAX users a page). */
export async function fetchAll(nc: NatsConnection): Promise<RegistryUser[]> {
  const rows: RegistryUser[] = [];
  let after: string | undefined;
  for (;;) {
    const q = encodeRegistryQuery({ after, limit: REGISTRY_PAGE_MAX });
    const reply = await nc
      .request(PROVISIONED_SUBJECT, q, { timeout: 10_000 })
      .catch((err: Error) => {
        throw new ServiceReplyError(
          "UNAVAILABLE",
          `no answer on ${PROVISIONED_SUBJECT} (${err.message}); is the access service running?`,
        );
      });
    const code = reply.headers?.get(ACCESS_ERROR_HEADER);
    if (code) throw new ServiceReplyError(code, errText(reply.string()));
    const page = parseRegistryPage(reply.string());
    rows.push(...page.users);
    if (!page.next) return rows;
    after = page.next;
  }
}

const day = (iso?: string) => (iso ? iso.slice(0, 16).replace("T", " ") : "-");

function printTable(rows: RegistryUser[]): void {
  const w = Math.max(4, ...rows.map((r) => r.name.length));
  console.log(
    `${"NAME".padEnd(w)}  ${"KEY".padEnd(56)}  ${"EXPIRES".padEnd(16)}  ${"LAST SEEN".padEnd(16)}  STATUS`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(w)}  ${r.key}  ${day(r.expires).padEnd(16)}  ${day(r.lastSeen).padEnd(16)}  ${r.revoked ? "revoked" : "active"}`,
    );
  }
  const revoked = rows.filter((r) => r.revoked).length;
  console.log(`${rows.length} users (${rows.length - revoked} active, ${revoked} revoked)`);
}

/** One line per change of a chat.req.provisioned.updates message. */
export function describeUpdate(text: string): string {
  let c: RegistryChange;
  try {
    c = parseRegistryChange(text);
  } catch (err) {
    return `? unreadable update (${text.length} bytes): ${(err as Error).message}`;
  }
  switch (c.op) {
    case "registered":
      return `+ ${c.user.name} ${c.user.key}`;
    case "renewed":
      return `~ ${c.user.name} renewed until ${day(c.user.expires)}`;
    case "revoked":
      return `- ${c.user.name} (revoked)`;
    case "released":
      return `- ${c.name} (released: ${c.reason})`;
  }
}

export async function usersVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    {
      watch: { type: "boolean" },
      json: { type: "boolean" },
      server: { type: "string" },
      creds: { type: "string" },
    },
    USAGE,
  );
  const nc = await connectVerbRole(flags, "admin");
  try {
    // Subscribe first, so no change falls between the listing and the watch.
    const sub = flags.watch ? nc.subscribe(PROVISIONED_UPDATES_SUBJECT) : undefined;
    const rows = await fetchAll(nc);
    if (flags.json) console.log(JSON.stringify(rows, null, 2));
    else printTable(rows);
    if (!sub) return 0;
    console.log("watching for changes (Ctrl-C to stop)…");
    const stop = () => sub.unsubscribe();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    for await (const m of sub) {
      console.log(`${new Date().toISOString()} ${describeUpdate(m.string())}`);
    }
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    return 0;
  } finally {
    await nc.close();
  }
}
