// The tests each isolation file runs, under its own letter: four files run by two worker
// processes at once, so what one file's tests write under their keys, no other test sees,
// and their journal holds only their own requests.
import { expect, test } from "vitest";
import { newTenant } from "../src";

export function isolationTests(letter: string): void {
  test(`a session written here is the only one this tenant sees (${letter})`, async () => {
    const t = newTenant(`isolation ${letter}`);
    const made = await fetch(`${t.baseUrl}/v1/sessions`, {
      method: "POST", headers: { ...t.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ userId: `writer-${letter}` }),
    });
    expect(made.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 150)); // let the other worker's tests write meanwhile
    const listed = await (await fetch(`${t.baseUrl}/v1/sessions`, { headers: t.headers })).json();
    expect(listed.data.map((s: { userId: string }) => s.userId)).toEqual([`writer-${letter}`]);
    const journal = await t.requests({ kind: "request" });
    expect(journal.map((e) => `${e.method} ${e.path}`)).toEqual(["POST /v1/sessions", "GET /v1/sessions"]);
    expect(process.env.VITEST_POOL_ID).toBeDefined();
  });

  test(`a Theo conversation written here is the only one this tenant sees (${letter})`, async () => {
    const t = newTenant(`theo ${letter}`);
    const done = await fetch(`${t.theoBaseUrl}/api/v1/completions`, {
      method: "POST", headers: { ...t.theoHeaders, "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: `hello from ${letter}` }),
    });
    expect(done.status).toBe(200);
    const conversations = await (await fetch(`${t.theoBaseUrl}/api/v1/conversations`, { headers: t.theoHeaders })).json();
    expect(conversations.conversations).toHaveLength(1);
  });
}
