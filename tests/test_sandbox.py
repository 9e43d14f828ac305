"""The sandbox bridge over HTTP: what the `theazo-sandbox` package POSTs from inside an
agent's sandbox (no key; the agent and its session name the tenant), and where a user then
sees it: logs, usage and billing, traces, progress, the run and its stream.

Set-up: a frozen clock at START; reports are plain POSTs shaped as the package sends them
(packages/theazo-sandbox/src/index.ts). test_sandbox_exec.py runs them from real code.
"""

from __future__ import annotations

import pytest
from conftest import START, advance, assert_error, make_agent, make_session

OTHER = {"Authorization": "Bearer th_test_sandbox_neighbour"}
SDK = {"X-SDK-Version": "0.1.0"}


def _report(client, agent: dict, kind: str, **body):
    sent = {"agentId": agent["id"], "sessionId": agent["sessionId"], "timestamp": "2031-01-01T00:00:00.000Z", **body}
    return client.post(f"/v1/sandbox/{kind}", json=sent)


def _ok(response) -> dict:
    assert response.status_code == 202, response.text
    return response.json()


def _logs(client, auth, agent: dict) -> list[dict]:
    return client.get(f"/v1/logs?agentId={agent['id']}", headers=auth).json()["data"]


def test_a_log_line_shows_in_the_agents_logs_without_a_key(client, auth):
    agent = make_agent(client, auth)
    answer = _ok(_report(client, agent, "log", level="warn", message="disk almost full", metadata={"pct": 91}))
    assert answer["taskId"].startswith("task_") and answer["event"] == "log"
    assert answer["at"] == "2025-05-01T00:00:00.000Z"
    (line,) = _logs(client, auth, agent)
    assert (line["level"], line["source"], line["message"]) == ("warn", "sandbox", "disk almost full")
    assert line["metadata"]["metadata"] == {"pct": 91} and line["metadata"]["taskId"] == answer["taskId"]
    assert line["metadata"]["reportedAt"] == "2031-01-01T00:00:00.000Z"
    assert line["timestamp"] == "2025-05-01T00:00:00.000Z"  # the virtual clock's, not the sandbox's
    assert client.get("/v1/logs?level=error", headers=auth).json()["data"] == []


def test_a_model_call_is_charged_in_usage_and_billing(client, auth):
    agent = make_agent(client, auth)
    _ok(_report(client, agent, "model", model="gpt-4o", inputTokens=1000, outputTokens=200,
                cost={"amount": 5, "currency": "usd"}))
    _ok(_report(client, agent, "model", model="claude-sonnet-4-20250514", inputTokens=1_000_000, outputTokens=0))
    usage = client.get("/v1/usage/summary", headers=auth).json()
    assert usage["total"]["amount"] == 5 + 300
    assert (usage["models"]["inputTokens"], usage["models"]["outputTokens"], usage["models"]["calls"]) == \
        (1_001_000, 200, 2)
    models = {row["model"]: row for row in client.get("/v1/billing/usage/models", headers=auth).json()["data"]}
    assert models["gpt-4o"]["cost"]["amount"] == 5 and models["gpt-4o"]["inputTokens"] == 1000
    assert models["claude-sonnet-4-20250514"]["cost"]["amount"] == 300
    run = client.get(f"/v1/agents/{agent['id']}/status", headers=auth).json()
    assert run["task"] == "sandbox" and run["cost"] == {"amount": 305, "currency": "usd"}


def test_a_fractional_reported_cost_rounds_up_to_a_cent(client, auth):
    agent = make_agent(client, auth)
    _ok(_report(client, agent, "model", model="m", inputTokens=1, outputTokens=1, cost={"amount": 0.2}))
    assert client.get("/v1/usage/summary", headers=auth).json()["total"]["amount"] == 1


def test_spans_are_spans_of_the_sandbox_runs_trace(client, auth):
    agent = make_agent(client, auth)
    advance(client, 5)
    _ok(_report(client, agent, "span", name="research", startTime="x", endTime="y", durationMs=1500,
                status="completed", attributes={"query": "ai"}))
    task = _ok(_report(client, agent, "span", name="write", durationMs=0, status="failed", error="boom"))["taskId"]
    trace = client.get(f"/v1/traces/trace_{task.removeprefix('task_')}", headers=auth).json()
    named = {span["name"]: span for span in trace["spans"]}
    assert named["research"]["durationMs"] == 1500 and named["research"]["attributes"]["query"] == "ai"
    assert named["research"]["endTime"] == "2025-05-01T00:00:05.000Z"
    assert named["write"]["attributes"]["status"] == "failed" and named["write"]["attributes"]["error"] == "boom"
    assert [line["level"] for line in _logs(client, auth, agent)] == ["error", "info"]


