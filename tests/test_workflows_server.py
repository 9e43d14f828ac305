"""Real-process tests of orchestration: `theazo-emu serve` on a loopback port, driven over HTTP.

A workflow that uses parallel, condition, map, approval, delay and a webhook to a receiver
this test starts (a tiny http.server on port 0) completes with the right outputs and
costs while its SSE stream is followed live; a fleet of 50 inputs at concurrency 5 never
runs more than 5 items at once while the clock is advanced in steps; and under a flowing
clock a delay step completes by itself. Only the webhook answer (and the flowing clock)
take wall time; waits for them poll with a deadline.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import httpx
import pytest
from conftest import START, serve_process
from sse_client import events

pytestmark = pytest.mark.server
KEY = {"Authorization": "Bearer th_test_orchestration"}


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("content-length") or 0)
        self.received.append({"path": self.path, "headers": dict(self.headers),
                              "body": json.loads(self.rfile.read(length) or b"null")})
        answer = json.dumps({"accepted": True, "n": len(self.received)}).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    handler = type("Receiver", (_Receiver,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/published", handler.received
    finally:
        server.shutdown()
        server.server_close()


def _advance(http: httpx.Client, seconds: float) -> dict:
    response = http.post("/_emu/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text
    return response.json()


def _client(url: str) -> httpx.Client:
    """One client per server: a new httpx client per call costs ~150 ms (its SSL context)."""
    return httpx.Client(base_url=url, headers=KEY, timeout=10)


def _poll(fetch: Any, done: Any, seconds: float = 10) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def _pipeline(hook: str) -> list[dict]:
    return [
        {"id": "prep", "type": "transform", "expression": {"items": "$.input.items", "count": "len($.input.items)"}},
        {"id": "fan", "type": "parallel", "dependsOn": ["prep"], "branches": [
            {"id": "research", "type": "agent", "agent": "researcher", "inputMap": {"topic": "$.input.topic"}},
            {"id": "cooldown", "type": "delay", "duration": "10m"}]},
        {"id": "check", "type": "condition", "if": "$.prep.output.count >= 3", "then": "each", "else": "single",
         "dependsOn": ["fan"]},
        {"id": "each", "type": "map", "over": "$.prep.output.items", "concurrency": 2,
         "step": {"id": "each_item", "type": "agent", "agent": "summariser", "inputMap": {"item": "$.item"}}},
        {"id": "single", "type": "transform", "expression": "'only one'"},
        {"id": "gate", "type": "approval", "action": "publish", "params": {"count": "$.prep.output.count"},
         "timeout": "1h", "dependsOn": ["each", "single"]},
        {"id": "notify", "type": "webhook", "url": hook, "method": "POST", "dependsOn": ["gate"],
         "headers": {"X-Run": "{{ $.input.topic }}"},
         "body": {"count": "$.gate.output.params.count", "approvedBy": "$.gate.output.resolvedBy",
                  "summaries": "$.each.output.length", "note": "topic={{ $.input.topic }}"}},
    ]


def test_a_workflow_of_every_step_kind_completes_with_its_outputs_and_costs(receiver) -> None:
    hook, received = receiver
    with serve_process("--clock", START) as url, _client(url) as http:
        workflow = http.post("/v1/workflows", json={"name": "publish", "steps": _pipeline(hook)})
        assert workflow.status_code == 201, workflow.text
        run = http.post(f"/v1/workflows/{workflow.json()['id']}/runs",
                         json={"userId": "editor", "input": {"topic": "agents", "items": ["a", "b", "c"]}}).json()
        frames: list[dict] = []
        with http.stream("GET", f"/v1/workflow-runs/{run['id']}/stream", timeout=20) as stream:
            assert stream.status_code == 200
            reader = threading.Thread(target=lambda: frames.extend(events(stream.iter_lines())))
            reader.start()
            _advance(http, 599)
            midway = http.get(f"/v1/workflow-runs/{run['id']}").json()
            assert midway["stepResults"]["cooldown"]["status"] == "running"
            assert midway["stepResults"]["research"]["status"] == "completed"
            _advance(http, 600)
            paused = http.get(f"/v1/workflow-runs/{run['id']}").json()
            assert (paused["status"], paused["currentStepId"]) == ("paused", "gate")
            (approval,) = http.get("/v1/approvals?status=pending", headers={"X-SDK-Version": "0.1"}).json()
            assert approval["params"] == {"count": 3}
            approved = http.post(f"/v1/approvals/{approval['id']}/approve", json={"resolvedBy": "chief"},
                                  headers=KEY)
            assert approved.status_code == 200
            done = _poll(lambda: http.get(f"/v1/workflow-runs/{run['id']}").json(),
                         lambda r: r["status"] != "running")
            reader.join(10)
        assert not reader.is_alive(), "the stream did not close after workflow:complete"
        usage = http.get("/v1/usage/summary").json()

    results = done["stepResults"]
    assert done["status"] == "completed", done
    assert {k: v["status"] for k, v in results.items()} == {
        "prep": "completed", "fan": "completed", "research": "completed", "cooldown": "completed",
        "check": "completed", "each": "completed", "single": "skipped", "gate": "completed", "notify": "completed"}
    assert results["check"]["output"] == {"result": True, "branch": "then", "next": "each"}
    assert len(results["each"]["output"]) == 3 and all('"item": ' in o for o in results["each"]["output"])
    assert results["notify"]["output"] == {"status": 202, "body": {"accepted": True, "n": 1},
                                           "headers": {"content-type": "application/json"}}
    assert done["output"] == results["notify"]["output"]
    # costs: agent steps cost their runs; everything else is free; the ledger agrees
    agent_costs = [results["research"]["cost"], *(i["cost"] for i in results["each"]["items"])]
    assert all(c > 0 for c in agent_costs)
    assert results["each"]["cost"] == sum(agent_costs[1:])
    assert all(results[k]["cost"] == 0 for k in ("prep", "cooldown", "check", "gate", "notify"))
    assert done["totalCost"] == {"amount": sum(agent_costs), "currency": "usd"}
    assert usage["total"]["amount"] == sum(agent_costs)
    # the receiver got the rendered request
    (hit,) = received
    assert hit["path"] == "/hooks/published" and hit["headers"]["X-Run"] == "agents"
    assert hit["body"] == {"count": 3, "approvedBy": "chief", "summaries": 3, "note": "topic=agents"}
    # the live stream saw everything, in order, in both shapes, and ended with the run
    names = [(f["event"], f["data"].get("stepId")) for f in frames]
    assert names[0] == ("workflow:start", None) and names[-1] == ("workflow:complete", None)
    assert names.index(("step:complete", "cooldown")) < names.index(("step:start", "check"))
    assert ("step:skipped", "single") in names and ("approval:requested", "gate") in names
    assert sum(1 for n in names if n[0] == "step:complete" and (n[1] or "").startswith("each[")) == 3
    assert all(f["data"]["runId"] == run["id"] and "event" in f["data"] for f in frames)
    assert frames[-1]["data"]["cost"] == done["totalCost"] and frames[-1]["data"]["event"] == "run.completed"
    assert [int(f["id"].rsplit(":", 1)[1]) for f in frames] == list(range(1, len(frames) + 1))


def test_an_unreachable_webhook_fails_its_step() -> None:
    with socket.socket() as probe:  # a port nobody listens on once this socket is closed
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with serve_process("--clock", START) as url, _client(url) as http:
        steps = [{"id": "notify", "type": "webhook", "url": f"http://127.0.0.1:{closed}/hook", "timeout": "2s"}]
        workflow = http.post("/v1/workflows", json={"name": "w", "steps": steps}).json()
        run = http.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u"}).json()
        done = _poll(lambda: http.get(f"/v1/workflow-runs/{run['id']}").json(),
                     lambda r: r["status"] != "running")
    assert done["status"] == "failed"
    assert done["stepResults"]["notify"]["errorCode"] == "webhook_unreachable"


def test_a_fleet_of_50_never_runs_more_than_5_at_once() -> None:
    with serve_process("--clock", START) as url, _client(url) as http:
        session = http.post("/v1/sessions", json={"userId": "batch"}).json()
        fleet = http.post(f"/v1/sessions/{session['id']}/fleets", json={
            "agent": "researcher", "inputs": [{"company": f"co-{i}"} for i in range(50)], "concurrency": 5}).json()
        assert (fleet["status"], fleet["totalItems"], fleet["running"]) == ("dispatching", 50, 5)
        frames: list[dict] = []
        with http.stream("GET", f"/v1/fleets/{fleet['id']}/stream", timeout=20) as stream:
            reader = threading.Thread(target=lambda: frames.extend(events(stream.iter_lines())))
            reader.start()
            seen = []
            for _ in range(2000):
                status = http.get(f"/v1/fleets/{fleet['id']}").json()
                seen.append(status)
                if status["status"] != "running":
                    break
                _advance(http, 0.5)
            reader.join(10)
        results = http.get(f"/v1/fleets/{fleet['id']}/results?limit=100").json()["data"]

    assert seen[-1]["status"] == "completed" and seen[-1]["completed"] == 50
    assert max(s["running"] for s in seen) == 5
    assert all(s["running"] <= 5 for s in seen)
    assert sum(s["running"] == 5 for s in seen) > len(seen) // 2  # slots are refilled at once
    assert not reader.is_alive()
    starts = [f for f in frames if f["event"] == "agent:start"]
    assert len(starts) == 50 and [f["event"] for f in frames].count("agent:complete") == 50
    assert frames[-1]["event"] == "fleet:complete" and frames[-1]["data"]["completed"] == 50
    assert seen[-1]["cost"]["amount"] == sum(r["cost"]["amount"] for r in results)
    # replay the item events: at no instant were more than 5 running
    running = peak = 0
    for frame in frames:
        running += {"agent:start": 1, "agent:complete": -1}.get(frame["event"], 0)
        peak = max(peak, running)
    assert peak == 5


def test_under_a_flowing_clock_a_delay_completes_by_itself() -> None:
    with serve_process() as url, _client(url) as http:
        steps = [{"id": "nap", "type": "delay", "duration": "300ms"},
                 {"id": "after", "type": "transform", "expression": "'woke'", "dependsOn": ["nap"]}]
        workflow = http.post("/v1/workflows", json={"name": "w", "steps": steps}).json()
        run = http.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u"}).json()
        assert run["status"] == "running"
        done = _poll(lambda: http.get(f"/v1/workflow-runs/{run['id']}").json(),
                     lambda r: r["status"] != "running", seconds=5)
    assert (done["status"], done["output"]) == ("completed", "woke")
    assert done["stepResults"]["nap"]["duration"] >= 300
