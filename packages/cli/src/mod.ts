// The `natschat` command: dispatches verbs to the layers. Errors print one clear line, exit non-zero.
import { closest } from "@natschat/client";
import { installNodeEd25519 } from "@natschat/trust";
import { HelpRequested } from "./args.ts";
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
  access: {
    run: async (a) => (await import("./access.ts")).accessVerb(a),
    about: "run an access-service replica (what a Kubernetes Deployment runs)",
  },
  history: {
    run: async (a) => (await import("./history.ts")).historyVerb(a),
    about: "run a history-service replica: stores posts and DMs, serves history",
  },
  join: {
    run: async (a) => (await import("./join.ts")).joinVerb(a),
    about: "`join NAME`: register a chat user; the key never leaves this machine",
  },
  users: {
    run: async (a) => (await import("./users.ts")).usersVerb(a),
    about: "list registered users (--watch follows changes)",
  },
  revoke: {
    run: async (a) => (await import("./revoke.ts")).revokeVerb(a),
    about: "`revoke NAME [--release]`: revoke a user on every server",
  },
  moderate: {
    run: async (a) => (await import("./moderate.ts")).moderateVerb(a),
    about: "`moderate remove MESSAGE_ID [--dms]`: an admin removes any message",
  },
  status: {
    run: async (a) => (await import("./status.ts")).statusVerb(a),
    about: "servers, services and their stats",
  },
  chat: {
    run: async (a) => (await import("./chat.ts")).chatVerb(a),
    about: "chat in the terminal: `chat NAME` (joins if needed) or `chat --creds FILE`",
  },
  certs: {
    run: async (a) => (await import("./certs.ts")).certsVerb(a),
    about: "make the development CA and server certificate for TLS (DIR/tls)",
  },
  web: {
    run: async (a) => (await import("./web.ts")).webVerb(a),
    about: "serve the web app on its own (what the Kubernetes web Deployment runs)",
  },
  deploy: {
    run: async (a) => (await import("./deploy.ts")).deployVerb(a),
    about: "`deploy render --out DIR`: Helm values and manifests for Kubernetes",
  },
  "meta-check": {
    run: async (a) => (await import("./meta-check.ts")).metaCheckVerb(a),
    about: "check that the JetStream meta group spans every server (a Kubernetes hook Job runs it)",
  },
  upgrade: {
    run: async (a) => (await import("./upgrade.ts")).upgradeVerb(a),
    about: "move a protocol v2 deployment's history to the v3 layout (`up` does it itself)",
  },
  backup: {
    run: async (a) => (await import("./backup.ts")).backupVerb(a),
    about: "`backup --out FILE`: trust tree, registry and history in one 0600 file",
  },
  restore: {
    run: async (a) => (await import("./restore.ts")).restoreVerb(a),
    about: "`restore FILE`: the trust tree into an empty dir, then the registry and history",
  },
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
  // Every verb signs and verifies Ed25519 with node:crypto (sync, cheap), not WebCrypto.
  installNodeEd25519();
  const [first, ...args] = argv;
  // `natschat help VERB` is `natschat VERB --help`
  const [verb, rest] =
    first === "help" && args[0] && VERBS[args[0]] ? [args[0], ["--help"]] : [first, args];
  if (!verb || verb === "help" || verb === "--help" || verb === "-h") {
    console.log(help());
    return verb ? 0 : 2;
  }
  const entry = Object.hasOwn(VERBS, verb) ? VERBS[verb] : undefined;
  if (!entry) {
    const near = closest(verb, Object.keys(VERBS));
    console.error(
      `natschat: unknown verb "${verb}"${near ? `; did you mean "${near}"?` : ""}\n\n${help()}`,
    );
    return 2;
  }
  try {
    return await entry.run(rest);
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(`natschat ${verb}: ${entry.about}\n\n${err.text}`);
      return 0;
    }
    console.error(`natschat ${verb}: ${describeError(err)}`);
    return err instanceof UsageError ? 2 : 1;
  }
}
