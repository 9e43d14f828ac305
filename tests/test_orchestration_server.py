"""Orchestration over real sockets: `theazo-emu serve` driven by httpx over loopback.

Covers what needs a real process: cron firings on an advanced clock and under a flowing
clock (the lifespan timers loop), signed trigger fires with the raw bytes on the wire, a
channel stream that another client's messages reach live, and byte-identical answers
from two servers given the same requests.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

import httpx
import pytest
from conftest import START, serve_process
from sse_client import frames

pytestmark = pytest.mark.server
KEY = {"Authorization": "Bearer th_test_orchestration"}
REPORT = {"type": "agent-run", "config": {"task": "Generate the report"}}


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_an_hourly_schedule_fires_24_times_when_the_clock_advances_a_day(server: str) -> None:
    schedule = httpx.post(f"{server}/v1/schedules", json={"name": "hourly", "cron": "0 * * * *", "action": REPORT},
                          headers=KEY).json()
    advanced = httpx.post(f"{server}/_emu/clock/advance", json={"seconds": 86_400}, timeout=30).json()
    assert advanced["clock"]["now"] == "2025-05-02T00:00:00.000Z"
    fired = [f for f in advanced["fired"] if f["type"] == "schedule"]
    assert len(fired) == 24 and {f["scheduleId"] for f in fired} == {schedule["id"]}
    assert [f["scheduledAt"] for f in fired] == sorted(f["scheduledAt"] for f in fired)
    history = httpx.get(f"{server}/v1/schedules/{schedule['id']}/history", params={"limit": 100}, headers=KEY).json()
    assert len(history["data"]) == 24
    sdk_history = httpx.get(f"{server}/v1/schedules/{schedule['id']}/history", params={"limit": 100},
                            headers={**KEY, "X-SDK-Version": "0.1.0"}).json()
    assert [h["executionId"] for h in sdk_history] == [h["executionId"] for h in history["data"]]


def test_a_flowing_clock_fires_a_schedule_in_real_time() -> None:
    with serve_process("--clock", "2025-05-01T00:00:59.300Z") as url:
        schedule = httpx.post(f"{url}/v1/schedules", json={"name": "minutely", "cron": "* * * * *", "action": REPORT},
                              headers=KEY).json()
        assert schedule["nextRunAt"] == "2025-05-01T00:01:00.000Z"
        assert httpx.post(f"{url}/_emu/clock/resume").json()["frozen"] is False
        deadline, history = time.monotonic() + 10, []
        while not history and time.monotonic() < deadline:
            time.sleep(0.05)
            history = httpx.get(f"{url}/v1/schedules/{schedule['id']}/history", headers=KEY).json()["data"]
        assert [h["scheduledAt"] for h in history] == ["2025-05-01T00:01:00.000Z"]
        assert history[0]["taskId"].startswith("task_")


def test_signed_fires_are_accepted_and_tampered_ones_rejected(server: str) -> None:
    trigger = httpx.post(f"{server}/v1/triggers", json={"name": "push", "action": REPORT}, headers=KEY).json()
    assert trigger["url"] == f"{server}/v1/triggers/{trigger['id']}/fire"
    body = b'{"ref":"refs/heads/main","commits":[{"id":"c0ffee"}]}'
    signature = _sign(trigger["secret"], body)
    accepted = httpx.post(trigger["url"], content=body, headers={"X-Theazo-Signature": signature,
                                                                 "Content-Type": "application/json"})
    assert accepted.status_code == 202 and accepted.json()["taskId"].startswith("task_")
    tampered = httpx.post(trigger["url"], content=body.replace(b"main", b"evil"),
                          headers={"X-Theazo-Signature": signature})
    assert tampered.status_code == 401 and tampered.json()["error"]["code"] == "unauthorized"
    truncated = httpx.post(trigger["url"], content=body, headers={"X-Theazo-Signature": signature[:-2]})
    assert truncated.status_code == 401
    agents = httpx.get(f"{server}/v1/agents", headers=KEY).json()["data"]
    assert [a["id"] for a in agents] == [accepted.json()["agentId"]]


def test_a_channel_stream_receives_the_messages_another_client_posts() -> None:
    with serve_process("--clock", START, "--heartbeat", "0.2") as url:
        channel = httpx.post(f"{url}/v1/channels", json={"name": "Support"}, headers=KEY).json()
        before = httpx.post(f"{url}/v1/channels/{channel['id']}/messages", json={"content": "posted before"}).json()
        replies: list[dict] = []

        def other_client() -> None:
            time.sleep(0.3)
            for text in ("first live", "second live"):
                replies.append(httpx.post(f"{url}/v1/channels/{channel['id']}/messages",
                                          json={"content": text, "threadId": before["threadId"]}).json())

        got = []
        with httpx.stream("GET", f"{url}/v1/channels/{channel['id']}/stream", timeout=httpx.Timeout(10)) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            poster = threading.Thread(target=other_client)
            poster.start()
            for frame in frames(stream.iter_lines()):
                if "comment" not in frame:
                    got.append(frame)
                if len(got) == 4:
                    break
        poster.join()
    assert [f["event"] for f in got] == ["message"] * 4
    assert [(f["data"]["role"], f["data"]["content"]) for f in got[::2]] == [("user", "first live"),
                                                                            ("user", "second live")]
    assert [f["data"]["id"] for f in got[1::2]] == [r["id"] for r in replies]
    assert all(f["id"] == f["data"]["id"] and f["data"]["threadId"] == before["threadId"] for f in got)


def test_an_idle_channel_stream_stays_open_with_heartbeats() -> None:
    with serve_process("--clock", START, "--heartbeat", "0.1") as url:
        channel = httpx.post(f"{url}/v1/channels", json={"name": "Quiet"}, headers=KEY).json()
        comments = []
        with httpx.stream("GET", f"{url}/v1/channels/{channel['id']}/stream", timeout=httpx.Timeout(10)) as stream:
            for frame in frames(stream.iter_lines()):
                assert "comment" in frame, frame  # nothing was posted: no message events
                comments.append(frame["comment"])
                if len(comments) == 3:
                    break
    assert comments == ["stream open", "heartbeat", "heartbeat"]


def test_a_thread_stream_sees_only_its_thread_and_resumes_after_last_event_id(server: str) -> None:
    channel = httpx.post(f"{server}/v1/channels", json={"name": "Support"}, headers=KEY).json()
    post = f"{server}/v1/channels/{channel['id']}/messages"
    mine = httpx.post(post, json={"content": "mine"}).json()
    httpx.post(post, json={"content": "someone else's"})
    httpx.post(post, json={"content": "mine again", "threadId": mine["threadId"]})
    headers = {"Last-Event-ID": mine["id"]}
    with httpx.stream("GET", f"{server}/v1/channels/{channel['id']}/stream", params={"threadId": mine["threadId"]},
                      headers=headers, timeout=httpx.Timeout(10)) as stream:
        got = []
        for frame in frames(stream.iter_lines()):
            if "comment" not in frame:
                got.append(frame["data"])
            if len(got) == 2:
                break
    assert [(m["role"], m["threadId"]) for m in got] == [("user", mine["threadId"]), ("assistant", mine["threadId"])]
    assert got[0]["content"] == "mine again"


def test_disabling_a_channel_closes_its_open_streams() -> None:
    with serve_process("--clock", START, "--heartbeat", "0.2") as url:
        channel = httpx.post(f"{url}/v1/channels", json={"name": "Support"}, headers=KEY).json()

        def disable() -> None:
            time.sleep(0.3)
            httpx.put(f"{url}/v1/channels/{channel['id']}", json={"enabled": False}, headers=KEY)

        worker = threading.Thread(target=disable)
        with httpx.stream("GET", f"{url}/v1/channels/{channel['id']}/stream", timeout=httpx.Timeout(10)) as stream:
            worker.start()
            lines = list(stream.iter_lines())  # returns only because the server closes the stream
        worker.join()
    assert lines[0] == ": stream open"


def _scenario(url: str) -> list[bytes]:
    out: list[bytes] = []

    def call(method: str, path: str, body=None, headers=None, content=None) -> dict:
        response = httpx.request(method, url + path, json=body, content=content, headers=headers or KEY, timeout=30)
        out.append(response.content)
        return response.json()

    call("POST", "/v1/schedules", {"name": "hourly", "cron": "0 * * * *", "action": REPORT})
    schedule = call("POST", "/v1/schedules", {"name": "paris", "cron": "15 9 * * *", "timezone": "Europe/Paris",
                                              "action": REPORT})
    call("POST", "/_emu/clock/advance", {"seconds": 8 * 3600})
    call("GET", f"/v1/schedules/{schedule['id']}/history")
    trigger = call("POST", "/v1/triggers", {"name": "hook", "action": REPORT})
    body = b'{"n": 1}'
    call("POST", f"/v1/triggers/{trigger['id']}/fire", content=body,
         headers={"X-Theazo-Signature": _sign(trigger["secret"], body)})
    channel = call("POST", "/v1/channels", {"name": "Support", "instructions": "Be kind."})
    call("POST", f"/v1/channels/{channel['id']}/messages", {"content": "Hello?"})
    call("GET", f"/v1/channels/{channel['id']}/messages")
    call("GET", "/v1/usage/summary")
    return out


def test_the_same_requests_give_byte_identical_answers() -> None:
    with serve_process("--clock", START) as first:
        one = _scenario(first)
    with serve_process("--clock", START) as second:
        two = _scenario(second)
    with serve_process("--clock", START, "--seed", "7") as third:
        other = _scenario(third)
    ports = [u.rsplit(":", 1)[1].encode() for u in (first, second, third)]
    normalise = [[b.replace(port, b"PORT") for b in run] for run, port in zip((one, two, other), ports)]
    assert normalise[0] == normalise[1]
    assert normalise[0] != normalise[2]
