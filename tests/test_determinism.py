"""Determinism: the same scenario on two fresh servers gives byte-identical answers.

Both servers use the same seed and a frozen clock started at the same instant. The
scenario touches every family of the foundation (sessions, agents in both shapes, runs,
the SSE stream, exec, pause/resume/terminate, usage, limits, errors), and the answers
are compared byte for byte, request ids included. A third server with another seed must
differ, which shows the comparison can fail.
"""

from __future__ import annotations

import httpx
import pytest
from conftest import START, serve_process

pytestmark = pytest.mark.server


def scenario(url: str) -> list[tuple[int, str, bytes]]:
    """Run the scenario; return (status, request id, body) for every answer."""
    out: list[tuple[int, str, bytes]] = []
    key = {"Authorization": "Bearer th_test_determinism"}
    other = {"Authorization": "Bearer th_test_other_tenant"}

    def call(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
        response = httpx.request(method, url + path, json=body, headers=headers or key, timeout=10)
        out.append((response.status_code, response.headers["x-request-id"], response.content))
        return response.json()

    session = call("POST", "/v1/sessions", {"userId": "user_1", "limits": {"maxAgents": 3}, "metadata": {"plan": "pro"}})
    call("POST", "/v1/sessions/by-user/user_2", {})
    call("POST", "/v1/sessions", {"userId": "someone"}, headers=other)
    ref = call("POST", f"/v1/sessions/{session['id']}/agents",
               {"compute": {"provider": "e2b"}, "model": {"id": "gpt-4o"}, "timeout": 120,
                "tools": ["web_search", "write_file", "http_request"], "instructions": "Be concise."})
    sdk = call("POST", f"/v1/sessions/{session['id']}/agents",
               {"compute": "node", "model": "anthropic/claude-sonnet-4-20250514", "timeout": "90s", "provider": "fly"})
    call("POST", f"/v1/agents/{ref['id']}/run", {"task": "Summarize the top 5 AI research papers from this week"})
    call("POST", f"/v1/agents/{sdk['id']}/run", {"task": "Write a haiku", "stream": True})
    call("GET", f"/v1/agents/{ref['id']}/status")
    call("POST", "/_emu/clock/advance", {"seconds": 3})
    call("POST", f"/v1/agents/{ref['id']}/pause")
    call("POST", "/_emu/clock/advance", {"seconds": 30})
    call("POST", f"/v1/agents/{ref['id']}/resume")
    call("POST", "/_emu/clock/advance", {"seconds": 600})
    with httpx.stream("GET", f"{url}/v1/agents/{ref['id']}/stream", headers=key, timeout=10) as stream:
        out.append((stream.status_code, stream.headers["x-request-id"], stream.read()))
    call("POST", f"/v1/agents/{sdk['id']}/exec", {"language": "python", "code": "print(6 * 7)"})
    call("POST", f"/v1/agents/{sdk['id']}/exec", {"lang": "bash", "code": "echo hello"})
    call("GET", f"/v1/sessions/{session['id']}/agents?limit=1")
    call("GET", "/v1/sessions?limit=1")
    call("GET", f"/v1/sessions/{session['id']}/usage")
    call("GET", f"/v1/sessions/{session['id']}/limits")
    call("GET", "/v1/usage/summary")
    call("GET", "/v1/usage/summary?period=week", headers={**key, "X-SDK-Version": "0.1.0"})
    call("POST", f"/v1/agents/{sdk['id']}/terminate")
    call("POST", f"/v1/agents/{sdk['id']}/terminate")
    call("GET", f"/v1/agents/{ref['id']}", headers=other)
    call("POST", "/v1/sessions", {"userId": 42})
    call("POST", f"/v1/sessions/{session['id']}/terminate")
    return out


def test_same_seed_same_bytes_and_other_seed_differs() -> None:
    with serve_process("--clock", START, "--seed", "7") as first:
        one = scenario(first)
    with serve_process("--clock", START, "--seed", "7") as second:
        two = scenario(second)
    assert len(one) == len(two) > 25
    for index, (a, b) in enumerate(zip(one, two)):
        assert a == b, f"answer {index} differs:\n{a}\n{b}"
    with serve_process("--clock", START, "--seed", "8") as third:
        three = scenario(third)
    assert [status for status, _, _ in three] == [status for status, _, _ in one]
    assert three != one
