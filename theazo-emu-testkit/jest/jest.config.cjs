// jest against the built kit: one server for the run, two workers.
module.exports = {
  rootDir: "..",
  testMatch: ["<rootDir>/jest/**/*.test.cjs"],
  globalSetup: "<rootDir>/dist/jest-setup.js",
  globalTeardown: "<rootDir>/dist/jest-teardown.js",
  maxWorkers: 2,
  testTimeout: 30000,
};
