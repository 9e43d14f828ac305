/**
 * vitest globalSetup: `globalSetup: ["theazo-emu-testkit/vitest"]` starts one server for the
 * run, before any worker, and stops it after the last.
 */
import { startForRun } from "./global";

export async function setup(): Promise<() => Promise<void>> {
  const server = await startForRun();
  return async () => {
    await server?.stop();
  };
}

export default setup;
