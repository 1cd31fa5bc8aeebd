// `natschat chat NAME` when the access service says NAME is taken: it may be our own name, whose
// creds file is somewhere else (`join NAME --out FILE`, the web's logout download). A name is
// bound to its key, so the way back in is that creds file, never a new registration: look in the
// usual places for creds issued for NAME, and say which file and the command that uses it; with
// none found, say the name is someone else's (and how to get back in if it is ours after all).
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseCreds } from "@natschat/protocol";
import { natschatCommand, shellWord } from "./hints.ts";

/** NAME is registered to a key we have no saved creds for; the message says what to do. */
export class NameTakenError extends Error {
  override name = "NameTakenError";
  readonly code = "NAME_TAKEN";
}

/** Where a creds file for `name` may be: the data dir, the working dir, the browser's downloads. */
function candidates(dir: string, name: string): string[] {
  const file = `${name}.creds`;
  const paths = [join(dir, "users", file), join(dir, file), resolve(file)];
  paths.push(join(homedir(), "Downloads", file));
  return [...new Set(paths)];
}

/** The first readable creds file issued for `name` (expired ones count: they renew). */
async function findCreds(dir: string, name: string): Promise<string | undefined> {
  for (const path of candidates(dir, name)) {
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined) continue;
    // now: 0 skips the expiry check; a file that does not parse is not ours to suggest
    const creds = await parseCreds(text, { now: 0 }).catch(() => undefined);
    if (creds?.claims.name === name) return path;
  }
  return undefined;
}

/** The error for a taken `name`: the creds file that is ours, or that it is someone else's. */
export async function nameTakenError(dir: string, name: string): Promise<NameTakenError> {
  const found = await findCreds(dir, name);
  if (found) {
    return new NameTakenError(
      `"${name}" is registered, and your creds for "${name}" are in ${found}: ` +
        `chat with them: ${natschatCommand(dir, `chat --creds ${shellWord(found)}`)}`,
    );
  }
  return new NameTakenError(
    `"${name}" is taken, and no creds for it are here (looked in ${candidates(dir, name).join(", ")}). ` +
      `If it is yours, chat with its creds file: ${natschatCommand(dir, "chat --creds FILE")}; ` +
      "otherwise pick another name",
  );
}
