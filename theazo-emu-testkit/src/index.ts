/**
 * theazo-emu-testkit: theazo-emu for TypeScript tests. `startEmulator()` runs a server on a
 * free port; the vitest and jest global setups run one per test run; `newTenant()` gives a
 * test keys of its own for both products and the admin API in typed helpers.
 */
export { Admin } from "./admin";
export type { Advanced, Clock, FaultKind, FaultRule, JournalEntry, JournalFilters, RecordStatus } from "./admin";
export { optionsFromEnv, startForRun } from "./global";
export { DEFAULT_CLOCK, TheazoEmuError, findBinary, startEmulator } from "./server";
export type { RunningEmulator, StartOptions } from "./server";
export { URL_VARIABLE, emulatorUrl, mintKeys, newTenant } from "./tenant";
export type { TestTenant } from "./tenant";
