// `natschat pub|sub|req|reply`: the talk's nats-util tools, with defaults from up.json.
import { readFile } from "node:fs/promises";
import type { NatsConnection } from "@nats-io/nats-core";
import { parseCreds } from "@natschat/protocol";
import { connectRole, layout, loadTrust, ROLES, readOptional } from "@natschat/trust";
import { parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";
import { defaultServer, defaultTlsCa, requireDeployment } from "./up-state.ts";

const FLAGS = {
  creds: { type: "string" },
  role: { type: "string" },
  server: { type: "string" },
  count: { type: "string" },
  timeout: { type: "string" },
  queue: { type: "string" },
} as const;

const USAGES: Record<string, string> = {
  pub: "natschat pub SUBJECT [DATA] (--creds FILE | --role ROLE) [--server URL]",
  sub: "natschat sub SUBJECT (--creds FILE | --role ROLE) [--count N] [--queue Q] [--server URL]",
  req: "natschat req SUBJECT [DATA] (--creds FILE | --role ROLE) [--timeout MS] [--server URL]",
  reply:
    "natschat reply SUBJECT [DATA] (--creds FILE | --role ROLE) [--count N] [--queue Q] [--server URL]",
};

function positiveInt(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${flag} "${v}" must be a whole number above 0`);
  return n;
}

/** Whose inbox prefix the creds may use: the role's name, or the chat user's public key. */
async function inboxOwner(dir: string, credsPath: string): Promise<string> {
  const text = await readFile(credsPath, "utf8").catch(() => {
    throw new UsageError(`cannot read creds file ${credsPath}`);
  });
  const sub = (await parseCreds(text)).publicKey;
  if (await readOptional(layout(dir).trust)) {
    const { summary } = await loadTrust(dir);
    const role = ROLES.find((r) => summary.roles[r].publicKey === sub);
    if (role) return role;
  }
  return sub;
}

async function open(
  verb: string,
  flags: Record<string, string | boolean | undefined> & { dir: string },
): Promise<NatsConnection> {
  const role = flags.role as string | undefined;
  if (role && !(ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`--role "${role}" is not a role: use one of ${ROLES.join(", ")}`);
  }
  if (role && !flags.creds) await requireDeployment(flags.dir);
  const credsPath =
    (flags.creds as string | undefined) ?? (role ? layout(flags.dir).creds(role) : undefined);
  if (!credsPath) throw new UsageError(`pass --creds FILE or --role ROLE\nusage: ${USAGES[verb]}`);
  return connectRole({
    servers: await defaultServer(flags.dir, flags.server as string | undefined),
    credsPath,
    inboxOwner: await inboxOwner(flags.dir, credsPath),
    tlsCaFile: await defaultTlsCa(flags.dir),
  });
}

/** Surfaces the server's errors (they arrive asynchronously on the status stream); counts them. */
function watchServerErrors(nc: NatsConnection): { count: number } {
  const seen = { count: 0 };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error") {
        seen.count++;
        console.error(`server: ${s.error.message}`);
      }
    }
  })();
  return seen;
}

export async function toolVerb(verb: string, argv: string[]): Promise<number> {
  const usage = USAGES[verb] as string;
  const { flags, positionals } = parseVerb(argv, FLAGS, usage, 2);
  const [subject, data = ""] = positionals;
  if (!subject) throw new UsageError(`missing SUBJECT\nusage: ${usage}`);
  const nc = await open(verb, flags);
  const errors = watchServerErrors(nc);
  try {
    if (verb === "pub") {
      nc.publish(subject, data);
      // a denial arrives before the PONG of this flush; the second lets the watcher see it
      await nc.flush();
      await nc.flush();
      if (errors.count > 0) return 1;
      console.log(`published ${data.length} bytes to ${subject}`);
    } else if (verb === "req") {
      const m = await nc.request(subject, data, {
        timeout: positiveInt(flags.timeout, "timeout", 3000),
      });
      console.log(m.string());
    } else {
      const max = flags.count === undefined ? undefined : positiveInt(flags.count, "count", 1);
      const sub = nc.subscribe(subject, { queue: flags.queue, max });
      console.error(`listening on ${subject}${max ? ` for ${max} messages` : ""}`);
      const stop = () => void sub.drain();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      for await (const m of sub) {
        console.log(`[${m.subject}] ${m.string()}`);
        if (verb === "reply") m.respond(data);
      }
    }
    return 0;
  } finally {
    await nc.drain().catch(() => nc.close());
  }
}
