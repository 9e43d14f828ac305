import { defineConfig } from "vitest/config";

// Two worker processes, one server for the run: each test's keys keep it apart from the others.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./dist/vitest.js"],
    pool: "forks",
    poolOptions: { forks: { minForks: 2, maxForks: 2 } },
    testTimeout: 30_000,
  },
});
