#!/usr/bin/env node
// Entry for `npx natschat`: loads the TypeScript CLI through tsx (Node 20 has no type stripping).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../packages/cli/src/mod.ts");
process.exitCode = await main(process.argv.slice(2));
