"""The SDK's remaining families over real sockets: `theazo-emu serve` driven by httpx.

The log stream is endless (a tail), so it needs a real socket; webhook deliveries leave the
process, so a receiver on loopback checks their signatures; and under a flowing clock the
timers loop delivers a run's end in real time with nobody advancing the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

import httpx
import pytest
from conftest import START, serve_process
from receiver import receiver
from sse_client import frames

pytestmark = pytest.mark.server
KEY = {"Authorization": "Bearer th_test_observability"}
SDK = {**KEY, "X-SDK-Version": "0.1.0", "Accept": "text/event-stream"}


def _agent(url: str, **body) -> dict:
    session = httpx.post(f"{url}/v1/sessions", json={"userId": "u1"}, headers=KEY).json()
    return httpx.post(f"{url}/v1/sessions/{session['id']}/agents", json=body, headers=KEY).json()


def _advance(url: str, seconds: float) -> None:
    httpx.post(f"{url}/_emu/clock/advance", json={"seconds": seconds})


def _journaled(url: str, count: int) -> list[dict]:
    """The webhook journal once `count` attempts are settled (an attempt settles after its answer)."""
    deadline = time.monotonic() + 10
    while len(entries := httpx.get(f"{url}/_emu/requests", params={"kind": "webhook"}).json()["data"]) < count:
        assert time.monotonic() < deadline, entries
        time.sleep(0.02)
    return entries


def _read(stream: httpx.Response, count: int, deadline_s: float = 10) -> tuple[list[dict], list[str]]:
    """The first `count` event frames (and the comments seen meanwhile)."""
    got, comments, started = [], [], time.monotonic()
    for frame in frames(stream.iter_lines()):
        if "comment" in frame:
            comments.append(frame["comment"])
        else:
            got.append(frame)
        if len(got) >= count or time.monotonic() - started > deadline_s:
            break
    return got, comments


def test_the_log_stream_tails_lines_as_the_clock_releases_them(server: str) -> None:
    agent = _agent(server, tools=["web_search"])
    old = httpx.post(f"{server}/v1/agents/{agent['id']}/run", json={"task": "before"}, headers=KEY).json()
    _advance(server, 600)  # this run's lines are history: the tail starts after them
    with httpx.stream("GET", f"{server}/v1/logs/stream", headers=SDK, timeout=httpx.Timeout(10)) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        run = httpx.post(f"{server}/v1/agents/{agent['id']}/run", json={"task": "after"}, headers=KEY).json()
        threading.Timer(0.3, _advance, (server, 600)).start()
        got, _ = _read(stream, 5)
    assert [f["event"] for f in got] == ["log"] * 5
    assert {f["data"]["metadata"]["taskId"] for f in got} == {run["taskId"]} != {old["taskId"]}
    assert [f["data"]["metadata"]["event"] for f in got] == ["thinking", "tool_call", "tool_result", "thinking",
                                                              "output"]
    assert all(f["id"] == f["data"]["id"] for f in got)
    listed = httpx.get(f"{server}/v1/logs", params={"limit": 5}, headers={**KEY, "X-SDK-Version": "0.1.0"}).json()
    assert [f["data"] for f in reversed(got)] == listed  # the stream and the list say the same


def test_the_log_stream_filters_and_resumes_after_last_event_id(server: str) -> None:
    mine, other = _agent(server, tools=["web_search"]), _agent(server)
    run = httpx.post(f"{server}/v1/agents/{mine['id']}/run", json={"task": "mine"}, headers=KEY).json()
    httpx.post(f"{server}/v1/agents/{other['id']}/run", json={"task": "other"}, headers=KEY)
    _advance(server, 600)
    first = f"log_{run['taskId'].removeprefix('task_')}-2"
    with httpx.stream("GET", f"{server}/v1/logs/stream", params={"agentId": mine["id"], "level": "info"},
                      headers={**SDK, "Last-Event-ID": first}, timeout=httpx.Timeout(10)) as stream:
        got, _ = _read(stream, 2)
    assert [f["data"]["metadata"]["event"] for f in got] == ["tool_result", "output"]  # the thinking line is debug
    assert {f["data"]["agentId"] for f in got} == {mine["id"]}


def test_an_idle_log_stream_stays_open_with_heartbeats() -> None:
    with serve_process("--clock", START, "--heartbeat", "0.1") as url:
        with httpx.stream("GET", f"{url}/v1/logs/stream", headers=SDK, timeout=httpx.Timeout(10)) as stream:
            comments = []
            for frame in frames(stream.iter_lines()):
                assert "comment" in frame, frame
                comments.append(frame["comment"])
                if len(comments) == 3:
                    break
    assert comments == ["stream open", "heartbeat", "heartbeat"]


def test_webhook_deliveries_reach_a_receiver_signed_and_retried_on_the_clock(server: str) -> None:
    with receiver(statuses=[500]) as hook:
        webhook = httpx.post(f"{server}/v1/webhooks", json={"url": hook.url, "events": ["run.started", "run.completed"]},
                             headers=KEY).json()
        agent = _agent(server)
        run = httpx.post(f"{server}/v1/agents/{agent['id']}/run", json={"task": "deliver"}, headers=KEY).json()
        (refused,) = hook.wait_for(1)  # answered 500: retried after 10 s of virtual time
        assert _journaled(server, 1)[0]["nextAttemptAt"] == "2025-05-01T00:00:10.000Z"
        _advance(server, 9.999)
        assert run["durationMs"] < 9_999  # the run's end falls due first...
        ended = hook.wait_for(2)[1]
        _journaled(server, 2)
        _advance(server, 0.001)  # ...then the retry
        retried = hook.wait_for(3)[2]
        journal = _journaled(server, 3)
    for request in (refused, ended, retried):
        expected = "sha256=" + hmac.new(webhook["secret"].encode(), request["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request["headers"]["x-theazo-signature"], expected)
    assert refused.json()["type"] == "run.started" and refused["headers"]["x-theazo-attempt"] == "1"
    assert retried["body"] == refused["body"] and retried["headers"]["x-theazo-attempt"] == "2"
    assert ended.json()["type"] == "run.completed" and ended.json()["data"]["output"] == run["output"]
    assert [(e["event"], e["attempt"], e["outcome"]) for e in journal] == [
        ("run.started", 1, "pending"), ("run.completed", 1, "delivered"), ("run.started", 2, "delivered")]
    assert all(e["tenant"].startswith("tn_") for e in journal)


def test_a_flowing_clock_delivers_a_runs_end_in_real_time() -> None:
    with serve_process("--clock", "now") as url, receiver() as hook:
        httpx.post(f"{url}/v1/webhooks", json={"url": hook.url, "events": ["run.completed"]}, headers=KEY)
        agent = _agent(url)
        run = httpx.post(f"{url}/v1/agents/{agent['id']}/run", json={"task": "quick"}, headers=KEY).json()
        (completed,) = hook.wait_for(1, timeout=run["durationMs"] / 1000 + 10)
    assert completed.json()["data"]["taskId"] == run["taskId"]
