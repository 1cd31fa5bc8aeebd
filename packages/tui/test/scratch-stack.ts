import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ensureChatStreams } from "@natschat/access";
import { mintChatUser, startTestStack } from "@natschat/testing";
import { connectRole } from "@natschat/trust";

const stack = await startTestStack();
const leaf = await connectRole({
  servers: stack.urls,
  credsPath: stack.creds("leaf"),
  inboxOwner: "leaf",
});
await ensureChatStreams(leaf, { perSubject: 1000, maxAgeDays: 1, replicas: 1 });
for (const n of ["alice", "bob"]) {
  const u = await mintChatUser(stack.dir, n);
  await writeFile(join(stack.dir, `${n}.creds`), u.creds, { mode: 0o600 });
}
await writeFile("/tmp/scratch-stack.json", JSON.stringify({ dir: stack.dir, url: stack.urls[0] }));
console.log("ready");
process.on("SIGTERM", async () => {
  await leaf.close();
  await stack.stop();
  process.exit(0);
});
setInterval(() => {}, 1000);
