"""Logs, metrics and traces over HTTP: derived from runs, their events and the ledger, so they
agree with usage; filters, paging, bad queries, tenants. The log stream's own tests are in
test_observability_server.py (an endless SSE stream needs a real socket)."""

from __future__ import annotations

import pytest
from conftest import advance, assert_error, make_agent, make_session

SDK = {"X-SDK-Version": "0.1.0"}
OTHER = {"Authorization": "Bearer th_test_another_tenant"}


def run(client, auth, agent_id, task="Summarize the news") -> dict:
    response = client.post(f"/v1/agents/{agent_id}/run", json={"task": task}, headers=auth)
    assert response.status_code == 202, response.text
    return response.json()


def logs(client, auth, **params) -> list[dict]:
    response = client.get("/v1/logs", params=params, headers={**auth, **SDK})
    assert response.status_code == 200, response.text
    return response.json()


def test_logs_are_the_released_run_events_newest_first(client, auth):
    agent = make_agent(client, auth, tools=["web_search"])
    result = run(client, auth, agent["id"])
    assert logs(client, auth)[-1]["metadata"]["event"] == "thinking"  # only what the clock has released
    advance(client, result["durationMs"] / 1000)
    lines = logs(client, auth)
    assert [line["metadata"]["event"] for line in reversed(lines)] == [
        "thinking", "tool_call", "tool_result", "thinking", "output"]
    newest = lines[0]
    assert newest["level"] == "info" and newest["source"] == "model"
    assert newest["agentId"] == agent["id"] and newest["sessionId"] == agent["sessionId"]
    assert newest["userId"] == "user_1" and newest["provider"] == agent["provider"]
    assert newest["traceId"] == "trace_" + result["taskId"].removeprefix("task_")
    assert newest["id"] == f"log_{result['taskId'].removeprefix('task_')}-5"
    assert f"{result['cost']['amount']} cents" in newest["message"]
    assert lines[-1]["level"] == "debug" and lines[-1]["source"] == "agent"
    assert [line["timestamp"] for line in lines] == sorted((line["timestamp"] for line in lines), reverse=True)


def test_log_filters(client, auth):
    one, two = make_agent(client, auth, tools=["web_search"]), make_agent(client, auth)
    run(client, auth, one["id"], "alpha task")
    run(client, auth, two["id"], "beta task")
    advance(client, 600)
    assert {line["agentId"] for line in logs(client, auth, agentId=two["id"])} == {two["id"]}
    assert {line["sessionId"] for line in logs(client, auth, sessionId=one["sessionId"])} == {one["sessionId"]}
    assert {line["level"] for line in logs(client, auth, level="info")} == {"info"}  # info and up: no debug
    assert all("web_search" in line["message"] for line in logs(client, auth, search="WEB_SEARCH"))
    assert logs(client, auth, search="WEB_SEARCH")
    assert len(logs(client, auth, limit=2)) == 2
    assert logs(client, auth, until="2025-04-30T00:00:00Z") == []
    assert len(logs(client, auth, since="2025-05-01T00:00:00Z")) == len(logs(client, auth))
    assert client.get("/v1/logs", headers=auth).json()["data"] == logs(client, auth)  # {data} for others


def test_a_failed_run_logs_an_error(client, auth, emu):
    from theazo_emu.theazo.mock.engine import PlannedEvent, RunPlan

    class Failing:
        def match(self, request):
            error = {"code": "provider_error", "message": "upstream down"}
            return RunPlan([PlannedEvent(0, "error", {"type": "error", **error})], "", [], 10, 0, 0, error=error)

    emu.engine.scripts.insert(0, Failing())
    agent = make_agent(client, auth)
    run(client, auth, agent["id"])
    (line,) = logs(client, auth, level="error")
    assert line["source"] == "provider" and "upstream down" in line["message"]


