// `natschat join NAME`: registers a chat user. The key is made here and never sent; the access
// service answers with a user JWT, checked against the CHAT signing keys, and the creds file is
// composed locally and written with mode 0600.
import { open, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { register } from "@natschat/client";
import { InvalidNameError, isPublicKey, normalizeName } from "@natschat/protocol";
import { ensurePrivateDir, layout, loadTrust, readOptional } from "@natschat/trust";
import { parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";
import { connectVerbRole } from "./up-state.ts";

const USAGE =
  "natschat join NAME [--dir DIR] [--out FILE] [--force] [--server URL] [--creds BOOTSTRAP_CREDS] " +
  "[--chat-account KEY --chat-signing-key KEY]";

/** Writes a secret file with mode 0600 without touching its directory's mode. */
async function writeCreds(path: string, text: string, force: boolean): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
  if (!force && (await readOptional(path)) !== undefined) {
    await rm(tmp, { force: true });
    throw new UsageError(`${path} exists; pass --force to replace it or --out FILE`);
  }
  await rename(tmp, path);
}

export async function joinVerb(argv: string[]): Promise<number> {
  const { flags, positionals } = parseVerb(
    argv,
    {
      out: { type: "string" },
      force: { type: "boolean" },
      server: { type: "string" },
      creds: { type: "string" },
      "chat-account": { type: "string" },
      "chat-signing-key": { type: "string" },
      timeout: { type: "string" },
    },
    USAGE,
    1,
  );
  const requested = positionals[0];
  if (requested === undefined) throw new UsageError(`name missing\nusage: ${USAGE}`);
  let name: string;
  try {
    name = normalizeName(requested);
  } catch (err) {
    if (err instanceof InvalidNameError) throw new UsageError(err.message);
    throw err;
  }
  const paths = layout(flags.dir);
  const haveTrust = (await readOptional(paths.trust)) !== undefined;
  const summary = haveTrust ? (await loadTrust(flags.dir)).summary : undefined;
  const chatAccount = flags["chat-account"] ?? summary?.accounts.CHAT.publicKey;
  const chatSigningKeys = flags["chat-signing-key"]
    ? flags["chat-signing-key"].split(",")
    : summary?.accounts.CHAT.signingKeys;
  if (!chatAccount || !chatSigningKeys) {
    throw new UsageError(
      `${flags.dir} holds no trust tree: pass --chat-account and --chat-signing-key (public keys), or --dir`,
    );
  }
  for (const k of [chatAccount, ...chatSigningKeys]) {
    if (!isPublicKey(k, "A")) throw new UsageError(`"${k}" is not an account public key ('A...')`);
  }
  const out = flags.out ? resolve(flags.out) : join(paths.dir, "users", `${name}.creds`);
  if (!flags.force && (await readOptional(out)) !== undefined) {
    throw new UsageError(`${out} exists; pass --force to replace it or --out FILE`);
  }
  const timeoutMs = flags.timeout === undefined ? 10_000 : Number(flags.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new UsageError(`--timeout "${flags.timeout}" must be a whole number of ms above 0`);
  }
  const nc = await connectVerbRole(flags, "bootstrap");
  try {
    const user = await register(nc, name, { chatAccount, chatSigningKeys, timeoutMs });
    if (!flags.out) await ensurePrivateDir(dirname(out));
    await writeCreds(out, user.creds, flags.force === true);
    if (user.name !== requested) console.log(`requested "${requested}", issued "${user.name}"`);
    console.log(`joined as "${user.name}" (key ${user.publicKey})`);
    console.log(
      `creds written to ${out} (mode 0600)${user.expires ? `, expires ${user.expires.toISOString()}` : ""}`,
    );
    return 0;
  } finally {
    await nc.close();
  }
}
