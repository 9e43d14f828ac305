/** jest globalSetup: `globalSetup: "theazo-emu-testkit/jest/setup"` starts one server for the run. */
import { startForRun } from "./global";

export default async function globalSetup(): Promise<void> {
  const server = await startForRun();
  (globalThis as { __theazoEmu?: unknown }).__theazoEmu = server;
}
