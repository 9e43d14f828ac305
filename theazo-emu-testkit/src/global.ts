/**
 * One server per test run, shared with the workers through THEAZO_EMU_URL. Options come
 * from the environment, so a config file needs no code: THEAZO_EMU_SEED, THEAZO_EMU_CLOCK,
 * THEAZO_EMU_PACE, THEAZO_EMU_FIXTURES, THEAZO_EMU_DB, THEAZO_EMU_RECORD. When THEAZO_EMU_URL
 * is already set (a server started by a CI step), that server is used and none is started.
 */
import { RunningEmulator, StartOptions, startEmulator } from "./server";
import { URL_VARIABLE } from "./tenant";

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): StartOptions {
  const pace = env.THEAZO_EMU_PACE;
  return {
    seed: env.THEAZO_EMU_SEED !== undefined ? Number(env.THEAZO_EMU_SEED) : undefined,
    clock: env.THEAZO_EMU_CLOCK,
    pace: pace === "instant" || pace === "realtime" ? pace : undefined,
    fixtures: env.THEAZO_EMU_FIXTURES,
    db: env.THEAZO_EMU_DB,
    record: env.THEAZO_EMU_RECORD,
  };
}

/** Start the run's server unless one is given; returns what stops it (nothing for a given one). */
export async function startForRun(options: StartOptions = optionsFromEnv()): Promise<RunningEmulator | undefined> {
  if (process.env[URL_VARIABLE]) return undefined;
  const server = await startEmulator(options);
  process.env[URL_VARIABLE] = server.url;
  return server;
}
