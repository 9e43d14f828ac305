"""Schedules over HTTP: create (both body shapes), list, update, pause/resume, delete, history,
and firing on the virtual clock (each occurrence exactly once, in order, none while paused,
no catch-up on resume); failures at fire time recorded in the history; bad input is a 422
that stores nothing. The clock is frozen at 2025-05-01T00:00:00Z (a Thursday).
"""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest
from conftest import advance, assert_error, make_session
from croniter import croniter

from theazo_emu.core.cron import compile_cron

SDK = {"X-SDK-Version": "0.1.0"}
SCHED_ID = "sched_01JT4J97000000024DT7WQJ49N"  # well-formed, never created
REPORT = {"type": "agent-run", "config": {"task": "Generate the daily metrics report"}}
HOUR = 3600


def _create(client, auth, **body) -> dict:
    response = client.post("/v1/schedules", json={"name": "Report", "cron": "0 * * * *", "action": REPORT, **body},
                           headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def _history(client, auth, schedule_id: str, headers: dict | None = None, **query) -> dict | list:
    response = client.get(f"/v1/schedules/{schedule_id}/history", params=query, headers={**auth, **(headers or {})})
    assert response.status_code == 200, response.text
    return response.json()


def _schedules(client, auth, headers: dict | None = None, **query) -> dict | list:
    response = client.get("/v1/schedules", params=query, headers={**auth, **(headers or {})})
    assert response.status_code == 200, response.text
    return response.json()


def _definition(client, auth) -> dict:
    response = client.post("/v1/agent-definitions", json={"name": "Reporter", "instructions": "Write reports.",
                                                         "tools": ["web_search"]}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


# ---- create ----

def test_create_with_the_reference_body(client, auth):
    schedule = _create(client, auth, cron="0 9 * * 1-5", metadata={"team": "ops"})
    assert schedule["id"].startswith("sched_")
    assert (schedule["status"], schedule["timezone"], schedule["cron"]) == ("active", "UTC", "0 9 * * 1-5")
    assert schedule["action"] == REPORT
    assert schedule["nextRunAt"] == "2025-05-01T09:00:00.000Z"
    assert schedule["lastRunAt"] is None
    assert schedule["userId"] == "scheduler"
    assert schedule["metadata"] == {"team": "ops"}
    assert schedule["createdAt"] == schedule["updatedAt"] == "2025-05-01T00:00:00.000Z"


def test_create_with_the_sdk_body_needs_no_action(client, auth):
    definition = _definition(client, auth)
    response = client.post("/v1/schedules", headers={**auth, **SDK}, json={
        "name": "Nightly", "agent": definition["id"], "userId": "user_42", "cron": "30 2 * * *",
        "timezone": "Europe/Paris", "input": {"report": "sales"}})
    assert response.status_code == 201, response.text
    schedule = response.json()
    assert (schedule["agent"], schedule["userId"]) == (definition["id"], "user_42")
    assert schedule["input"] == {"report": "sales"}
    assert schedule["timezone"] == "Europe/Paris"
    assert schedule["action"] == {"type": "agent-run", "config": {
        "definitionId": definition["id"], "userId": "user_42", "input": {"report": "sales"}}}
    assert schedule["nextRunAt"] == "2025-05-01T00:30:00.000Z"  # 02:30 in Paris (UTC+2)


def test_a_macro_is_accepted(client, auth):
    assert _create(client, auth, cron="@daily")["nextRunAt"] == "2025-05-02T00:00:00.000Z"


@pytest.mark.parametrize(("cron", "message"), [
    ("61 * * * *", "minute value 61 is out of range 0-59"),
    ("* 24 * * *", "hour value 24 is out of range 0-23"),
    ("0 0 * * * *", "must have 5 fields"),
    ("0 0 *", "must have 5 fields"),
    ("garbage", "must have 5 fields"),
    ("a b c d e", "invalid minute field"),
    ("*/0 * * * *", "step '0' must be a positive whole number"),
    ("0 0 30 2 *", "never matches any date"),
    ("R * * * *", "invalid minute field"),
    ("H * * * *", "invalid minute field"),
    ("0 0 * * 1#6", "is not a valid cron expression"),
    ("", "String should have at least 1 character"),
    ("   ", "must have 5 fields"),
])
def test_an_invalid_cron_is_422_and_stores_nothing(client, auth, cron, message):
    response = client.post("/v1/schedules", json={"name": "x", "cron": cron, "action": REPORT}, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "cron"
    assert message in error["details"]["fields"][0]["message"]
    assert _schedules(client, auth)["data"] == []


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe/Nowhere", "../../etc/passwd", "UTC+2", "x" * 64])
def test_an_unknown_timezone_is_422(client, auth, zone):
    response = client.post("/v1/schedules", json={"name": "x", "cron": "0 * * * *", "action": REPORT,
                                                  "timezone": zone}, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "timezone"
    assert _schedules(client, auth)["data"] == []


def test_neither_action_nor_agent_is_422_naming_action(client, auth):
    response = client.post("/v1/schedules", json={"name": "x", "cron": "0 * * * *"}, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"] == [{"field": "action", "message": "either 'action' or 'agent' (an agent definition id or name) "
                                                             "is required", "type": "value_error"}]


@pytest.mark.parametrize(("action", "field"), [
    ({"type": "shell", "config": {}}, "action"),
    ("agent-run", "action"),
    ({"type": "workflow-run", "config": {}}, "action.config.workflowId"),
    ({"type": "agent-run", "config": {"task": ""}}, "action.config.task"),
    ({"type": "agent-run", "config": {"tools": ["no spaces"]}}, "action.config.tools"),
    ({"type": "agent-run", "config": {"userId": "a\nb"}}, "action.config.userId"),
])
def test_a_malformed_action_is_422_naming_the_field(client, auth, action, field):
    response = client.post("/v1/schedules", json={"name": "x", "cron": "0 * * * *", "action": action}, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert _schedules(client, auth)["data"] == []


def test_an_unknown_definition_is_404_at_creation(client, auth):
    response = client.post("/v1/schedules", json={"name": "x", "cron": "0 * * * *", "agent": "adef_nope"},
                           headers=auth)
    assert "adef_nope" in assert_error(response, 404, "not_found")["error"]["message"]
    assert _schedules(client, auth)["data"] == []


def test_an_archived_definition_is_409_at_creation(client, auth):
    definition = _definition(client, auth)
    assert client.delete(f"/v1/agent-definitions/{definition['id']}", headers=auth).status_code == 200
    response = client.post("/v1/schedules", json={"name": "x", "cron": "0 * * * *", "agent": definition["id"]},
                           headers=auth)
    assert "archived" in assert_error(response, 409, "conflict")["error"]["message"]


# ---- list ----

def test_list_is_an_envelope_for_the_reference_and_a_bare_array_for_the_sdk(client, auth):
    first, second = _create(client, auth, name="a"), _create(client, auth, name="b")
    body = _schedules(client, auth)
    assert [s["id"] for s in body["data"]] == [second["id"], first["id"]]
    assert body["hasMore"] is False and body["nextCursor"] is None
    assert [s["id"] for s in _schedules(client, auth, SDK)] == [second["id"], first["id"]]


def test_list_filters_by_status(client, auth):
    active, paused = _create(client, auth), _create(client, auth)
    client.post(f"/v1/schedules/{paused['id']}/pause", headers=auth)
    assert [s["id"] for s in _schedules(client, auth, status="paused")["data"]] == [paused["id"]]
    assert [s["id"] for s in _schedules(client, auth, status="active")["data"]] == [active["id"]]
    assert_error(client.get("/v1/schedules", params={"status": "gone"}, headers=auth), 422, "unprocessable_entity")


def test_another_tenant_sees_nothing_and_gets_404(client, auth):
    schedule = _create(client, auth)
    other = {"Authorization": "Bearer th_test_someone_else"}
    assert _schedules(client, other)["data"] == []
    for method, path in (("PATCH", ""), ("DELETE", ""), ("POST", "/pause"), ("GET", "/history")):
        response = client.request(method, f"/v1/schedules/{schedule['id']}{path}", headers=other,
                                  json={"name": "mine"} if method == "PATCH" else None)
        assert_error(response, 404, "not_found")
    assert _schedules(client, auth)["data"][0]["name"] == "Report"


# ---- firing ----

def test_an_hourly_schedule_fires_24_times_in_24_hours(client, auth):
    schedule = _create(client, auth)
    fired = advance(client, 24 * HOUR)["fired"]
    assert [f["scheduledAt"] for f in fired] == [f"2025-05-01T{h:02d}:00:00.000Z" for h in range(1, 24)] + [
        "2025-05-02T00:00:00.000Z"]
    assert {f["scheduleId"] for f in fired} == {schedule["id"]}
    assert all(f["status"] == "started" and f["taskId"].startswith("task_") for f in fired)
    history = _history(client, auth, schedule["id"], limit=100)["data"]
    assert len(history) == 24
    assert {h["executionId"] for h in history} == {f["executionId"] for f in fired}


def test_each_firing_really_runs_an_agent_with_the_task(client, auth):
    schedule = _create(client, auth)
    fired = advance(client, HOUR)["fired"]
    [entry] = _history(client, auth, schedule["id"])["data"]
    agent = client.get(f"/v1/agents/{entry['agentId']}", headers=auth).json()
    assert agent["currentTaskId"] == fired[0]["taskId"] == entry["taskId"]
    status = client.get(f"/v1/agents/{entry['agentId']}/status", headers=auth).json()
    assert status["task"] == "Generate the daily metrics report"
    session = client.get(f"/v1/sessions/{agent['sessionId']}", headers=auth).json()
    assert session["userId"] == "scheduler"
    assert entry["cost"]["amount"] > 0
    assert client.get("/v1/usage/summary", headers=auth).json()["totalCost"] == entry["cost"]


def test_the_sdk_input_becomes_the_task_as_json(client, auth):
    definition = _definition(client, auth)
    schedule = _create(client, auth, action=None, agent=definition["id"], userId="u7", input={"b": 2, "a": [1]})
    advance(client, HOUR)
    [entry] = _history(client, auth, schedule["id"])["data"]
    status = client.get(f"/v1/agents/{entry['agentId']}/status", headers=auth).json()
    assert status["task"] == '{"a": [1], "b": 2}'
    agent = client.get(f"/v1/agents/{entry['agentId']}", headers=auth).json()
    assert (agent["definitionId"], agent["userId"], agent["tools"]) == (definition["id"], "u7", ["web_search"])


def test_advancing_in_pieces_fires_each_occurrence_exactly_once(client, auth):
    schedule = _create(client, auth, cron="*/20 * * * *")
    counts = [len(advance(client, seconds)["fired"]) for seconds in (1199, 1, 1, 2399, 3600)]
    assert counts == [0, 1, 0, 2, 3]
    history = _history(client, auth, schedule["id"])["data"]
    assert len({h["scheduledAt"] for h in history}) == len(history) == 6


def test_schedules_fire_in_time_order_across_schedules(client, auth):
    hourly, half = _create(client, auth, name="hourly"), _create(client, auth, name="half", cron="30 * * * *")
    fired = advance(client, 3 * HOUR)["fired"]
    assert [(f["scheduleId"], f["scheduledAt"][11:16]) for f in fired] == [
        (half["id"], "00:30"), (hourly["id"], "01:00"), (half["id"], "01:30"), (hourly["id"], "02:00"),
        (half["id"], "02:30"), (hourly["id"], "03:00")]


def test_next_and_last_run_move_with_each_firing(client, auth):
    schedule = _create(client, auth)
    advance(client, 2.5 * HOUR)
    [current] = _schedules(client, auth)["data"]
    assert current["lastRunAt"] == "2025-05-01T02:00:00.000Z"
    assert current["nextRunAt"] == "2025-05-01T03:00:00.000Z"
    assert current["updatedAt"] == schedule["updatedAt"]


def test_a_timezone_schedule_fires_at_local_time(client, auth):
    schedule = _create(client, auth, cron="0 9 * * *", timezone="America/New_York")
    assert schedule["nextRunAt"] == "2025-05-01T13:00:00.000Z"  # 09:00 EDT
    fired = advance(client, 2 * 24 * HOUR)["fired"]
    assert [f["scheduledAt"] for f in fired] == ["2025-05-01T13:00:00.000Z", "2025-05-02T13:00:00.000Z"]


def test_history_for_the_sdk_is_a_bare_array_with_status_cost_and_completion(client, auth):
    schedule = _create(client, auth)
    advance(client, HOUR)
    [running] = _history(client, auth, schedule["id"], SDK)
    assert {"executionId", "agentId", "status", "cost", "startedAt", "completedAt"} <= set(running)
    assert (running["status"], running["completedAt"], running["startedAt"]) == (
        "running", None, "2025-05-01T01:00:00.000Z")
    advance(client, 600)
    [done] = _history(client, auth, schedule["id"], SDK)
    assert done["status"] == "completed"
    assert "2025-05-01T01:00:00.000Z" < done["completedAt"] <= "2025-05-01T01:10:00.000Z"
    assert done["cost"] == running["cost"]


def test_history_pages_newest_first(client, auth):
    schedule = _create(client, auth)
    advance(client, 5 * HOUR)
    first = _history(client, auth, schedule["id"], limit=2)
    assert [h["scheduledAt"][11:13] for h in first["data"]] == ["05", "04"]
    assert first["hasMore"] is True
    rest = _history(client, auth, schedule["id"], limit=10, cursor=first["nextCursor"])
    assert [h["scheduledAt"][11:13] for h in rest["data"]] == ["03", "02", "01"]
    assert rest["hasMore"] is False


def test_a_refused_action_is_a_failed_history_entry_not_a_500(client, auth):
    make_session(client, auth, userId="capped", limits={"maxAgents": 0})
    schedule = _create(client, auth, action={"type": "agent-run", "config": {"task": "t", "userId": "capped"}})
    fired = advance(client, 2 * HOUR)["fired"]
    assert [f["status"] for f in fired] == ["failed", "failed"]
    assert fired[0]["error"]["code"] == "session_limit_exceeded"
    history = _history(client, auth, schedule["id"], SDK)
    assert [(h["status"], h["agentId"], h["cost"]["amount"]) for h in history] == [("failed", None, 0)] * 2
    assert history[0]["error"]["code"] == "session_limit_exceeded"
    assert client.get("/v1/agents", headers=auth).json()["data"] == []


def test_a_definition_archived_after_creation_fails_at_fire_time(client, auth):
    definition = _definition(client, auth)
    schedule = _create(client, auth, action=None, agent=definition["id"], userId="u1")
    client.delete(f"/v1/agent-definitions/{definition['id']}", headers=auth)
    [fired] = advance(client, HOUR)["fired"]
    assert (fired["status"], fired["error"]["code"]) == ("failed", "conflict")
    assert _history(client, auth, schedule["id"])["data"][0]["status"] == "failed"


def test_a_schedule_keeps_firing_after_a_failure(client, auth):
    session = make_session(client, auth, userId="flaky")
    schedule = _create(client, auth, action={"type": "agent-run", "config": {"task": "t", "userId": "flaky"}})
    client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    advance(client, HOUR)
    client.post(f"/v1/sessions/{session['id']}/resume", headers=auth)
    advance(client, HOUR)
    assert [h["status"] for h in _history(client, auth, schedule["id"])["data"]] == ["running", "failed"]


# ---- pause, resume ----

def test_a_paused_schedule_does_not_fire(client, auth):
    schedule = _create(client, auth)
    paused = client.post(f"/v1/schedules/{schedule['id']}/pause", headers=auth).json()
    assert (paused["status"], paused["nextRunAt"]) == ("paused", None)
    assert advance(client, 5 * HOUR)["fired"] == []
    assert _history(client, auth, schedule["id"])["data"] == []


def test_resume_fires_next_at_the_first_occurrence_after_now_without_catch_up(client, auth):
    schedule = _create(client, auth)
    client.post(f"/v1/schedules/{schedule['id']}/pause", headers=auth)
    advance(client, 5.5 * HOUR)
    resumed = client.post(f"/v1/schedules/{schedule['id']}/resume", headers=auth).json()
    assert (resumed["status"], resumed["nextRunAt"]) == ("active", "2025-05-01T06:00:00.000Z")
    fired = advance(client, HOUR)["fired"]
    assert [f["scheduledAt"] for f in fired] == ["2025-05-01T06:00:00.000Z"]


def test_pausing_a_paused_schedule_is_409(client, auth):
    schedule = _create(client, auth)
    client.post(f"/v1/schedules/{schedule['id']}/pause", headers=auth)
    assert "already paused" in assert_error(client.post(f"/v1/schedules/{schedule['id']}/pause", headers=auth),
                                            409, "conflict")["error"]["message"]


def test_resuming_an_active_schedule_is_409(client, auth):
    schedule = _create(client, auth)
    assert_error(client.post(f"/v1/schedules/{schedule['id']}/resume", headers=auth), 409, "conflict")


def test_pause_and_resume_of_an_unknown_schedule_are_404(client, auth):
    for action in ("pause", "resume"):
        body = assert_error(client.post(f"/v1/schedules/{SCHED_ID}/{action}", headers=auth), 404, "not_found")
        assert SCHED_ID in body["error"]["message"]


# ---- update, delete ----

def test_patch_cron_counts_from_now(client, auth):
    schedule = _create(client, auth)
    advance(client, 10 * 60)
    response = client.patch(f"/v1/schedules/{schedule['id']}", json={"cron": "*/15 * * * *"}, headers=auth)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["cron"], updated["nextRunAt"]) == ("*/15 * * * *", "2025-05-01T00:15:00.000Z")
    assert updated["updatedAt"] == "2025-05-01T00:10:00.000Z"


def test_patch_name_and_action(client, auth):
    schedule = _create(client, auth)
    action = {"type": "agent-run", "config": {"task": "Another task", "userId": "ops"}}
    updated = client.patch(f"/v1/schedules/{schedule['id']}", json={"name": "Renamed", "action": action},
                           headers=auth).json()
    assert (updated["name"], updated["action"], updated["userId"]) == ("Renamed", action, "ops")
    assert updated["nextRunAt"] == schedule["nextRunAt"]


def test_patch_of_a_paused_schedule_keeps_it_paused(client, auth):
    schedule = _create(client, auth)
    client.post(f"/v1/schedules/{schedule['id']}/pause", headers=auth)
    updated = client.patch(f"/v1/schedules/{schedule['id']}", json={"cron": "5 * * * *"}, headers=auth).json()
    assert (updated["status"], updated["nextRunAt"]) == ("paused", None)


@pytest.mark.parametrize(("body", "field"), [
    ({"cron": "61 * * * *"}, "cron"), ({"timezone": "Nowhere/Land"}, "timezone"), ({"name": ""}, "name"),
    ({"action": {"type": "x"}}, "action")])
def test_a_bad_patch_is_422_and_changes_nothing(client, auth, body, field):
    schedule = _create(client, auth)
    response = client.patch(f"/v1/schedules/{schedule['id']}", json=body, headers=auth)
    assert field in {d["field"] for d in assert_error(response, 422, "unprocessable_entity")["error"]["details"]["fields"]}
    assert _schedules(client, auth)["data"] == [schedule]


def test_delete_stops_firing_and_forgets_the_schedule(client, auth):
    schedule = _create(client, auth)
    advance(client, HOUR)
    assert client.delete(f"/v1/schedules/{schedule['id']}", headers=auth).json() == {
        "ok": True, "id": schedule["id"], "deleted": True}
    assert advance(client, 3 * HOUR)["fired"] == []
    assert_error(client.get(f"/v1/schedules/{schedule['id']}/history", headers=auth), 404, "not_found")
    assert_error(client.delete(f"/v1/schedules/{schedule['id']}", headers=auth), 404, "not_found")


# ---- cron arithmetic ----

CRONS = ["0 * * * *", "*/7 * * * *", "5,35 9-17 * * 1-5", "0 0 1,15 * *", "0 0 * * 0", "0 12 * 2 *",
         "15 3 29 2 *", "0 0 31 * *", "*/10 */3 * * 6", "0 0 * * 7", "0 0 1 1 *", "59 23 31 12 *", "* * * * *",
         "5-1 * * * *", "0 22-2 * * *", "0 0 * * 5-2", "0 0 1 jan-dec/2 *", "0 0 ? * ?"]


@pytest.mark.parametrize("expr", CRONS)
def test_the_fast_path_agrees_with_croniter(expr):
    compiled, rng = compile_cron(expr), random.Random(expr)
    assert compiled.minutes is not None  # these plain UTC crons take the fast path
    start = 1_700_000_000_000 + rng.randrange(0, 10**9)
    reference = croniter(expr, datetime.fromtimestamp(start / 1000, timezone.utc))
    current = start
    for _ in range(60):
        current = compiled.next_after(current)
        assert current == int(reference.get_next(float) * 1000), expr


def test_zoned_crons_follow_daylight_saving_time():
    compiled = compile_cron("0 9 * * *", "Europe/Paris")
    assert compiled.minutes is None  # croniter's path
    before = compiled.next_after(1_742_860_800_000)  # 2025-03-25: UTC+1
    after = compiled.next_after(1_743_552_000_000)  # 2025-04-02: UTC+2
    assert datetime.fromtimestamp(before / 1000, timezone.utc).hour == 8
    assert datetime.fromtimestamp(after / 1000, timezone.utc).hour == 7


# ---- workflow-run actions ----

def _workflow(client, auth) -> dict:
    steps = [{"id": "research", "type": "agent", "agent": "researcher", "inputMap": {"topic": "$.input.topic"}}]
    response = client.post("/v1/workflows", json={"name": "pipeline", "steps": steps}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_workflow_run_action_starts_the_workflow_with_its_input(client, auth):
    workflow = _workflow(client, auth)
    action = {"type": "workflow-run", "config": {"workflowId": workflow["id"], "input": {"topic": "cron"}}}
    schedule = _create(client, auth, action=action)
    # The SDK types `agent` as a string: a workflow schedule's is the workflow it runs.
    assert (schedule["workflowId"], schedule["agent"], schedule["userId"]) == (workflow["id"], workflow["id"],
                                                                                "scheduler")
    [fired] = advance(client, HOUR)["fired"]
    assert fired["taskId"].startswith("wfr_")
    [entry] = _history(client, auth, schedule["id"])["data"]
    assert (entry["workflowRunId"], entry["agentId"]) == (fired["taskId"], None)
    run = client.get(f"/v1/workflow-runs/{entry['workflowRunId']}", headers=auth).json()
    assert (run["workflowId"], run["input"], run["userId"]) == (workflow["id"], {"topic": "cron"}, "scheduler")
    advance(client, 1800)
    [done] = _history(client, auth, schedule["id"])["data"]
    finished = client.get(f"/v1/workflow-runs/{entry['workflowRunId']}", headers=auth).json()
    assert (done["status"], done["cost"], done["completedAt"]) == (
        finished["status"], finished["totalCost"], finished["completedAt"])
    assert done["status"] == "completed"


def test_a_workflow_run_action_of_an_unknown_workflow_is_404(client, auth):
    action = {"type": "workflow-run", "config": {"workflowId": "wf_01JT4J97000000012Y7ZM38QJT"}}
    response = client.post("/v1/schedules", json={"name": "x", "cron": "0 * * * *", "action": action}, headers=auth)
    assert_error(response, 404, "not_found")
    assert _schedules(client, auth)["data"] == []


def test_a_deleted_workflow_fails_at_fire_time(client, auth):
    workflow = _workflow(client, auth)
    schedule = _create(client, auth, action={"type": "workflow-run", "config": {"workflowId": workflow["id"]}})
    assert client.delete(f"/v1/workflows/{workflow['id']}", headers=auth).status_code == 200
    [fired] = advance(client, HOUR)["fired"]
    assert (fired["status"], fired["error"]["code"]) == ("failed", "not_found")
    assert _history(client, auth, schedule["id"])["data"][0]["status"] == "failed"


# ---- firing ahead: a schedule runs through its own occurrences only up to another timer's instant ----

def _delay_workflow(client, auth, *durations: str) -> dict:
    steps = [{"id": f"d{i}", "type": "delay", "duration": d, **({"dependsOn": [f"d{i - 1}"]} if i else {})}
             for i, d in enumerate(durations)]
    response = client.post("/v1/workflows", json={"name": "naps", "steps": steps}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def _when(fired: dict) -> str:
    return (fired.get("scheduledAt") or fired.get("expiredAt") or "")[11:16]


def test_workflow_delays_fire_between_schedule_occurrences_in_time_order(client, auth):
    schedule = _create(client, auth, cron="*/20 * * * *")
    workflow = _delay_workflow(client, auth, "50m", "30m")
    run = client.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u1"}, headers=auth).json()
    fired = advance(client, 2 * HOUR)["fired"]
    order = [f"{f['type']}:{_when(f) or f['stepId']}" for f in fired if f["type"] == "schedule" or
             f["event"] == "step:complete"]
    assert order == ["schedule:00:20", "schedule:00:40", "workflow:d0", "schedule:01:00", "schedule:01:20",
                     "workflow:d1", "schedule:01:40", "schedule:02:00"]
    done = client.get(f"/v1/workflow-runs/{run['id']}", headers=auth).json()
    assert done["completedAt"] == "2025-05-01T01:20:00.000Z"  # the clock stood at 01:20, not at a later firing
    history = _history(client, auth, schedule["id"], limit=100)["data"]
    assert [h["scheduledAt"][11:16] for h in reversed(history)] == ["00:20", "00:40", "01:00", "01:20", "01:40",
                                                                    "02:00"]


def test_at_the_same_instant_the_schedule_fires_before_the_workflow_delay(client, auth):
    _create(client, auth)
    workflow = _delay_workflow(client, auth, "1h")
    client.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u1"}, headers=auth)
    fired = advance(client, 2 * HOUR)["fired"]
    assert [(f["type"], f.get("event")) for f in fired] == [
        ("schedule", None), ("workflow", "step:complete"), ("workflow", "workflow:complete"), ("schedule", None)]


def test_an_approval_timeout_fires_between_schedule_occurrences(client, auth):
    _create(client, auth, cron="*/20 * * * *")
    steps = [{"id": "gate", "type": "approval", "action": "deploy", "timeout": "30m"}]
    workflow = client.post("/v1/workflows", json={"name": "gated", "steps": steps}, headers=auth).json()
    client.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u1"}, headers=auth)
    fired = advance(client, HOUR)["fired"]
    assert [(f["type"], _when(f)) for f in fired if f["type"] != "workflow"] == [
        ("schedule", "00:20"), ("approval", "00:30"), ("schedule", "00:40"), ("schedule", "01:00")]


def test_a_workflow_run_firing_lets_its_delay_fire_before_the_next_occurrence(client, auth):
    workflow = _delay_workflow(client, auth, "5m")
    _create(client, auth, cron="*/10 * * * *", action={"type": "workflow-run", "config": {"workflowId": workflow["id"]}})
    agent_runs = _create(client, auth, name="agents", cron="*/10 * * * *")
    fired = advance(client, 35 * 60)["fired"]
    order = [f"{_when(f)}:{'agents' if f.get('scheduleId') == agent_runs['id'] else f['type']}" for f in fired
             if f["type"] == "schedule" or f["event"] == "step:complete"]
    ticks = [f"00:{m}0:{kind}" for m in (1, 2, 3) for kind in ("schedule", "agents")]
    assert [o for o in order if o[:1] == "0"] == ticks
    assert [o.split(":")[-1] for o in order] == ["schedule", "agents", "workflow"] * 3


def test_firings_in_one_advance_share_the_session_the_first_one_made(client, auth):
    schedule = _create(client, auth)
    advance(client, 5 * HOUR)
    history = _history(client, auth, schedule["id"], limit=100)["data"]
    sessions = client.get("/v1/sessions", params={"userId": "scheduler"}, headers=auth).json()["data"]
    assert len(sessions) == 1
    assert [h["sessionId"] for h in history] == [sessions[0]["id"]] * 5


def test_a_session_with_limits_is_read_again_at_each_firing_of_one_advance(client, auth):
    make_session(client, auth, userId="metered", limits={"maxComputeMinutes": 1})
    _create(client, auth, action={"type": "agent-run", "config": {"task": "t", "userId": "metered"}})
    fired = advance(client, 3 * HOUR)["fired"]
    assert [f["status"] for f in fired] == ["started", "failed", "failed"]
    assert fired[1]["error"]["code"] == "conflict"  # the first run's compute paused the session
    assert "paused" in fired[1]["error"]["message"]


def test_each_schedule_makes_agents_with_its_own_instructions_and_tools(client, auth):
    configs = [{"task": "t", "tools": ["web_search"]}, {"task": "t", "tools": ["read_file"], "instructions": "Be brief."},
               {"task": "t", "tools": []}]
    schedules = [_create(client, auth, name=f"s{i}", action={"type": "agent-run", "config": c})
                 for i, c in enumerate(configs)]
    advance(client, 2 * HOUR)
    for schedule, config in zip(schedules, configs):
        for entry in _history(client, auth, schedule["id"])["data"]:
            agent = client.get(f"/v1/agents/{entry['agentId']}", headers=auth).json()
            assert (agent["tools"], agent["instructions"]) == (config["tools"], config.get("instructions"))


# ---- agents by name ----

def test_an_agent_name_no_definition_has_is_accepted_and_runs_a_default_agent_the_history_says_so(client, auth):
    response = client.post("/v1/schedules", headers={**auth, **SDK}, json={
        "name": "Daily report", "agent": "daily_reporter", "userId": "user_123", "cron": "0 9 * * *",
        "input": {"report": "sales"}})
    assert response.status_code == 201, response.text
    schedule = response.json()
    assert (schedule["agent"], schedule["action"]["config"]["agent"]) == ("daily_reporter", "daily_reporter")
    fired = advance(client, 10 * HOUR)["fired"]
    assert [(f["agent"], f["agentConfig"]) for f in fired] == [("daily_reporter", "default")]
    (entry,) = _history(client, auth, schedule["id"], SDK)
    assert (entry["agent"], entry["agentConfig"]) == ("daily_reporter", "default")
    assert entry["note"] == ("No agent definition is named 'daily_reporter': a default agent configuration ran "
                             "under that name.")
    agent = client.get(f"/v1/agents/{entry['agentId']}", headers=auth).json()
    assert agent["definitionId"] is None and "'daily_reporter' agent" in agent["instructions"]
    assert agent["userId"] == "user_123"


def test_a_definition_name_runs_the_newest_definition_of_that_name_when_it_fires(client, auth):
    schedule = _create(client, auth, action=None, agent="Reporter", userId="u1")
    advance(client, HOUR)  # no definition yet: a default agent
    definition = _definition(client, auth)  # named "Reporter"
    advance(client, HOUR)
    newest, oldest = _history(client, auth, schedule["id"])["data"]
    assert (oldest["agentConfig"], newest["agentConfig"]) == ("default", "definition")
    assert "note" in oldest and "note" not in newest
    agent = client.get(f"/v1/agents/{newest['agentId']}", headers=auth).json()
    assert (agent["definitionId"], agent["instructions"], agent["tools"]) == (
        definition["id"], "Write reports.", ["web_search"])


def test_patching_the_agent_to_a_name_replaces_the_definition(client, auth):
    definition = _definition(client, auth)
    schedule = _create(client, auth, action=None, agent=definition["id"], userId="u1")
    assert schedule["action"]["config"]["definitionId"] == definition["id"]
    response = client.patch(f"/v1/schedules/{schedule['id']}", json={"agent": "triager"}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["action"]["config"] == {"agent": "triager", "userId": "u1"}
    assert response.json()["agent"] == "triager"
