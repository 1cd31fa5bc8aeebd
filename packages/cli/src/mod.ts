// The `natschat` command: dispatches verbs to the layers. Errors print one clear line, exit non-zero.
import { describeVerb } from "./describe.ts";
import { describeError, UsageError } from "./errors.ts";
import { initVerb } from "./init.ts";
import { pushVerb } from "./push.ts";
import { serverVerb } from "./server-config.ts";
import { toolVerb } from "./tools.ts";
import { upVerb } from "./up.ts";

const VERBS: Record<string, { run: (argv: string[]) => Promise<number>; about: string }> = {
  init: { run: initVerb, about: "build the trust tree (operator, accounts, role users)" },
  up: { run: upVerb, about: "start the whole local system" },
  push: { run: pushVerb, about: "push account JWTs to every server" },
  server: { run: serverVerb, about: "`server config`: print the nats-server config" },
  describe: { run: describeVerb, about: "decode and verify a JWT or creds file" },
  pub: { run: (a) => toolVerb("pub", a), about: "publish a message" },
  sub: { run: (a) => toolVerb("sub", a), about: "subscribe and print messages" },
  req: { run: (a) => toolVerb("req", a), about: "send a request, print the reply" },
  reply: { run: (a) => toolVerb("reply", a), about: "answer requests" },
};

function help(): string {
  const width = Math.max(...Object.keys(VERBS).map((v) => v.length));
  return [
    "usage: natschat <verb> [flags]   (every verb takes --dir DIR, default ./.natschat or $NATSCHAT_DIR)",
    "",
    ...Object.entries(VERBS).map(([v, { about }]) => `  ${v.padEnd(width)}  ${about}`),
  ].join("\n");
}

/** Runs the CLI; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === "help" || verb === "--help" || verb === "-h") {
    console.log(help());
    return verb ? 0 : 2;
  }
  const entry = VERBS[verb];
  if (!entry) {
    console.error(`natschat: unknown verb "${verb}"\n\n${help()}`);
    return 2;
  }
  try {
    return await entry.run(rest);
  } catch (err) {
    console.error(`natschat ${verb}: ${describeError(err)}`);
    return err instanceof UsageError ? 2 : 1;
  }
}
