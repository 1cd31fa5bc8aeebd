import { mkdtemp } from "node:fs/promises";
import { startTestStack } from "@natschat/testing";
const topo = (process.argv[2] ?? "cluster") as "cluster";
let fails = 0;
for (let i = 0; i < Number(process.argv[3] ?? 8); i++) {
  const dir = await mkdtemp(`/tmp/e2edbg/${topo}-`);
  const t0 = Date.now();
  try {
    const s = await startTestStack({ topology: topo, dir });
    console.log(topo, "start took", Date.now() - t0);
    await s.stop();
  } catch (e) { fails++; console.log("ERR", dir, (e as Error).message); }
}
console.log("fails", fails);
