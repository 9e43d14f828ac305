// The admin helpers against the run's server: clock, schedules firing, faults, the journal,
// resets, recording, and a Theo stream.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { TheazoEmuError, newTenant } from "../src";

const json = { "Content-Type": "application/json" };

test("advancing the clock fires a schedule, each occurrence once", async () => {
  const t = newTenant("schedule");
  const made = await fetch(`${t.baseUrl}/v1/schedules`, {
    method: "POST", headers: { ...t.headers, ...json },
    body: JSON.stringify({ name: "Report", cron: "0 * * * *", action: { type: "agent-run", config: { task: "Report" } } }),
  });
  expect(made.status).toBe(201);
  const before = await t.admin.clock.get();
  const advanced = await t.admin.clock.advance(3 * 3600);
  expect(advanced.clock.epochMs - before.epochMs).toBe(3 * 3600 * 1000);
  const schedule = await made.json();
  const mine = advanced.fired.filter((f) => f.type === "schedule" && f.scheduleId === schedule.id);
  expect(mine.map((f) => f.scheduledAt)).toHaveLength(3);
  const runs = await (await fetch(`${t.baseUrl}/v1/agents`, { headers: t.headers })).json();
  expect(runs.data).toHaveLength(3); // each firing ran the schedule's agent
});

test("a fault on this key's runs fails them, and only them", async () => {
  const t = newTenant("fault");
  const other = newTenant("no fault");
  const session = await (await fetch(`${t.baseUrl}/v1/sessions`, {
    method: "POST", headers: { ...t.headers, ...json }, body: JSON.stringify({ userId: "u" }) })).json();
  const agent = await (await fetch(`${t.baseUrl}/v1/sessions/${session.id}/agents`, {
    method: "POST", headers: { ...t.headers, ...json }, body: "{}" })).json();
  const rule = await t.admin.faults.add({ match: { path: "/v1/agents/*/run", key: t.theazoKey }, fault: "provider_error", times: 1 });
  const failed = await fetch(`${t.baseUrl}/v1/agents/${agent.id}/run`, {
    method: "POST", headers: { ...t.headers, ...json }, body: JSON.stringify({ task: "x" }) });
  expect(failed.status).toBe(502);
  const again = await fetch(`${t.baseUrl}/v1/agents/${agent.id}/run`, {
    method: "POST", headers: { ...t.headers, ...json }, body: JSON.stringify({ task: "x" }) });
  expect(again.status).toBe(202);
  expect((await t.admin.faults.list()).some((r) => r.id === rule.id)).toBe(true);
  await t.admin.faults.remove(String(rule.id));
  const untouched = await fetch(`${other.baseUrl}/v1/sessions`, { headers: other.headers });
  expect(untouched.status).toBe(200);
});

test("reset forgets this tenant only", async () => {
  const t = newTenant("reset");
  const keep = newTenant("keep");
  for (const who of [t, keep]) {
    await fetch(`${who.baseUrl}/v1/sessions`, { method: "POST", headers: { ...who.headers, ...json }, body: JSON.stringify({ userId: "u" }) });
  }
  await t.reset();
  const mine = await (await fetch(`${t.baseUrl}/v1/sessions`, { headers: t.headers })).json();
  const theirs = await (await fetch(`${keep.baseUrl}/v1/sessions`, { headers: keep.headers })).json();
  expect(mine.data).toEqual([]);
  expect(theirs.data).toHaveLength(1);
});

test("freeze, resume and set move the clock as asked", async () => {
  const t = newTenant("clock");
  const frozen = await t.admin.clock.freeze();
  expect(frozen.frozen).toBe(true);
  const target = new Date(frozen.epochMs + 86_400_000);
  const set = await t.admin.clock.set(target);
  expect(set.clock.epochMs).toBe(target.getTime());
  await expect(t.admin.clock.set(new Date(frozen.epochMs))).rejects.toThrow(TheazoEmuError);
});

test("recording writes a cassette until it is stopped", async () => {
  const t = newTenant("record");
  const file = path.join(mkdtempSync(path.join(tmpdir(), "theazo-emu-kit-")), "kit.jsonl");
  const started = await t.admin.record.start(file);
  expect(started.mode).toBe("recording");
  await fetch(`${t.baseUrl}/v1/sessions`, { method: "POST", headers: { ...t.headers, ...json }, body: JSON.stringify({ userId: "rec" }) });
  expect((await t.admin.record.stop()).mode).toBe("off");
  const lines = readFileSync(file, "utf8").trim().split("\n");
  expect(lines.length).toBeGreaterThanOrEqual(2);
  expect(lines.some((line) => line.includes("/v1/sessions"))).toBe(true);
});

test("a Theo streamed completion arrives as events, ending with done", async () => {
  const t = newTenant("stream");
  const response = await fetch(`${t.theoBaseUrl}/api/v1/completions`, {
    method: "POST", headers: { ...t.theoHeaders, ...json }, body: JSON.stringify({ prompt: "stream me", stream: true }) });
  expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
  const events = (await response.text()).split("\n").filter((l) => l.startsWith("event: ")).map((l) => l.slice(7));
  expect(events[0]).toBe("thinking");
  expect(events.at(-1)).toBe("done");
});
