// One test runner for the whole repo: unit tests and real-server integration tests.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "packages/*/test/**/*.test.tsx"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["packages/server/test/global-setup.ts"],
    // Node's Ed25519 (node:crypto) for every test file, as Node entry points install it.
    setupFiles: ["packages/trust/test/setup-node-ed25519.ts"],
  },
});
