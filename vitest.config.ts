import { defineConfig } from "vitest/config";

const exclude = ["node_modules/**", "dist/**", ".cache/**"];

export default defineConfig({
  test: {
    // Each test file in its own process: chDB allows one data directory per process.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      // Pure code: no services, runs anywhere in seconds.
      { extends: true, test: { name: "unit", include: ["**/*.unit.test.ts"], exclude } },
      // Real nats-server, Elasticsearch and chDB, started once per run by the global setup.
      { extends: true, test: { name: "services", include: ["**/*.int.test.ts", "**/*.e2e.test.ts"], exclude, globalSetup: ["test/global-setup.ts"] } },
    ],
  },
});
