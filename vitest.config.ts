// One test runner for the whole repo: unit tests and real-server integration tests.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "packages/*/test/**/*.test.tsx"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Three test files at a time, on 2 cores: most of a file's time is spent waiting on
    // nats-server, Chromium and tmux, not on CPU. vitest's default (available cores - 1) ran one
    // at a time here. Full runs on this shared machine: 1 → ~785 s, 2 → 631-697 s, 3 → 398-480 s.
    maxWorkers: 3,
    globalSetup: ["packages/server/test/global-setup.ts"],
    // Node's Ed25519 (node:crypto) for every test file, as Node entry points install it.
    setupFiles: ["packages/trust/test/setup-node-ed25519.ts"],
  },
});
