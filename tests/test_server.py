"""Real-process tests: `theazo-emu serve` on a free loopback port, driven over HTTP.

These cover what an in-process client cannot: live SSE streams (connect first, then run;
run, then connect; Last-Event-ID; heartbeats), raw headers, and the CLI end to end.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from conftest import START, serve_process
from sse_client import events, frames

pytestmark = pytest.mark.server
KEY = {"Authorization": "Bearer th_test_server"}


def _agent(url: str, **body) -> str:
    session = httpx.post(f"{url}/v1/sessions", json={"userId": "u1"}, headers=KEY).json()
    response = httpx.post(f"{url}/v1/sessions/{session['id']}/agents", json=body, headers=KEY)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _advance(url: str, seconds: float) -> None:
    assert httpx.post(f"{url}/_emu/clock/advance", json={"seconds": seconds}).status_code == 200


def test_serve_prints_url_and_sdk_snippet_and_answers() -> None:
    with serve_process("--clock", START) as url:
        health = httpx.get(f"{url}/_emu/health").json()
        assert health["status"] == "ok"
        assert health["clock"]["now"] == "2025-05-01T00:00:00.000Z"
        assert health["clock"]["frozen"] is True


def test_session_agent_run_exec_lifecycle_over_loopback(server: str) -> None:
    agent = _agent(server, tools=["web_search"])
    run = httpx.post(f"{server}/v1/agents/{agent}/run", json={"task": "Summarize papers"}, headers=KEY)
    assert run.status_code == 202
    assert run.headers["x-request-id"].startswith("req_")
    body = run.json()
    assert body["taskId"].startswith("task_") and body["agentId"] == agent and body["output"]
    assert httpx.get(f"{server}/v1/agents/{agent}", headers=KEY).json()["status"] == "running"
    _advance(server, body["durationMs"] / 1000)
    assert httpx.get(f"{server}/v1/agents/{agent}", headers=KEY).json()["status"] == "idle"
    exec_ = httpx.post(f"{server}/v1/agents/{agent}/exec", json={"language": "python", "code": "print(2 + 2)"},
                       headers=KEY).json()
    assert exec_["stdout"] == "4\n" and exec_["exitCode"] == 0
    paused = httpx.post(f"{server}/v1/agents/{agent}/pause", headers={**KEY, "Content-Type": "application/json"})
    assert paused.status_code == 200 and paused.json()["snapshot"]["id"].startswith("snap_")
    assert httpx.post(f"{server}/v1/agents/{agent}/resume", headers=KEY).json()["status"] == "idle"
    assert httpx.post(f"{server}/v1/agents/{agent}/terminate", headers=KEY).json() == {
        "ok": True, "id": agent, "status": "terminated"}
    again = httpx.post(f"{server}/v1/agents/{agent}/terminate", headers=KEY)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_stream_connect_first_then_run_sees_every_event(server: str) -> None:
    agent = _agent(server, tools=["web_search", "write_file"])
    with httpx.stream("GET", f"{server}/v1/agents/{agent}/stream",
                      headers={**KEY, "Accept": "text/event-stream", "X-SDK-Version": "0.1.0"},
                      timeout=httpx.Timeout(10)) as stream:
        # Headers arrive before any run exists: the SDK waits for them before POSTing the run.
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        run = httpx.post(f"{server}/v1/agents/{agent}/run", json={"task": "t", "stream": True}, headers=KEY).json()
        _advance(server, 600)
        got = events(stream.iter_lines())
    assert [e["event"] for e in got][0] == "thinking"
    assert got[-1]["event"] == "output" and got[-1]["data"]["type"] == "done"
    assert got[-1]["data"]["output"] == run["output"]
    assert all(e["id"] == f"{run['taskId']}:{i}" for i, e in enumerate(got, 1))
    assert all("type" in e["data"] for e in got)
    calls = [e["data"]["tool"] for e in got if e["event"] == "tool_call"]
    assert calls == [c["tool"] for c in run["toolCalls"]]


def test_stream_run_then_connect_replays_past_events(server: str) -> None:
    agent = _agent(server, tools=["web_search"])
    run = httpx.post(f"{server}/v1/agents/{agent}/run", json={"task": "late"}, headers=KEY).json()
    _advance(server, 2)  # part of the run is in the past, part still ahead
    with httpx.stream("GET", f"{server}/v1/agents/{agent}/stream", headers=KEY, timeout=10) as stream:
        threading.Timer(0.3, _advance, (server, 600)).start()
        got = events(stream.iter_lines())
    assert got[0]["id"] == f"{run['taskId']}:1"
    assert got[-1]["data"]["type"] == "done"
    assert [int(e["id"].rsplit(":", 1)[1]) for e in got] == list(range(1, len(got) + 1))


def test_stream_honours_last_event_id(server: str) -> None:
    agent = _agent(server, tools=["web_search"])
    run = httpx.post(f"{server}/v1/agents/{agent}/run", json={"task": "resume me"}, headers=KEY).json()
    _advance(server, 600)
    with httpx.stream("GET", f"{server}/v1/agents/{agent}/stream", timeout=10,
                      headers={**KEY, "Last-Event-ID": f"{run['taskId']}:2"}) as stream:
        got = events(stream.iter_lines())
    assert got[0]["id"] == f"{run['taskId']}:3"
    assert got[-1]["event"] == "output"


def test_stream_sends_heartbeats_while_idle() -> None:
    with serve_process("--clock", START, env={"THEAZO_EMU_HEARTBEAT": "0.2"}) as url:
        agent = _agent(url)
        seen: list[dict] = []
        with httpx.stream("GET", f"{url}/v1/agents/{agent}/stream", headers=KEY, timeout=10) as stream:
            started = time.monotonic()
            for frame in frames(stream.iter_lines()):
                seen.append(frame)
                if frame.get("comment") == "heartbeat" or time.monotonic() - started > 5:
                    break
    assert {"comment": "heartbeat"} in seen


def test_pause_holds_a_live_stream_and_resume_finishes_it(server: str) -> None:
    agent = _agent(server, tools=["web_search"])
    with httpx.stream("GET", f"{server}/v1/agents/{agent}/stream", headers=KEY, timeout=10) as stream:
        run = httpx.post(f"{server}/v1/agents/{agent}/run", json={"task": "pausable"}, headers=KEY).json()
        lines = stream.iter_lines()
        first = next(f for f in frames(lines) if "event" in f)
        assert first["event"] == "thinking"
        assert httpx.post(f"{server}/v1/agents/{agent}/pause", headers=KEY).json()["status"] == "paused"
        _advance(server, 600)
        assert httpx.get(f"{server}/v1/agents/{agent}", headers=KEY).json()["status"] == "paused"
        assert httpx.post(f"{server}/v1/agents/{agent}/resume", headers=KEY).json()["status"] == "running"
        _advance(server, 600)
        rest = events(lines)
    assert rest[-1]["data"]["type"] == "done" and rest[-1]["id"].startswith(run["taskId"])


def test_terminate_ends_a_live_stream_with_an_error_event(server: str) -> None:
    agent = _agent(server, tools=["web_search"])
    with httpx.stream("GET", f"{server}/v1/agents/{agent}/stream", headers=KEY, timeout=10) as stream:
        httpx.post(f"{server}/v1/agents/{agent}/run", json={"task": "doomed"}, headers=KEY)
        threading.Timer(0.3, lambda: httpx.post(f"{server}/v1/agents/{agent}/terminate", headers=KEY)).start()
        got = events(stream.iter_lines())
    assert got[-1]["event"] == "error" and got[-1]["data"]["code"] == "terminated"


def test_error_envelope_and_request_id_over_the_wire(server: str) -> None:
    response = httpx.get(f"{server}/v1/sessions")
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "unauthorized"
    assert body["requestId"] == body["error"]["requestId"] == response.headers["x-request-id"]
    big = httpx.post(f"{server}/v1/sessions", content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                     headers={**KEY, "Content-Type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
