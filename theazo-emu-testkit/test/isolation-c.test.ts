// One of four files run by two workers at once: what this file's tests write under their
// keys, no other test sees, and their journal holds only their own requests.
import { expect, test } from "vitest";
import { newTenant } from "../src";

test("a session written here is the only one this tenant sees (c)", async () => {
  const t = newTenant("isolation c");
  const made = await fetch(`${t.baseUrl}/v1/sessions`, {
    method: "POST", headers: { ...t.headers, "Content-Type": "application/json" },
    body: JSON.stringify({ userId: "writer-c" }),
  });
  expect(made.status).toBe(201);
  await new Promise((resolve) => setTimeout(resolve, 150)); // let the other worker's tests write meanwhile
  const listed = await (await fetch(`${t.baseUrl}/v1/sessions`, { headers: t.headers })).json();
  expect(listed.data.map((s: { userId: string }) => s.userId)).toEqual(["writer-c"]);
  const journal = await t.requests({ kind: "request" });
  expect(journal.map((e) => `${e.method} ${e.path}`)).toEqual(["POST /v1/sessions", "GET /v1/sessions"]);
  expect(process.env.VITEST_POOL_ID).toBeDefined();
});

test("a Theo conversation written here is the only one this tenant sees (c)", async () => {
  const t = newTenant("theo c");
  const done = await fetch(`${t.theoBaseUrl}/api/v1/completions`, {
    method: "POST", headers: { ...t.theoHeaders, "Content-Type": "application/json" },
    body: JSON.stringify({ prompt: "hello from c" }),
  });
  expect(done.status).toBe(200);
  const conversations = await (await fetch(`${t.theoBaseUrl}/api/v1/conversations`, { headers: t.theoHeaders })).json();
  expect(conversations.conversations).toHaveLength(1);
});