@pytest.mark.parametrize(("params", "field"), [({"level": "loud"}, "level"), ({"limit": 0}, "limit"),
                                               ({"limit": 1001}, "limit"), ({"since": "yesterday"}, "since"),
                                               ({"since": "2025-05-02", "until": "2025-05-01"}, "since"),
                                               ({"search": "x" * 201}, "search")])
def test_bad_log_queries_are_422(client, auth, params, field):
    error = assert_error(client.get("/v1/logs", params=params, headers=auth), 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == field


def test_tenants_see_only_their_logs_and_traces(client, auth):
    agent = make_agent(client, auth)
    result = run(client, auth, agent["id"])
    advance(client, 600)
    assert logs(client, OTHER) == []
    assert client.get("/v1/traces", headers={**OTHER, **SDK}).json() == []
    trace = "trace_" + result["taskId"].removeprefix("task_")
    assert_error(client.get(f"/v1/traces/{trace}", headers=OTHER), 404, "not_found")


def test_traces_list_one_per_run_newest_first_with_costs_from_the_ledger(client, auth):
    agent = make_agent(client, auth, tools=["web_search"])
    first = run(client, auth, agent["id"])
    advance(client, 600)
    second = run(client, auth, agent["id"], "again")
    advance(client, 600)
    traces = client.get("/v1/traces", headers={**auth, **SDK}).json()
    assert [t["taskId"] for t in traces] == [second["taskId"], first["taskId"]]
    assert traces[1] | {"startTime": None} == {
        "traceId": "trace_" + first["taskId"].removeprefix("task_"), "agentId": agent["id"],
        "sessionId": agent["sessionId"], "userId": "user_1", "taskId": first["taskId"], "status": "completed",
        "durationMs": first["durationMs"], "cost": first["cost"], "startTime": None, "provider": agent["provider"]}
    usage = client.get("/v1/usage/summary", headers=auth).json()
    assert sum(t["cost"]["amount"] for t in traces) == usage["total"]["amount"]


def test_traces_page_by_envelope_cursor_or_by_the_last_trace_id(client, auth):
    agent = make_agent(client, auth)
    ids = []
    for n in range(3):
        ids.append(run(client, auth, agent["id"], f"task {n}")["taskId"])
        advance(client, 600)
    page = client.get("/v1/traces", params={"limit": 2}, headers=auth).json()
    assert [t["taskId"] for t in page["data"]] == [ids[2], ids[1]] and page["hasMore"] is True
    rest = client.get("/v1/traces", params={"limit": 2, "cursor": page["nextCursor"]}, headers=auth).json()
    assert [t["taskId"] for t in rest["data"]] == [ids[0]]
    sdk = client.get("/v1/traces", params={"limit": 2, "cursor": page["data"][-1]["traceId"]},
                     headers={**auth, **SDK}).json()
    assert [t["taskId"] for t in sdk] == [ids[0]]
    assert client.get("/v1/traces", params={"agentId": "agt_none"}, headers={**auth, **SDK}).json() == []
    assert_error(client.get("/v1/traces", params={"cursor": "junk"}, headers=auth), 422, "unprocessable_entity")


def test_a_trace_has_a_root_a_model_span_and_a_span_per_tool_call(client, auth):
    agent = make_agent(client, auth, tools=["web_search", "write_file"])
    result = run(client, auth, agent["id"], "Research and write")
    trace_id = "trace_" + result["taskId"].removeprefix("task_")
    running = client.get(f"/v1/traces/{trace_id}", headers=auth).json()
    assert running["status"] == "running" and [s["name"] for s in running["spans"]] == ["run", "model"]
    advance(client, 600)
    detail = client.get(f"/v1/traces/{trace_id}", headers=auth).json()
    names = [s["name"] for s in detail["spans"]]
    assert names[:2] == ["run", "model"]
    assert sorted(names[2:]) == sorted(f"tool:{c['tool']}" for c in result["toolCalls"])
    root, model = detail["spans"][:2]
    assert root["durationMs"] == result["durationMs"] and root["parentSpanId"] is None
    assert model["attributes"]["cost"] == result["cost"] and model["parentSpanId"] == root["spanId"]
    assert model["attributes"]["inputTokens"] == result["usage"]["inputTokens"]
    for span, call in zip(detail["spans"][2:], result["toolCalls"]):
        assert span["attributes"]["output"] == call["output"] and span["durationMs"] > 0
    assert_error(client.get("/v1/traces/trace_nothing", headers=auth), 404, "not_found")
    assert_error(client.get("/v1/traces/not-a-trace", headers=auth), 404, "not_found")


def test_metrics_summary_agrees_with_usage(client, auth):
    session = make_session(client, auth)
    agent = make_agent(client, auth, session["id"])
    make_agent(client, auth, session["id"])
    run(client, auth, agent["id"])
    advance(client, 600)
    summary = client.get("/v1/metrics/summary", headers=auth).json()
    usage = client.get("/v1/usage/summary", params={"period": "today"}, headers=auth).json()
    assert summary["costToday"] == usage["total"]
    assert summary | {"costToday": None} == {"activeAgents": 2, "activeSessions": 1, "costToday": None,
                                             "agentsCreatedToday": 2, "runsToday": 1, "errorRate": 0}
    client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    assert client.get("/v1/metrics/summary", headers=auth).json()["activeSessions"] == 0


def test_metrics_are_percentiles_per_interval(client, auth):
    agent = make_agent(client, auth)
    durations = []
    for n in range(4):
        durations.append(run(client, auth, agent["id"], f"task number {n}")["durationMs"])
        advance(client, 1800)
    points = client.get("/v1/metrics", params={"metric": "run.duration", "since": "2025-05-01T00:00:00Z",
                                               "until": "2025-05-01T03:00:00Z", "interval": "1h"},
                        headers={**auth, **SDK}).json()
    assert [p["timestamp"] for p in points] == ["2025-05-01T00:00:00.000Z", "2025-05-01T01:00:00.000Z",
                                                "2025-05-01T02:00:00.000Z"]
    assert [p["count"] for p in points] == [2, 2, 0]
    first = sorted(durations[:2])
    assert points[0]["p50"] == first[0] and points[0]["p95"] == points[0]["p99"] == first[1]
    assert points[2] == {"timestamp": "2025-05-01T02:00:00.000Z", "p50": 0, "p95": 0, "p99": 0, "count": 0}
    same = client.get("/v1/metrics", params={"metric": "agent.duration", "since": "2025-05-01T00:00:00Z",
                                             "until": "2025-05-01T03:00:00Z", "interval": "1h"},
                      headers={**auth, **SDK}).json()
    assert same == points
    cost = client.get("/v1/metrics", params={"metric": "cost", "since": "2025-05-01T00:00:00Z",
                                             "until": "2025-05-01T03:00:00Z", "interval": "3h"}, headers=auth).json()
    assert cost["data"][0]["count"] == 4


@pytest.mark.parametrize(("params", "field"), [
    ({}, "metric"), ({"metric": "vibes"}, "metric"), ({"metric": "run.cost", "interval": "fast"}, "interval"),
    ({"metric": "run.cost", "interval": "10ms"}, "interval"), ({"metric": "run.cost", "interval": "1s"}, "interval"),
    ({"metric": "run.cost", "since": "2025-05-02T00:00:00Z", "until": "2025-05-01T00:00:00Z"}, "since"),
    ({"metric": "run.cost", "interval": "99999999999999999999w"}, "interval"), ({"metric": "run.cost", "interval": "400d"},
                                                                                 "interval"),
    ({"metric": "run.cost", "since": "0001-01-01T00:00:00Z"}, "since"),
])
def test_bad_metric_queries_are_422(client, auth, params, field):
    error = assert_error(client.get("/v1/metrics", params=params, headers=auth), 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == field
