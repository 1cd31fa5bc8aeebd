// `natschat certs`: the development CA and server certificate for TLS on every listener
// (`natschat up --tls` makes them on first use too). Keys are 0600; the CA key never leaves DIR/tls.

import { readFile } from "node:fs/promises";
import { ensureDevCerts, LOCAL_HOSTS, spkiSha256 } from "@natschat/server";
import { parseVerb } from "./args.ts";

const USAGE = "natschat certs [--dir DIR] [--host NAME_OR_IP ...] [--force]";

export async function certsVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    { host: { type: "string", multiple: true }, force: { type: "boolean" } },
    USAGE,
  );
  const hosts = ((flags.host as unknown as string[] | undefined) ?? []).flatMap((h) =>
    h.split(","),
  );
  const report = await ensureDevCerts({ dir: flags.dir, hosts, force: flags.force });
  await printCerts(report.files.ca, report.created, report.kept, [...LOCAL_HOSTS, ...hosts]);
  return 0;
}

/** Prints what was made or kept, and how clients trust the CA. */
export async function printCerts(
  ca: string,
  created: string[],
  kept: string[],
  hosts: string[],
): Promise<void> {
  if (created.length) console.log(`created: ${created.join(", ")}`);
  if (kept.length) console.log(`kept: ${kept.join(", ")}`);
  console.log(`CA          ${ca}`);
  console.log(`hosts       ${[...new Set(hosts)].join(", ")}`);
  console.log(
    [
      "",
      "clients trust the CA:",
      `  the access service       natschat access --tls-ca ${ca}   (NATSCHAT_TLS_CA)`,
      `  natschat up --tls        records it in up.json as tlsCa`,
      `  nats CLI                 nats --tlsca ${ca} ...`,
      `  Chromium (dev only)      --ignore-certificate-errors-spki-list=${spkiSha256(await readFile(ca, "utf8"))}`,
      "  a browser, for good      import the CA into its certificate store",
    ].join("\n"),
  );
}
