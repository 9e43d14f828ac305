// Errors that say what to do: no binary, no server, a refused admin call.
import { expect, test } from "vitest";
import { Admin, TheazoEmuError, emulatorUrl, findBinary, newTenant } from "../src";

test("no emulator on PATH names both ways to provide one", () => {
  expect(() => findBinary({ PATH: "/nonexistent" })).toThrow(/not found on PATH.*pip install .*THEAZO_EMU_BIN/s);
  expect(() => findBinary({ THEAZO_EMU_BIN: "/nonexistent/theazo-emu" })).toThrow(/THEAZO_EMU_BIN is set to/);
});

test("no server URL says how to start one", () => {
  expect(() => emulatorUrl({})).toThrow(/globalSetup.*theazo-emu-testkit\/vitest/s);
});

test("a server that is not there, and a refused call, throw with the reason", async () => {
  await expect(new Admin("http://127.0.0.1:9").health()).rejects.toThrow(/is it running/);
  const t = newTenant("refused");
  const error = await t.admin.clock.advance(-1).catch((e) => e);
  expect(error).toBeInstanceOf(TheazoEmuError);
  expect(error.status).toBe(422);
});
