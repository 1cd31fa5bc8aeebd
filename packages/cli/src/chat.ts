// `natschat chat`: the terminal chat. With --creds FILE it chats as that user; with NAME it uses
// DIR/users/NAME.creds, registering NAME first (with the public bootstrap creds) when that file
// does not exist yet, and renewing the JWT when it expires within a day or has expired. Server
// and CHAT account come from DIR/up.json and DIR/trust.json.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { type ChatCreds, ChatSession, register, renew, renewBeforeConnect } from "@natschat/client";
import {
  type Creds,
  formatCreds,
  normalizeName,
  parseCreds,
  signerFromSeed,
  validateChannel,
} from "@natschat/protocol";
import {
  connectRole,
  layout,
  readOptional,
  TrustError,
  type TrustSummary,
  writeSecret,
} from "@natschat/trust";
import { parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";
import { defaultServer, defaultTlsCa } from "./up-state.ts";

const USAGE =
  "natschat chat (NAME | --creds FILE) [--server URL] [--channels A,B,C] [--history N] [--dir DIR]";

/** DIR/users/NAME.creds: where `natschat chat NAME` keeps a user's creds (mode 0600). */
export function userCredsPath(dir: string, name: string): string {
  return join(dir, "users", `${normalizeName(name)}.creds`);
}

async function chatAccountOf(
  dir: string,
): Promise<{ chatAccount: string; chatSigningKeys: string[] }> {
  const path = layout(dir).trust;
  const text = await readOptional(path);
  if (text === undefined) {
    throw new TrustError(
      "TRUST_MISSING",
      `${path} is missing: run \`natschat up\` first, or pass the --dir of a running system`,
    );
  }
  try {
    const chat = (JSON.parse(text) as TrustSummary).accounts.CHAT;
    if (!chat?.publicKey || !Array.isArray(chat.signingKeys) || chat.signingKeys.length === 0) {
      throw new Error("no CHAT account with signing keys");
    }
    return { chatAccount: chat.publicKey, chatSigningKeys: chat.signingKeys };
  } catch (err) {
    throw new TrustError(
      "TRUST_UNREADABLE",
      `${path} is not a natschat trust summary: ${(err as Error).message}`,
    );
  }
}

async function readCredsFile(path: string, opts: { allowExpired?: boolean } = {}): Promise<Creds> {
  const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read creds file ${path} (${err.code ?? err.message})`);
  });
  // now: 0 skips the expiry check, so an expired saved JWT can be renewed.
  return parseCreds(text, opts.allowExpired ? { now: 0 } : {});
}

/** The creds for NAME: saved ones (renewed first when due: see renewBeforeConnect), or a new registration. */
export async function credsForName(
  dir: string,
  server: string,
  name: string,
  chat: { chatAccount: string; chatSigningKeys: string[] },
): Promise<Creds> {
  const path = userCredsPath(dir, name);
  const saved =
    (await readOptional(path)) === undefined
      ? undefined
      : await readCredsFile(path, { allowExpired: true });
  if (saved && !renewBeforeConnect(saved)) return saved;

  const bootstrap = layout(dir).creds("bootstrap");
  if ((await readOptional(bootstrap)) === undefined) {
    throw new TrustError(
      "BOOTSTRAP_MISSING",
      `${bootstrap} is missing, so "${name}" cannot ${saved ? "be renewed" : "register"}; run \`natschat up\` or pass --creds FILE`,
    );
  }
  const nc = await connectRole({
    servers: server,
    credsPath: bootstrap,
    inboxOwner: "bootstrap",
    tlsCaFile: await defaultTlsCa(dir),
  });
  try {
    if (saved) {
      const renewed = await renew(
        nc,
        await signerFromSeed(saved.seed),
        saved.claims.name ?? normalizeName(name),
        chat,
      );
      await writeSecret(path, formatCreds(renewed.jwt, saved.seed));
      console.error(`renewed ${renewed.name}'s credentials in ${path}`);
    } else {
      const reg = await register(nc, name, chat);
      await writeSecret(userCredsPath(dir, reg.name), reg.creds);
      console.error(
        `registered ${reg.name}; credentials saved to ${userCredsPath(dir, reg.name)} (mode 0600)`,
      );
      return readCredsFile(userCredsPath(dir, reg.name));
    }
  } finally {
    await nc.close();
  }
  return readCredsFile(path);
}

function parseChannels(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const list = v
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new UsageError(`--channels needs at least one channel\nusage: ${USAGE}`);
  try {
    return list.map(validateChannel);
  } catch (err) {
    throw new UsageError(`--channels: ${(err as Error).message}`);
  }
}

function parseHistory(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 10_000) {
    throw new UsageError(`--history "${v}" must be a whole number from 0 to 10000`);
  }
  return n;
}

/**
 * Loads the terminal UI for an interactive terminal. Ink decides once, when it is first imported,
 * whether it runs in CI (CI or CONTINUOUS_INTEGRATION set, per is-in-ci), and then draws nothing
 * until the app exits. A chat in a real terminal must draw every frame wherever those variables
 * are set, so they are cleared first (this process starts no children that could need them).
 */
async function importInteractiveInk(): Promise<typeof import("@natschat/tui")> {
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  return import("@natschat/tui");
}

/** Runs the terminal chat; returns 0 when the user quits, 1 when the session was ended. */
export async function chatVerb(argv: string[]): Promise<number> {
  const { flags, positionals } = parseVerb(
    argv,
    {
      creds: { type: "string" },
      server: { type: "string" },
      channels: { type: "string" },
      history: { type: "string" },
    },
    USAGE,
    1,
  );
  const name = positionals[0];
  if (!name && !flags.creds) throw new UsageError(`give a NAME or --creds FILE\nusage: ${USAGE}`);
  if (name && flags.creds)
    throw new UsageError(`give either a NAME or --creds FILE, not both\nusage: ${USAGE}`);
  const channels = parseChannels(flags.channels);
  const historySize = parseHistory(flags.history);
  // bad input first: the name rules, the creds file, the trust summary; then the terminal
  if (name) userCredsPath(flags.dir, name);
  const fromFile = flags.creds ? await readCredsFile(flags.creds) : undefined;
  const chat = await chatAccountOf(flags.dir);
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UsageError("natschat chat needs an interactive terminal (stdin and stdout a TTY)");
  }
  const { runChat } = await importInteractiveInk();
  const server = await defaultServer(flags.dir, flags.server);
  const tlsCa = await defaultTlsCa(flags.dir);
  const creds = fromFile ?? (await credsForName(flags.dir, server, name as string, chat));

  const session = new ChatSession(creds, {
    servers: server,
    connect,
    ...chat,
    ...(channels ? { channels } : {}),
    ...(historySize === undefined ? {} : { historySize }),
    name: "natschat-tui",
    ...(tlsCa ? { connectionOptions: { tls: { caFile: tlsCa } } } : {}),
    // the hub's domain works on every server, and is required at an edge
    // the session renews its JWT before expiry; NAME's saved creds follow (a --creds file is
    // the user's own and is left as it is)
    ...(name
      ? {
          onRenewed: (renewed: ChatCreds) =>
            void writeSecret(
              userCredsPath(flags.dir, name),
              formatCreds(renewed.jwt, renewed.seed),
            ).catch(() => undefined),
        }
      : {}),
  });
  return runChat(session); // draws the screen, then starts the session under it
}
