// A private tmux server for the terminal tests (its own socket, so a test never touches anyone
// else's sessions): start a command in a pane of a given size, type into it, resize it, read the
// screen, and wait for the screen (or the command's exit status) to show something.
import { execFile, execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Whether tmux is installed (the terminal tests are skipped without it). */
export function hasTmux(): boolean {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const ROOT = resolve(import.meta.dirname, "../../..");

/**
 * The shell command of `natschat chat --dir DIR --creds FILE --server URL`, as a user runs it
 * (JSX must still compile), with CI set as on a CI machine: Ink must still draw every frame.
 */
export function chatCommand(dir: string, credsPath: string, server: string): string {
  return ["CI=true", "node", join(ROOT, "bin/natschat.js"), "chat", "--dir", dir]
    .concat(["--creds", credsPath, "--server", server])
    .join(" ");
}

/** One private tmux server. */
export class Tmux {
  readonly socket: string;

  constructor(tag: string) {
    this.socket = `natschat-${tag}-${process.pid}`;
  }

  /** Runs a tmux command on this server. */
  async cmd(...args: string[]): Promise<string> {
    const { stdout } = await run("tmux", ["-L", this.socket, ...args]);
    return stdout;
  }

  /**
   * Starts `command` (run by sh) in a new session `name` of `columns`x`rows`, in `cwd`. When it
   * ends, the pane prints natschat-exit=STATUS and keeps its last screen (remain-on-exit).
   */
  async start(name: string, command: string, opts: { columns: number; rows: number; cwd: string }) {
    // tmux's own pane_dead_status is not reliable (empty while tmux has not reaped the process)
    await this.cmd(
      ...["-f", "/dev/null", "start-server", ";", "set-option", "-g", "remain-on-exit", "on"],
      ...[";", "new-session", "-d", "-s", name, "-x", String(opts.columns)],
      ...["-y", String(opts.rows), "-c", opts.cwd],
      `${command}; echo natschat-exit=$?`,
    );
  }

  /** The screen of `name`: one line per terminal row, or with lines the terminal wrapped joined. */
  async screen(name: string, opts: { joinWrapped?: boolean } = {}): Promise<string> {
    return this.cmd("capture-pane", "-p", ...(opts.joinWrapped ? ["-J"] : []), "-t", name);
  }

  /** Types `text` literally into `name`. */
  async type(name: string, text: string): Promise<void> {
    await this.cmd("send-keys", "-t", name, "-l", text);
  }

  /** Presses keys (tmux key names: Enter, PageUp, C-c…). */
  async press(name: string, ...keys: string[]): Promise<void> {
    await this.cmd("send-keys", "-t", name, ...keys);
  }

  /** Resizes the window of `name` (the program in it gets SIGWINCH). */
  async resize(name: string, columns: number, rows: number): Promise<void> {
    await this.cmd("resize-window", "-t", name, "-x", String(columns), "-y", String(rows));
  }

  /** Polls the screen until `pred` holds; fails with the last screen after `timeoutMs`. */
  async waitFor(
    name: string,
    pred: (screen: string) => boolean,
    what: string,
    timeoutMs = 20_000,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.screen(name);
      if (pred(screen)) return screen;
      if (/natschat-exit=\d+/.test(screen)) break; // it ended: it will not get there
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `gave up waiting for ${what} (${timeoutMs} ms at most); ${name} shows:\n${screen.trimEnd()}\n` +
        `processes in the pane:\n${await this.processes(name)}`,
    );
  }

  /** Waits for the exit status the pane's shell prints after the command ends. */
  async exitStatus(name: string, timeoutMs = 10_000): Promise<number> {
    const screen = await this.waitFor(
      name,
      (s) => /natschat-exit=\d+/.test(s),
      `${name}'s command to exit`,
      timeoutMs,
    );
    return Number(/natschat-exit=(\d+)/.exec(screen)?.[1]);
  }

  /**
   * Whether the program in `name` rang the terminal bell (BEL) since the session started: tmux
   * flags the window of a detached session that rang.
   */
  async rang(name: string): Promise<boolean> {
    return (
      (await this.cmd("display-message", "-p", "-t", name, "#{window_bell_flag}")).trim() === "1"
    );
  }

  /** Ends this tmux server and everything running in it. */
  async kill(): Promise<void> {
    await this.cmd("kill-server").catch(() => undefined); // not started, or already gone
  }

  /** The processes running in the pane (its shell and what runs under it), for a failure. */
  async processes(name: string): Promise<string> {
    try {
      const pid = (await this.cmd("display-message", "-p", "-t", name, "#{pane_pid}")).trim();
      const { stdout: ps } = await run("ps", ["-eo", "pid,ppid,stat,etime,time,args"]);
      const [header, ...rows] = ps.trimEnd().split("\n");
      const inPane = new Set([pid]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const row of rows) {
          const [p, ppid] = row.trim().split(/\s+/);
          if (p && ppid && inPane.has(ppid) && !inPane.has(p)) {
            inPane.add(p);
            grew = true;
          }
        }
      }
      const mine = rows.filter((r) => inPane.has(r.trim().split(/\s+/)[0] ?? ""));
      return [header, ...mine].join("\n");
    } catch (err) {
      return `(no process list: ${(err as Error).message})`;
    }
  }
}

/**
 * The rows of the message pane on a chat screen: the text between the pane's side borders
 * (right of the sidebar), trimmed, from the row under the title to the bottom border.
 */
export function paneRows(screen: string): string[] {
  const lines = screen.split("\n");
  const out: string[] = [];
  for (const line of lines.slice(2)) {
    const chars = [...line];
    // sidebar box, then the pane box: "│ … ││ … │"
    const start = chars.indexOf("│", 1 + chars.indexOf("│", 1));
    if (line.startsWith("╰")) break;
    if (start < 0) continue;
    const end = chars.lastIndexOf("│");
    out.push(
      chars
        .slice(start + 1, end)
        .join("")
        .trim(),
    );
  }
  return out;
}
