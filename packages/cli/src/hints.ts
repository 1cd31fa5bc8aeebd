// Commands printed for the user to run next: they must work as printed, from another terminal,
// so a data dir other than the default is always named (`--dir D`); `natschat join alice` alone
// would act on ./.natschat, and `describe .natschat/creds/admin.creds` would read another
// deployment's creds.
import { join, resolve } from "node:path";

/** `dir` as a shell word: quoted when it holds anything a shell would split or expand. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Whether `dir` is what a new shell in this directory gets without --dir. */
function isDefaultDir(dir: string): boolean {
  return resolve(dir) === resolve(".natschat");
}

/** `npx natschat ARGS`, with `--dir DIR` unless `dir` is the default one. */
export function natschatCommand(dir: string, args: string): string {
  return `npx natschat ${args}${isDefaultDir(dir) ? "" : ` --dir ${shellWord(resolve(dir))}`}`;
}

/** A path inside the data dir, as a user should type it. */
export function dataPath(dir: string, ...parts: string[]): string {
  return shellWord(isDefaultDir(dir) ? join(".natschat", ...parts) : join(resolve(dir), ...parts));
}
