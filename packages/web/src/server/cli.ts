// `npm run web:build` and `npm run web:size`: build the production bundle, and print its size
// (gzip) against the initial-load budget; exits 1 when the budget is exceeded.
import { ensureWebBuild } from "./build.ts";
import { formatBundleReport, INITIAL_BUDGET_BYTES, measureBundle } from "./bundle-size.ts";

async function run(command: string | undefined): Promise<number> {
  if (command === "build") {
    await ensureWebBuild((line) => console.log(line), { force: true });
    return 0;
  }
  if (command === "size") {
    const dist = await ensureWebBuild((line) => console.log(line));
    const report = await measureBundle(dist);
    for (const line of formatBundleReport(report)) console.log(line);
    if (report.initial.gzip > INITIAL_BUDGET_BYTES) {
      console.error("the initial load is over budget");
      return 1;
    }
    return 0;
  }
  console.error("usage: cli.ts build | size");
  return 2;
}

run(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(`web: ${err.message}`);
    process.exitCode = 1;
  },
);
