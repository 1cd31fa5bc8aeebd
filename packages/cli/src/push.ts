// `natschat push`: pushes every account JWT to every server and reports each server's answer.
import { loadTrust, pushAll } from "@natschat/trust";
import { parseVerb } from "./args.ts";
import { connectVerbRole, requireDeployment } from "./up-state.ts";

const USAGE = "natschat push [--dir DIR] [--server URL] [--creds FILE]";

export async function pushVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    { server: { type: "string" }, creds: { type: "string" } },
    USAGE,
  );
  await requireDeployment(flags.dir);
  const trust = await loadTrust(flags.dir);
  const nc = await connectVerbRole(flags, "push");
  try {
    const names = Object.keys(trust.accountJwts) as (keyof typeof trust.accountJwts)[];
    const { servers, replies } = await pushAll(
      nc,
      names.map((n) => trust.accountJwts[n]),
    );
    let failed = 0;
    names.forEach((name, i) => {
      const got = replies[i] ?? [];
      for (const r of got) {
        if (!r.ok) failed++;
        console.log(
          `${name.padEnd(5)} → ${r.server}: ${r.ok ? "ok" : "FAILED"} ${r.code} ${r.message}`,
        );
      }
      const missing = servers.length - got.length;
      if (missing > 0) {
        failed += missing;
        console.log(`${name.padEnd(5)} → ${missing} of ${servers.length} servers did not answer`);
      }
    });
    console.log(
      `pushed ${names.length} accounts to ${servers.length} servers${failed ? `, ${failed} failures` : ""}`,
    );
    return failed ? 1 : 0;
  } finally {
    await nc.close();
  }
}
