import { startLinkedStack } from "@natschat/e2e";
let fails = 0;
for (let i = 0; i < 12; i++) {
  try {
    const ls = await startLinkedStack({ topology: (process.argv[2] ?? "leaf") as "leaf" });
    await ls.stop();
  } catch (e) { fails++; console.log("ERR", (e as Error).message); }
}
console.log("fails", fails);