def test_progress_shows_on_the_agents_progress_and_in_its_stream(client, auth):
    agent = make_agent(client, auth)
    client.post(f"/v1/agents/{agent['id']}/checkpoints", json={"phase": "scan", "progress": 10}, headers=auth)
    _ok(_report(client, agent, "progress", percentage=50, message="Halfway done"))
    progress = client.get(f"/v1/agents/{agent['id']}/progress", headers=auth).json()
    assert (progress["phase"], progress["progress"], progress["checkpoints"]) == ("Halfway done", 50, 1)
    advance(client, 1)
    client.post(f"/v1/agents/{agent['id']}/checkpoints", json={"phase": "write", "progress": 70}, headers=auth)
    assert client.get(f"/v1/agents/{agent['id']}/progress", headers=auth).json()["phase"] == "write"


def test_complete_ends_the_sandbox_run_and_its_stream(client, auth):
    agent = make_agent(client, auth)
    task = _ok(_report(client, agent, "log", level="info", message="start"))["taskId"]
    _ok(_report(client, agent, "model", model="gpt-4o", inputTokens=10, outputTokens=10, cost={"amount": 3}))
    advance(client, 90)
    done = _ok(_report(client, agent, "complete", output="Report generated", artifacts=["report.pdf"]))
    assert done["taskId"] == task and done["event"] == "output"
    with client.stream("GET", f"/v1/agents/{agent['id']}/stream?taskId={task}", headers=auth) as stream:
        text = "".join(stream.iter_text())
    assert text.count("event: ") == 3 and "event: output" in text
    assert '"type":"done"' in text and '"output":"Report generated"' in text and '"artifacts":["report.pdf"]' in text
    status = client.get(f"/v1/agents/{agent['id']}/status", headers=auth).json()
    assert status["taskId"] == task and status["durationMs"] == 90_000 and status["cost"]["amount"] == 3
    traces = client.get(f"/v1/traces?agentId={agent['id']}", headers=auth).json()["data"]
    assert [(t["taskId"], t["status"]) for t in traces] == [(task, "completed")]
    # a report after the completion opens a new sandbox run
    assert _ok(_report(client, agent, "log", level="info", message="again"))["taskId"] > task


def test_complete_without_earlier_reports_is_a_run_of_its_own(client, auth):
    agent = make_agent(client, auth)
    task = _ok(_report(client, agent, "complete", output="Done"))["taskId"]
    status = client.get(f"/v1/agents/{agent['id']}/status", headers=auth).json()
    assert status["taskId"] == task and status["cost"] == {"amount": 0, "currency": "usd"}


def test_terminating_the_agent_ends_its_open_sandbox_run_and_refuses_reports(client, auth):
    agent = make_agent(client, auth)
    task = _ok(_report(client, agent, "log", level="info", message="working"))["taskId"]
    assert client.post(f"/v1/agents/{agent['id']}/terminate", headers=auth).status_code == 200
    traces = client.get(f"/v1/traces?agentId={agent['id']}", headers=auth).json()["data"]
    assert [(t["taskId"], t["status"]) for t in traces] == [(task, "terminated")]
    body = assert_error(_report(client, agent, "log", level="info", message="late"), 409, "conflict")
    assert "terminated" in body["error"]["message"]


def test_pause_and_mock_runs_leave_an_open_sandbox_run_alone(client, auth):
    agent = make_agent(client, auth)
    task = _ok(_report(client, agent, "log", level="info", message="one"))["taskId"]
    run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "summarise"}, headers=auth).json()
    assert client.post(f"/v1/agents/{agent['id']}/pause", headers=auth).status_code == 200
    assert client.post(f"/v1/agents/{agent['id']}/resume", json={}, headers=auth).status_code == 200
    assert _ok(_report(client, agent, "log", level="info", message="two"))["taskId"] == task != run["taskId"]


