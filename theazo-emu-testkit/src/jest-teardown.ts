/** jest globalTeardown: `globalTeardown: "theazo-emu-testkit/jest/teardown"` stops the run's server. */
import type { RunningEmulator } from "./server";

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { __theazoEmu?: RunningEmulator };
  await holder.__theazoEmu?.stop();
  holder.__theazoEmu = undefined;
}
