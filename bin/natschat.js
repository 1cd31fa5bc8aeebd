#!/usr/bin/env node
// Entry for `npx natschat`: loads the TypeScript CLI through tsx (Node 20 has no type stripping).
// The repo's tsconfig is named explicitly so JSX and paths compile the same from any directory.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

// A reader that goes away (`natschat up | head`) must not crash us with a stack trace: a crash
// would also leave the servers `up` started running. Output to a closed pipe is dropped instead.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err.code !== "EPIPE") throw err;
  });
}
register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
const { main } = await import("../packages/cli/src/mod.ts");
process.exitCode = await main(process.argv.slice(2));
// The verb is done. Should a library still hold a handle, do not hang on it: nats.js leaves the
// socket of an initial connect that timed out open (a server that accepts TCP but never speaks),
// which would keep `natschat chat` alive after it printed its error or the user quit. Unref'd:
// a process that ends by itself is not held back.
setTimeout(() => process.exit(), 2000).unref();
