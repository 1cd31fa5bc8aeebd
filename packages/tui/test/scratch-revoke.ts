import { readFile } from "node:fs/promises";
import { parseCreds } from "@natschat/protocol";
import {
  connectRole,
  layout,
  loadSeed,
  loadTrust,
  lookupAccountJwt,
  nativeKeyPair,
  pushAccountJwt,
  revokeInAccountJwt,
} from "@natschat/trust";

const { dir, url } = JSON.parse(await readFile("/tmp/scratch-stack.json", "utf8"));
const who = process.argv[2] as string;
const key = (await parseCreds(await readFile(`${dir}/${who}.creds`, "utf8"))).publicKey;
const trust = await loadTrust(dir);
const push = await connectRole({
  servers: url,
  credsPath: layout(dir).creds("push"),
  inboxOwner: "push",
});
const signer = nativeKeyPair(await loadSeed(dir, "operator-signing", "O"));
const updated = await revokeInAccountJwt(
  await lookupAccountJwt(push, trust.summary.accounts.CHAT.publicKey),
  key,
  signer,
);
console.log(await pushAccountJwt(push, updated, 1));
await push.close();
