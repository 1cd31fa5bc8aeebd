// `natschat meta-check --monitor URL[,URL]`: checks that the JetStream meta group spans every
// server named by its monitoring URL, and fails (exit 1) naming any server left out and how to
// restart it. The Kubernetes render runs it as a Helm hook Job after every install and upgrade
// of a region (packages/deploy/src/meta-check-job.ts), so `helm --wait` waits for it.
import { checkMetaGroup, monitoredServers } from "@natschat/server";
import { parseVerb } from "./args.ts";
import { UsageError } from "./errors.ts";

const USAGE =
  "natschat meta-check --monitor URL[,URL] [--optional URL[,URL]] [--namespace NS] [--timeout SECONDS]";

const urls = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export async function metaCheckVerb(argv: string[]): Promise<number> {
  const { flags } = parseVerb(
    argv,
    {
      monitor: { type: "string" },
      optional: { type: "string" },
      namespace: { type: "string" },
      timeout: { type: "string" },
    },
    USAGE,
  );
  const required = urls(flags.monitor);
  if (required.length === 0) throw new UsageError(`--monitor URL is required\nusage: ${USAGE}`);
  for (const u of [...required, ...urls(flags.optional)])
    if (!/^https?:\/\/[^/\s]+/.test(u))
      throw new UsageError(`"${u}" is not a monitoring URL: use http://host:8222\nusage: ${USAGE}`);
  const seconds = Number(flags.timeout ?? "120");
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--timeout "${flags.timeout}" is not a number of seconds`);
  const timeoutMs = seconds * 1000;
  const started = Date.now();
  const servers = await monitoredServers({
    required,
    optional: urls(flags.optional),
    timeoutMs,
    log: (line) => console.log(line),
  });
  const ns = flags.namespace;
  const views = await checkMetaGroup({
    servers,
    // one budget for both: the Job's activeDeadlineSeconds leaves a minute above it
    timeoutMs: Math.max(1000, timeoutMs - (Date.now() - started)),
    fix: (names) =>
      ns
        ? `restart ${names.length > 1 ? "each" : "it"}: ${names.map((n) => `kubectl -n ${ns} delete pod ${n}`).join("; ")} ` +
          "(the StatefulSet starts it again on the same volume), then run the same helm upgrade --install again: it repeats this check. " +
          "Still left out on a first install: reinstall the release on empty volumes (deploy/README.md, 'A meta group that formed short')"
        : `restart ${names.join(", ")} on the same store; it joins the group as it starts`,
  });
  const leader = views.find((v) => v.server === v.leader);
  console.log(
    `JetStream meta group complete: ${views.length} servers (${views.map((v) => v.server).join(", ")}), leader ${leader?.server}`,
  );
  return 0;
}
