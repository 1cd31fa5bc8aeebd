// Runs the real `natschat` command (node bin/natschat.js) as a subprocess and captures its
// exit code and output, for the CLI rows of the bad-input matrix.
import { execFile } from "node:child_process";
import { NATSCHAT_BIN } from "./replica.ts";

/** What one CLI run did. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one verb to completion (60 s at most). */
export function runNatschat(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [NATSCHAT_BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
