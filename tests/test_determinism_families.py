"""Determinism of knowledge, files, tools, MCP, webhooks, logs/metrics/traces and the billing
account: one scenario on two fresh servers (same seed, frozen clock) answers the same bytes,
signed URLs and secrets included; another seed differs."""

from __future__ import annotations

import base64

import httpx
import pytest
from conftest import START, serve_process

pytestmark = pytest.mark.server


def scenario(url: str) -> list[tuple[int, str, bytes]]:
    out: list[tuple[int, str, bytes]] = []
    # One Host for both servers: answers carry absolute URLs of this emulator (files, checkout, portal).
    key = {"Authorization": "Bearer th_test_families", "X-SDK-Version": "0.1.0", "Host": "emulator.test:4010"}

    def call(method: str, path: str, body: dict | None = None, **params: str) -> dict:
        response = httpx.request(method, url + path, json=body, params=params, headers=key, timeout=10)
        out.append((response.status_code, response.headers["x-request-id"], response.content))
        return response.json()

    doc = base64.b64encode(b"# Pricing\nPro: $99/mo, unlimited agents\n\nFree: 1 agent").decode()
    call("POST", "/v1/knowledge/upload", {"userId": "u1", "collection": "docs",
                                          "files": [{"filename": "pricing.md", "data": doc}]})
    call("POST", "/v1/knowledge/sync", {"userId": "u1", "source": {"type": "url", "config": {}}})
    call("POST", "/v1/knowledge/query", {"userId": "u1", "query": "pro plan agents"})
    call("GET", "/v1/knowledge/sources", userId="u1")
    upload = call("POST", "/v1/files", {"userId": "u1", "filename": "a.md", "purpose": "knowledge", "data": doc,
                                        "autoIngest": True})
    call("GET", f"/v1/files/{upload['id']}/url", expiresIn="5m")
    call("POST", "/v1/tools", {"name": "lookup", "description": "d", "parameters": {"type": "object"},
                               "handler": {"type": "webhook", "url": "https://example.com/t"}})
    call("POST", "/v1/tools/web_search/test", {"query": "agents"})
    mcp = call("POST", "/v1/mcp/connections", {"name": "github", "transport": "sse", "url": "https://g.example",
                                               "headers": {"Authorization": "Bearer x"}})
    call("GET", f"/v1/mcp/connections/{mcp['id']}/health")
    call("POST", "/v1/webhooks", {"url": "https://example.com/hook", "events": ["run.completed"]})
    call("POST", "/v1/billing/user-budget", {"monthly": {"amount": 100000}})
    session = call("POST", "/v1/sessions", {"userId": "u1"})
    agent = call("POST", f"/v1/sessions/{session['id']}/agents", {"tools": ["web_search"]})
    run = call("POST", f"/v1/agents/{agent['id']}/run", {"task": "Find open bugs"})
    httpx.post(f"{url}/_emu/clock/advance", json={"seconds": 600})
    call("GET", "/v1/logs")
    call("GET", "/v1/traces")
    call("GET", f"/v1/traces/trace_{run['taskId'].removeprefix('task_')}")
    call("GET", "/v1/metrics", metric="run.cost", since="2025-05-01T00:00:00Z", until="2025-05-01T01:00:00Z",
         interval="10m")
    call("GET", "/v1/metrics/summary")
    call("GET", "/v1/billing/budget")
    call("GET", "/v1/billing/credits")
    call("POST", "/v1/billing/checkout", {"plan": "pro", "successUrl": "https://a.example/ok",
                                          "cancelUrl": "https://a.example/no"})
    call("GET", "/v1/billing/portal")
    return out


def test_same_seed_same_bytes_and_other_seed_differs() -> None:
    with serve_process("--clock", START, "--seed", "7") as first:
        one = scenario(first)
    with serve_process("--clock", START, "--seed", "7") as second:
        two = scenario(second)
    assert len(one) == len(two) > 20 and all(status < 300 for status, _, _ in one)
    for index, (a, b) in enumerate(zip(one, two)):
        assert a == b, f"answer {index} differs:\n{a}\n{b}"
    with serve_process("--clock", START, "--seed", "8") as third:
        three = scenario(third)
    assert three != one
