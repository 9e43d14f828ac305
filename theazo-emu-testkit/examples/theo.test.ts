// With `@hitheo/sdk`: a streamed completion, event by event.
import { Theo } from "@hitheo/sdk";
import { expect, test } from "vitest";
import { newTenant } from "theazo-emu-testkit";

test("a streamed completion arrives token by token and ends with done", async () => {
  const t = newTenant();
  const theo = new Theo({ apiKey: t.theoKey, baseUrl: t.theoBaseUrl });
  const types: string[] = [];
  let text = "";
  for await (const event of theo.stream({ prompt: "Write a haiku about tests" })) {
    types.push(event.type);
    if (event.type === "token") text += (event.data as { text: string }).text;
  }
  expect(types).toContain("token");
  expect(types.at(-1)).toBe("done");
  expect(text.length).toBeGreaterThan(0);
});
