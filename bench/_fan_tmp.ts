import { type KeyObject, verify as nverify } from "node:crypto";
import { nodeEd25519 } from "@natschat/trust";
const provs: Record<string, unknown> = {};
(globalThis as any).__provs = provs;
const inline = (key: KeyObject, data: Uint8Array, sig: Uint8Array) => nverify(null, data, key, sig);
const pool = (key: KeyObject, data: Uint8Array, sig: Uint8Array) =>
  new Promise<boolean>((resolve) => nverify(null, data, key, sig, (err, ok) => resolve(!err && ok)));
provs.inline = { ...nodeEd25519, name: "inline", verify: inline };
provs.pool = { ...nodeEd25519, name: "pool", verify: pool };
provs.adaptive = nodeEd25519;
