// With the official `theazo` SDK: a schedule fired by moving the virtual clock, and a fault on a run.
import { Theazo, TheazoError } from "theazo";
import { expect, test } from "vitest";
import { newTenant } from "theazo-emu-testkit";

test("an hourly schedule fires three times in three hours", async () => {
  const t = newTenant();
  const theazo = new Theazo({ apiKey: t.theazoKey, baseUrl: t.baseUrl });
  const schedule = await theazo.schedules.create({ name: "Report", agent: "reporter", userId: "u1", cron: "0 * * * *" });
  await t.admin.clock.advance(3 * 3600);
  expect(await theazo.schedules.history(schedule.id)).toHaveLength(3);
});

test("a provider fault on a run surfaces as a TheazoError", async () => {
  const t = newTenant();
  const theazo = new Theazo({ apiKey: t.theazoKey, baseUrl: t.baseUrl });
  const session = await theazo.sessions.create({ userId: "u1" });
  const agent = await session.agents.create({ instructions: "Research the news." });
  await t.admin.faults.add({ match: { path: "/v1/agents/*/run", key: t.theazoKey }, fault: "provider_error" });
  const error = await agent.run("Summarize the news").catch((e) => e);
  expect(error).toBeInstanceOf(TheazoError);
  expect(error.status).toBe(502); // after the SDK's own retries: the rule holds for every attempt
});
