// `natschat init`: builds (or reports) the trust tree in the data dir.
import { initTrust, loadTrust, ROLE_SPECS, ROLES } from "@natschat/trust";
import { parseVerb } from "./args.ts";

const USAGE = "natschat init [--dir DIR] [--operator NAME] [--force] [--tls]";

export async function initVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    { operator: { type: "string" }, force: { type: "boolean" }, tls: { type: "boolean" } },
    USAGE,
  );
  const report = await initTrust({
    dir: flags.dir,
    operatorName: flags.operator,
    force: flags.force,
  });
  const trust = await loadTrust(flags.dir);
  if (report.created.length === 0)
    console.log(
      `trust tree in ${flags.dir} already exists; nothing changed (use --force to regenerate)`,
    );
  else console.log(`created in ${flags.dir}: ${report.created.join(", ")}`);
  if (report.kept.length > 0 && report.created.length > 0)
    console.log(`kept: ${report.kept.join(", ")}`);
  const s = trust.summary;
  console.log(
    `operator ${s.operator.name} ${s.operator.publicKey} (signing ${s.operator.signingKeys.join(", ")})`,
  );
  for (const [name, acc] of Object.entries(s.accounts)) {
    console.log(
      `account  ${name.padEnd(5)} ${acc.publicKey} (signing ${acc.signingKeys.join(", ")})`,
    );
  }
  for (const role of ROLES) {
    console.log(`role     ${role.padEnd(9)} ${s.roles[role].creds}  ${ROLE_SPECS[role].about}`);
  }
  if (flags.tls) {
    const { certsVerb } = await import("./certs.ts");
    console.log("");
    return certsVerb(["--dir", flags.dir, ...(flags.force ? ["--force"] : [])]);
  }
  return 0;
}
