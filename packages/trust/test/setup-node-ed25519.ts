// Vitest setupFiles entry (root vitest.config.ts): Node tests sign and verify Ed25519 with
// node:crypto, as every Node entry point does. Protocol tests that need the browsers' path
// install webCryptoEd25519 explicitly.
import { installNodeEd25519 } from "../src/node-ed25519.ts";

installNodeEd25519();