@pytest.mark.parametrize("which", ["agent", "session", "both"])
def test_an_unknown_agent_or_another_session_is_the_same_404(client, auth, which):
    agent = make_agent(client, auth)
    other = make_session(client, auth, userId="user_2")
    sent = {"agentId": "agt_00000000000000000000000000" if which != "session" else agent["id"],
            "sessionId": other["id"] if which != "agent" else agent["sessionId"], "level": "info", "message": "x"}
    body = assert_error(client.post("/v1/sandbox/log", json=sent), 404, "not_found")
    assert body["error"]["message"] == (f"No agent '{sent['agentId']}' in session '{sent['sessionId']}': check "
                                        "THEAZO_AGENT_ID and THEAZO_SESSION_ID.")
    assert _logs(client, auth, agent) == []


def test_another_tenant_never_sees_the_reports(client, auth):
    agent = make_agent(client, auth)
    _ok(_report(client, agent, "model", model="gpt-4o", inputTokens=5, outputTokens=5))
    assert client.get("/v1/logs", headers=OTHER).json()["data"] == []
    assert client.get("/v1/usage/summary", headers=OTHER).json()["total"]["amount"] == 0
    assert_error(client.get(f"/v1/agents/{agent['id']}/progress", headers=OTHER), 404, "not_found")


@pytest.mark.parametrize("kind, body, field", [
    ("log", {"level": "trace", "message": "x"}, "level"),
    ("log", {"level": "info"}, "message"),
    ("log", {"level": "info", "message": "x", "metadata": [1]}, "metadata"),
    ("model", {"model": "m", "inputTokens": -1, "outputTokens": 0}, "inputTokens"),
    ("model", {"model": "m", "inputTokens": 10**10, "outputTokens": 0}, "inputTokens"),
    ("model", {"model": "m", "inputTokens": 1, "outputTokens": 1.5}, "outputTokens"),
    ("model", {"model": "m", "inputTokens": 1, "outputTokens": 1, "cost": {"amount": 1, "currency": "eur"}},
     "cost.currency"),
    ("model", {"model": "", "inputTokens": 1, "outputTokens": 1}, "model"),
    ("span", {"name": "s", "durationMs": -5}, "durationMs"),
    ("span", {"name": "s", "status": "running"}, "status"),
    ("progress", {"percentage": 101, "message": "x"}, "percentage"),
    ("progress", {"percentage": "50", "message": "x"}, "percentage"),
    ("complete", {"output": "x", "artifacts": "a.pdf"}, "artifacts"),
    ("complete", {}, "output"),
])
def test_bad_reports_are_422_naming_the_field_and_store_nothing(client, auth, kind, body, field):
    agent = make_agent(client, auth)
    error = assert_error(_report(client, agent, kind, **body), 422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert _logs(client, auth, agent) == []
    assert client.get(f"/v1/agents/{agent['id']}/status", headers=auth).json()["taskId"] is None


@pytest.mark.parametrize("body", [{}, {"agentId": 5, "sessionId": "s"}, {"agentId": "a" * 500, "sessionId": "s"}])
def test_reports_without_usable_ids_are_422(client, body):
    assert_error(client.post("/v1/sandbox/log", json={**body, "level": "info", "message": "x"}), 422,
                 "unprocessable_entity")


@pytest.mark.parametrize("raw", [b'{"agentId": ', b'{"agentId": "a", "sessionId": "s", "level": "info", '
                                 b'"message": "\\ud800"}', b'[]', b'{"agentId": NaN}'])
def test_malformed_or_hostile_json_is_422_in_the_envelope(client, raw):
    response = client.post("/v1/sandbox/log", content=raw, headers={"content-type": "application/json"})
    assert_error(response, 422, "unprocessable_entity")


def test_the_sdk_reads_the_sandbox_runs_logs_and_traces_as_bare_arrays(client, auth):
    agent = make_agent(client, auth)
    _ok(_report(client, agent, "log", level="debug", message="hello"))
    assert client.get("/v1/logs", headers={**auth, **SDK}).json()[0]["message"] == "hello"
    assert client.get("/v1/traces", headers={**auth, **SDK}).json()[0]["startTime"] == "2025-05-01T00:00:00.000Z"
    assert START.startswith("2025-05-01")
