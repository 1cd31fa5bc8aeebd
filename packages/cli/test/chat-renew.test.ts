// `natschat chat NAME` with saved creds in DIR/users/NAME.creds: a JWT with more than a day left
// is used as it is; one that expires within the day, or has expired, is renewed for the same key
// and name through the access service, and the file is rewritten (mode 0600) with the same seed.
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { RENEW_BEFORE_MS } from "@natschat/client";
import { parseCreds } from "@natschat/protocol";
import { mintChatUser } from "@natschat/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credsForName, userCredsPath } from "../src/chat.ts";
import { type ChatStack, registerAt, startChatStack } from "./multi-region.ts";

let cs: ChatStack;
beforeAll(async () => {
  cs = await startChatStack({ topology: "single" });
}, 120_000);
afterAll(async () => {
  await cs?.stop();
});

/** Registers `name`, then saves creds for its key whose JWT expires in `expiresInSeconds`. */
async function savedCreds(name: string, expiresInSeconds: number) {
  const server = cs.stack.topology.servers[0] as (typeof cs.stack.topology.servers)[0];
  const reg = await registerAt(cs, server, name);
  const saved = await mintChatUser(cs.stack.dir, name, expiresInSeconds, reg.seed);
  const path = userCredsPath(cs.stack.dir, name);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, saved.creds, { mode: 0o600 });
  return { path, saved, server };
}

function chatTrust() {
  const chat = cs.stack.trust.summary.accounts.CHAT;
  return { chatAccount: chat.publicKey, chatSigningKeys: chat.signingKeys };
}

describe("natschat chat NAME: saved creds and renewal", () => {
  it("uses a JWT with more than a day left as it is", async () => {
    const { path, saved, server } = await savedCreds("hal", (2 * RENEW_BEFORE_MS) / 1000);
    const creds = await credsForName(cs.stack.dir, server.url, "hal", chatTrust());
    expect(creds.jwt).toBe(saved.jwt);
    expect(await readFile(path, "utf8")).toBe(saved.creds);
  });

  for (const [what, seconds] of [
    ["expires within the day", 3600],
    ["has expired", -60],
  ] as const) {
    it(`renews a JWT that ${what}: same key and seed, a later expiry, file 0600`, async () => {
      const name = seconds > 0 ? "ivy" : "jon";
      const { path, saved, server } = await savedCreds(name, seconds);
      const creds = await credsForName(cs.stack.dir, server.url, name, chatTrust());
      expect(creds.jwt).not.toBe(saved.jwt);
      expect(creds.publicKey).toBe(saved.publicKey);
      expect(creds.seed).toBe(saved.seed);
      expect(creds.expires?.getTime()).toBeGreaterThan(Date.now() + RENEW_BEFORE_MS);
      const onDisk = await parseCreds(await readFile(path, "utf8"));
      expect(onDisk.jwt).toBe(creds.jwt);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
    });
  }
});

describe("natschat chat NAME: a name that is taken", () => {
  it("is ours, with its creds file elsewhere: says which file, and the command to use it", async () => {
    const server = cs.stack.topology.servers[0] as (typeof cs.stack.topology.servers)[0];
    const reg = await registerAt(cs, server, "kim");
    // e.g. `natschat join kim --out DIR/kim.creds`, or the web's logout download
    const file = join(cs.stack.dir, "kim.creds");
    await writeFile(file, reg.creds, { mode: 0o600 });
    const err = await credsForName(cs.stack.dir, server.url, "kim", chatTrust()).catch(
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toBe("NAME_TAKEN");
    expect((err as Error).message).toContain(`your creds for "kim" are in ${file}`);
    expect((err as Error).message).toContain(`natschat chat --creds ${file} --dir ${cs.stack.dir}`);
  });

  it("is someone else's: says so, and how to get back in if it is ours after all", async () => {
    const server = cs.stack.topology.servers[0] as (typeof cs.stack.topology.servers)[0];
    await registerAt(cs, server, "lea");
    const err = (await credsForName(cs.stack.dir, server.url, "lea", chatTrust()).catch(
      (e: unknown) => e,
    )) as Error & { code?: string };
    expect(err.code).toBe("NAME_TAKEN");
    expect(err.message).toContain(`"lea" is taken, and no creds for it are here`);
    expect(err.message).toContain("natschat chat --creds FILE");
    expect(err.message).toContain("pick another name");
  });
});
