// The chat screen drawn into a real terminal (tmux), on a scripted model (fixtures/scripted-chat):
// it redraws at once when the window shrinks, long links wrap inside their own message, and
// PageUp scrolls by full pages up to the oldest message.
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasTmux, paneRows, Tmux } from "./tmux.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const tmuxAvailable = hasTmux();
if (!tmuxAvailable) console.warn("tmux is not installed: skipping the terminal screen tests");
const tmux = new Tmux("screen");

/** Starts the scripted chat (`scenario`, extra args) in a pane of columns x rows. */
async function startScripted(name: string, args: string[], columns: number, rows: number) {
  const command = [
    // Ink draws nothing until exit where CI is set (as the chat verb, unset it)
    "env -u CI -u CONTINUOUS_INTEGRATION",
    join(ROOT, "node_modules/.bin/tsx"),
    "--tsconfig",
    join(ROOT, "tsconfig.json"),
    join(ROOT, "packages/tui/test/fixtures/scripted-chat.tsx"),
    ...args,
  ].join(" ");
  await tmux.start(name, command, { columns, rows, cwd: ROOT });
  // the first start compiles the screen (tsx) on a busy machine: be patient for it
  await tmux.waitFor(name, (s) => s.includes("connected as me"), `${name}'s screen`, 60_000);
}

/** Every row of the screen is at most `columns` cells wide and the frame is whole. */
function frameFits(screen: string, columns: number, rows: number): boolean {
  const lines = screen.replace(/\n$/, "").split("\n");
  return (
    lines.length === rows &&
    lines.every((l) => [...l].length <= columns) &&
    /^╭─+╮╭─+╮$/.test(lines[0] ?? "") &&
    [...(lines[0] ?? "")].length === columns &&
    (lines.at(-1) ?? "").includes("connected as me")
  );
}

describe.skipIf(!tmuxAvailable)("the chat screen in tmux", () => {
  afterAll(() => tmux.kill());

  it("redraws at the new size when the window shrinks from 140 to 100 columns, with no key pressed", {
    timeout: 120_000,
  }, async () => {
    await startScripted("shrink", ["links"], 140, 30);
    await tmux.waitFor("shrink", (s) => frameFits(s, 140, 30), "the 140-column frame");
    await tmux.resize("shrink", 100, 30);
    const screen = await tmux.waitFor(
      "shrink",
      (s) => frameFits(s, 100, 30),
      "the frame redrawn at 100 columns",
      5000,
    );
    expect(paneRows(screen).at(-1)).toBe("12:59 bob: last line");
    await tmux.press("shrink", "C-c");
    expect(await tmux.exitStatus("shrink")).toBe(0);
  });

  it("wraps long links inside their own message, also when the oldest one is cut at the top", {
    timeout: 120_000,
  }, async () => {
    // 16 later messages: the first link message no longer fits whole
    await startScripted("links", ["links", "16"], 100, 30);
    const rows = paneRows(await tmux.screen("links"));
    // a message's first row starts with its own time and sender, and holds only its own words
    expect(rows.filter((r) => r.startsWith("12:02 "))).toEqual(["12:02 me: thanks, reading"]);
    const i = rows.indexOf("12:02 me: thanks, reading");
    expect(rows[i + 1]).toBe("https://natsbyexample.com/examples/auth/nkeys-jwts/go now");
    expect(rows[i + 2]).toBe("12:03 bob: see");
    expect(rows[i + 3]).toBe("https://github.com/nats-io/nats-server/blob/main/server/jwt.go#L100");
    expect(rows[i + 4]).toBe("and docs.nats.io");
    expect(rows.at(-1)).toBe("12:59 bob: last line");
    // the cut message shows its last rows only, above the next message
    expect(rows[i - 1]).toMatch(/auth_intro\/jwt and https:\/\/docs\.nats\.io$/);
    // the pane is full: no blank row
    expect(rows.every((r) => r !== "")).toBe(true);
  });

  it("PageUp scrolls a full page back, and a second PageUp reaches the oldest message", {
    timeout: 120_000,
  }, async () => {
    await startScripted("scroll", ["many"], 100, 30);
    const numbers = (screen: string) =>
      paneRows(screen).map((r) => Number(/message number (\d+)$/.exec(r)?.[1] ?? Number.NaN));
    const initial = numbers(await tmux.screen("scroll"));
    const height = initial.length;
    expect(initial.at(-1)).toBe(59);
    await tmux.press("scroll", "PageUp");
    const first = await tmux.waitFor(
      "scroll",
      (s) => s.includes("scrolled up"),
      "the first PageUp",
      5000,
    );
    const back = numbers(first);
    // a full page of consecutive messages, one row of the last page kept for context
    expect(back.length).toBe(height);
    expect(back.every((n, k) => n === (back[0] as number) + k)).toBe(true);
    expect(back.at(-1)).toBe((initial[0] as number) + 0);
    await tmux.press("scroll", "PageUp");
    const second = await tmux.waitFor(
      "scroll",
      (s) => s.includes("oldest loaded"),
      "the second PageUp",
      5000,
    );
    expect(numbers(second)).toEqual(Array.from({ length: height }, (_, k) => k));
    await tmux.press("scroll", "PageDown", "PageDown", "PageDown");
    const bottom = await tmux.waitFor(
      "scroll",
      (s) => numbers(s).at(-1) === 59,
      "PageDown back to the newest",
      5000,
    );
    expect(numbers(bottom)).toEqual(initial);
  });
});
