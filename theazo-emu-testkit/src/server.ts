/**
 * Finding and starting the emulator: `theazo-emu serve --port 0` in a child process, ready
 * once it printed its URL and `/_emu/health` answers 200.
 */
import { ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";

/** A failure of the kit itself, with what to do about it in its message. */
export class TheazoEmuError extends Error {
  constructor(message: string, readonly status?: number, readonly code?: string) {
    super(message);
    this.name = "TheazoEmuError";
  }
}

export interface StartOptions {
  /** Seed for ids and mock outputs (`--seed`). */
  seed?: number;
  /** `now` (flowing), or an ISO instant to start frozen at. Default: 2025-01-01T00:00:00Z, frozen. */
  clock?: string;
  /** `instant` collapses run timelines; `realtime` (the emulator's default) plays them out. */
  pace?: "realtime" | "instant";
  /** Fixture directory (`--fixtures`). */
  fixtures?: string;
  /** SQLite file to keep state in (`--db`); in memory by default. */
  db?: string;
  /** Cassette to record every interaction to (`--record`). */
  record?: string;
  /** The executable; default: THEAZO_EMU_BIN, then `theazo-emu` on PATH. */
  bin?: string;
  /** Where the server runs (a `./fixtures` there is loaded unless `fixtures` is given). */
  cwd?: string;
  /** How long to wait for the server to answer, in ms. Default 20000. */
  timeoutMs?: number;
}

export const DEFAULT_CLOCK = "2025-01-01T00:00:00Z";

export interface RunningEmulator {
  /** The server's root URL, e.g. http://127.0.0.1:41235. */
  url: string;
  /** Base URL for the `theazo` SDK (Theazo lives under /v1 of the root). */
  baseUrl: string;
  /** Base URL for `@hitheo/sdk` (Theo lives under /api/v1 of the root; the SDK adds it). */
  theoBaseUrl: string;
  process: ChildProcess;
  /** Stop the server (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  "Install it with `pip install .` from a clone of theazo-emu (in a virtual environment whose bin/ is on PATH, " +
  "or with pipx), or set THEAZO_EMU_BIN to the path of the `theazo-emu` executable.";

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The `theazo-emu` executable: THEAZO_EMU_BIN, then PATH; an error saying how to install it otherwise. */
export function findBinary(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.THEAZO_EMU_BIN;
  if (given) {
    if (!executable(given)) {
      throw new TheazoEmuError(`THEAZO_EMU_BIN is set to ${given}, which is not an executable file. ${INSTALL_HINT}`);
    }
    return given;
  }
  const names = process.platform === "win32" ? ["theazo-emu.exe", "theazo-emu.cmd"] : ["theazo-emu"];
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (executable(candidate)) return candidate;
    }
  }
  throw new TheazoEmuError(`theazo-emu was not found on PATH. ${INSTALL_HINT}`);
}

function serveArgs(options: StartOptions): string[] {
  const args = ["serve", "--port", "0", "--clock", options.clock ?? DEFAULT_CLOCK];
  if (options.seed !== undefined) args.push("--seed", String(options.seed));
  if (options.pace) args.push("--pace", options.pace);
  if (options.fixtures) args.push("--fixtures", options.fixtures);
  if (options.db) args.push("--db", options.db);
  if (options.record) args.push("--record", options.record);
  return args;
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/_emu/health`)).status === 200;
  } catch {
    return false;
  }
}

/** Start a server and wait until it answers; it listens on a free loopback port. */
export async function startEmulator(options: StartOptions = {}): Promise<RunningEmulator> {
  const bin = options.bin ?? findBinary();
  const child = spawn(bin, serveArgs(options), {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const stop = () => stopProcess(child);
  try {
    let url: string | undefined;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new TheazoEmuError(`theazo-emu serve exited (${child.exitCode ?? child.signalCode}) before answering:\n` +
          output.split("\n").slice(-15).join("\n"));
      }
      url ??= output.match(/http:\/\/127\.0\.0\.1:\d+/)?.[0];
      if (url && (await healthy(url))) {
        return { url, baseUrl: url, theoBaseUrl: url, process: child, stop };
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new TheazoEmuError(`theazo-emu serve did not answer within ${options.timeoutMs ?? 20_000} ms:\n` +
      output.split("\n").slice(-15).join("\n"));
  } catch (error) {
    await stop();
    throw error;
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
