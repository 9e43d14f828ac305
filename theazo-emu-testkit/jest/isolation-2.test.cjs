// Run by jest's workers against the one server its globalSetup started.
const { newTenant, TheazoEmuError } = require("../dist");

test("each test's tenant sees only what it wrote (2)", async () => {
  const t = newTenant("jest 2");
  const made = await fetch(`${t.baseUrl}/v1/sessions`, {
    method: "POST", headers: { ...t.headers, "Content-Type": "application/json" }, body: JSON.stringify({ userId: "jest-2" }),
  });
  expect(made.status).toBe(201);
  const listed = await (await fetch(`${t.baseUrl}/v1/sessions`, { headers: t.headers })).json();
  expect(listed.data.map((s) => s.userId)).toEqual(["jest-2"]);
  expect(process.env.JEST_WORKER_ID).toBeDefined();
});

test("the admin helpers answer, and refuse with the server's reason (2)", async () => {
  const t = newTenant("jest admin 2");
  const clock = await t.admin.clock.get();
  expect(typeof clock.epochMs).toBe("number");
  await expect(t.admin.clock.advance(-1)).rejects.toBeInstanceOf(TheazoEmuError);
});
