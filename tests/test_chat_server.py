"""Chat, tasks, teams and agent input over real sockets: `theazo-emu serve` driven by httpx.

Covers what needs a real process: the chat reply stream (an SSE answer to a POST) flushing
its headers at once, waiting on a frozen clock until another client advances it, flowing
in real time under a flowing clock, arriving whole under `--pace instant`, and closing
after `done` in every case (the SDK's reader stops only when the server closes); the task
`wait` long poll released by another client's clock advance; input sent to a running agent
reaching a stream already open on it; and byte-identical answers from two servers given
the same requests (another seed differs).
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from conftest import START, serve_process
from sse_client import events, frames

pytestmark = pytest.mark.server
KEY = {"Authorization": "Bearer th_test_chat_server", "X-SDK-Version": "0.1.0"}
SSE = {**KEY, "Accept": "text/event-stream"}


def _conversation(url: str) -> dict:
    session = httpx.post(f"{url}/v1/sessions/by-user/chat_user", headers=KEY).json()
    return httpx.post(f"{url}/v1/sessions/{session['id']}/chat", json={"agent": "assistant"}, headers=KEY).json()


def _check_frames(found: list[dict], url: str, conversation_id: str) -> None:
    kinds = [f["data"]["type"] for f in found]
    assert kinds[-1] == "done" and set(kinds[:-1]) <= {"text", "tool_call", "tool_result"} and "text" in kinds
    stored = httpx.get(f"{url}/v1/chat/{conversation_id}/messages", params={"order": "desc", "limit": 1},
                       headers=KEY).json()["data"][0]
    assert "".join(f["data"].get("text", "") for f in found) == stored["content"]
    assert found[-1]["data"]["messageId"] == stored["id"]


def test_a_chat_stream_waits_on_a_frozen_clock_and_closes_after_done(server: str) -> None:
    conversation = _conversation(server)
    with httpx.stream("POST", f"{server}/v1/chat/{conversation['id']}/messages/stream",
                      json={"content": "Write a haiku about AI"}, headers=SSE, timeout=httpx.Timeout(20)) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        first = next(lines)  # headers and the opening comment arrive before any event is due
        assert first.startswith(":")
        threading.Timer(0.3, lambda: httpx.post(f"{server}/_emu/clock/advance", json={"seconds": 30})).start()
        started = time.monotonic()
        found = events(lines)  # returns only because the server closes the stream after `done`
    assert time.monotonic() - started < 10
    _check_frames(found, server, conversation["id"])


def test_a_chat_stream_flows_in_real_time_under_a_flowing_clock() -> None:
    with serve_process() as url:
        conversation = _conversation(url)
        started = time.monotonic()
        with httpx.stream("POST", f"{url}/v1/chat/{conversation['id']}/messages/stream",
                          json={"content": "Write a haiku about AI"}, headers=SSE, timeout=httpx.Timeout(20)) as stream:
            arrivals = []
            found = []
            for frame in frames(stream.iter_lines()):
                if "comment" not in frame:
                    arrivals.append(time.monotonic() - started)
                    found.append(frame)
        _check_frames(found, url, conversation["id"])
        assert arrivals[-1] - arrivals[0] > 0.1  # released along the reply's timeline, not all at once


def test_a_chat_stream_arrives_whole_under_instant_pace() -> None:
    with serve_process("--clock", START, "--pace", "instant") as url:
        conversation = _conversation(url)
        with httpx.stream("POST", f"{url}/v1/chat/{conversation['id']}/messages/stream",
                          json={"content": "hello"}, headers=SSE, timeout=httpx.Timeout(10)) as stream:
            found = events(stream.iter_lines())
        _check_frames(found, url, conversation["id"])


def test_task_wait_is_released_by_another_clients_clock_advance(server: str) -> None:
    session = httpx.post(f"{server}/v1/sessions/by-user/waiter", headers=KEY).json()
    task = httpx.post(f"{server}/v1/sessions/{session['id']}/tasks", json={"agent": "researcher", "input": {"a": 1}},
                      headers=KEY).json()
    threading.Timer(0.3, lambda: httpx.post(f"{server}/_emu/clock/advance", json={"seconds": 60})).start()
    started = time.monotonic()
    body = httpx.get(f"{server}/v1/sessions/{session['id']}/tasks/{task['taskId']}/wait", params={"timeout": "20s"},
                     headers=KEY, timeout=30).json()
    assert body["status"] == "completed" and time.monotonic() - started < 10


def test_input_sent_to_a_running_agent_reaches_its_open_stream(server: str) -> None:
    session = httpx.post(f"{server}/v1/sessions/by-user/io_user", headers=KEY).json()
    agent = httpx.post(f"{server}/v1/sessions/{session['id']}/agents", json={}, headers=KEY).json()
    with httpx.stream("GET", f"{server}/v1/agents/{agent['id']}/stream", headers=KEY,
                      timeout=httpx.Timeout(20)) as stream:
        httpx.post(f"{server}/v1/agents/{agent['id']}/run", json={"task": "watch builds", "stream": True}, headers=KEY)
        lines = stream.iter_lines()
        seen = []
        for frame in frames(lines):
            if "event" in frame:
                seen.append(frame)
                break
        sent = httpx.post(f"{server}/v1/agents/{agent['id']}/send", json={"type": "note", "content": "build 7 failed"},
                          headers=KEY).json()
        httpx.post(f"{server}/_emu/clock/advance", json={"seconds": 60})
        seen += events(lines)
    assert sent["status"] == "delivered"
    assert [f["event"] for f in seen][:2] == ["thinking", "input"] and seen[-1]["data"]["type"] == "done"
    assert seen[1]["data"]["content"] == "build 7 failed"


def scenario(url: str) -> list[tuple[int, bytes]]:
    """Session run, task, team, chat (send, stream, thread, handoff, search), guardrails, input."""
    out: list[tuple[int, bytes]] = []

    def call(method: str, path: str, body: dict | None = None) -> dict:
        response = httpx.request(method, url + path, json=body, headers=KEY, timeout=10)
        out.append((response.status_code, response.content.replace(url.encode(), b"BASE")))  # port URLs name it
        return response.json()

    session = call("POST", "/v1/sessions/by-user/det_user", {"limits": {"maxAgents": 6}})
    sid = session["id"]
    call("POST", f"/v1/sessions/{sid}/run", {"agent": "researcher", "task": "analyze competitor pricing"})
    task = call("POST", f"/v1/sessions/{sid}/tasks", {"agent": "analyst", "input": {"company": "acme"}})
    team = call("POST", f"/v1/sessions/{sid}/teams", {"name": "t", "coordination": "hierarchical", "agents": [
        {"role": "lead", "agent": "analyst", "instructions": "Lead."},
        {"role": "scout", "agent": "researcher", "instructions": "Scout."}]})
    run = call("POST", f"/v1/teams/{team['id']}/run", {"task": "Incident at 2:30 PM"})
    call("POST", "/_emu/clock/advance", {"seconds": 90})
    call("GET", f"/v1/team-runs/{run['runId']}")
    call("GET", f"/v1/sessions/{sid}/tasks/{task['taskId']}")
    call("GET", f"/v1/sessions/{sid}/tasks")
    conversation = call("POST", f"/v1/sessions/{sid}/chat", {"agent": "assistant", "context": {"strategy": "summarize",
                                                                                                "summarizeAfter": 2}})
    cid = conversation["id"]
    reply = call("POST", f"/v1/chat/{cid}/messages", {"content": "What is the capital of France?"})
    with httpx.stream("POST", f"{url}/v1/chat/{cid}/messages/stream", json={"content": "And Spain?"},
                      headers={**SSE}, timeout=10) as stream:
        httpx.post(f"{url}/_emu/clock/advance", json={"seconds": 30})
        out.append((stream.status_code, stream.read()))
    call("POST", f"/v1/chat/{cid}/threads", {"parentMessageId": reply["id"], "title": "more"})
    call("GET", f"/v1/chat/{cid}/context")
    call("POST", f"/v1/chat/{cid}/handoff", {"reason": "human please", "to": "human"})
    call("POST", f"/v1/chat/{cid}/handoff/resolve")
    call("POST", "/v1/chat/search", {"query": "France capital"})
    call("GET", f"/v1/chat/{cid}/messages")
    call("PUT", "/v1/guardrails", {"blockPII": True, "maxToolCalls": 0})
    call("POST", f"/v1/sessions/{sid}/run", {"agent": "x", "task": "mail bob@example.com"})
    agent = call("POST", f"/v1/sessions/{sid}/agents", {"tools": ["web_search"]})
    call("POST", f"/v1/agents/{agent['id']}/run", {"task": "look it up"})
    call("POST", f"/v1/agents/{agent['id']}/send", {"type": "note", "content": "more data"})
    call("POST", "/_emu/clock/advance", {"seconds": 60})
    call("GET", "/v1/guardrails/violations")
    call("POST", f"/v1/agents/{agent['id']}/ports", {"port": 3000})
    return out


def test_same_seed_same_bytes_and_other_seed_differs() -> None:
    with serve_process("--clock", START, "--seed", "3") as first:
        one = scenario(first)
    with serve_process("--clock", START, "--seed", "3") as second:
        two = scenario(second)
    assert len(one) == len(two) > 25
    for index, (a, b) in enumerate(zip(one, two)):
        assert a == b, f"answer {index} differs:\n{a}\n{b}"
    with serve_process("--clock", START, "--seed", "4") as third:
        three = scenario(third)
    assert [status for status, _ in three] == [status for status, _ in one]
    assert three != one
