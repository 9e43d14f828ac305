"""Teams over HTTP (sdk-compat §3 "POST /v1/sessions/:id/teams", "Team instance"): create,
run in each coordination mode with per-role contributions on the virtual clock, the run as
the SDK polls it (`totalCost` a decimal string of cents), failure, cancel, limits, refusals.
"""

from __future__ import annotations

import pytest
from conftest import START, advance, assert_error, make_session
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.settings import Settings

RUN_ID = "trun_01JT4J97000000012Y7ZM38QJT"
MEMBERS = [{"role": "researcher", "agent": "researcher", "instructions": "Find facts."},
           {"role": "critic", "agent": "analyst", "instructions": "Find gaps."},
           {"role": "writer", "agent": "writer", "instructions": "Write it up."}]


def _team(client, auth, session_id: str | None = None, **body) -> dict:
    session_id = session_id or make_session(client, auth)["id"]
    payload = {"name": "research-report", "agents": MEMBERS, "coordination": "sequential", **body}
    response = client.post(f"/v1/sessions/{session_id}/teams", json=payload, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def _run(client, auth, team_id: str, task: str = "Analyze the market") -> dict:
    response = client.post(f"/v1/teams/{team_id}/run", json={"task": task}, headers=auth)
    assert response.status_code == 202, response.text
    return response.json()


def _poll(client, auth, run_id: str) -> dict:
    response = client.get(f"/v1/team-runs/{run_id}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def _until_done(client, auth, run_id: str) -> list[dict]:
    seen = [_poll(client, auth, run_id)]
    for _ in range(200):
        if seen[-1]["status"] != "running":
            break
        advance(client, 1)
        seen.append(_poll(client, auth, run_id))
    return seen


def test_create_answers_the_team(client, auth):
    team = _team(client, auth, sharedContext=False, maxRounds=2)
    assert team["id"].startswith("team_") and team["name"] == "research-report"
    assert (team["agents"], team["coordination"], team["sharedContext"], team["maxRounds"]) == (
        MEMBERS, "sequential", False, 2)


def test_a_sequential_run_goes_member_by_member_and_each_sees_the_ones_before(client, auth):
    team = _team(client, auth)
    run = _run(client, auth, team["id"])
    assert run["runId"].startswith("trun_") and run["status"] == "running" and run["totalCost"] != "0"
    seen = _until_done(client, auth, run["runId"])
    assert max(sum(c["status"] == "running" for c in s["contributions"]) for s in seen) == 1
    done = seen[-1]
    assert done["status"] == "completed" and done["completedAt"] and done["startedAt"] == run["startedAt"]
    parts = done["contributions"]
    assert [(p["role"], p["phase"], p["stage"]) for p in parts] == [
        ("researcher", "contribute", 0), ("critic", "contribute", 1), ("writer", "contribute", 2)]
    assert list(done["agentOutputs"]) == ["researcher", "critic", "writer"]
    assert done["output"] == parts[-1]["output"] == done["agentOutputs"]["writer"]
    writer_task = client.get(f"/v1/agents/{parts[-1]['agentId']}/status", headers=auth).json()["task"]
    assert writer_task.startswith("As the writer: Analyze the market") and "[critic]" in writer_task
    assert "[researcher]" in writer_task
    total = sum(p["cost"]["amount"] for p in parts)
    assert done["totalCost"] == str(total) and done["cost"]["amount"] == total
    assert client.get("/v1/usage/summary", headers=auth).json()["total"]["amount"] == total
    agents = client.get("/v1/agents", headers=auth).json()["data"]
    assert {a["status"] for a in agents} == {"terminated"} and len(agents) == 3


def test_member_instructions_are_added_to_the_agents(client, auth):
    client.post("/v1/agent-definitions", json={"name": "analyst", "instructions": "You analyse."}, headers=auth)
    team = _team(client, auth)
    done = _until_done(client, auth, _run(client, auth, team["id"])["runId"])[-1]
    critic = client.get(f"/v1/agents/{done['contributions'][1]['agentId']}", headers=auth).json()
    assert critic["instructions"] == "You analyse.\n\nFind gaps." and critic["definitionId"].startswith("adef_")


def test_without_shared_context_a_member_does_not_see_the_others(client, auth):
    team = _team(client, auth, sharedContext=False)
    done = _until_done(client, auth, _run(client, auth, team["id"])["runId"])[-1]
    task = client.get(f"/v1/agents/{done['contributions'][-1]['agentId']}/status", headers=auth).json()["task"]
    assert task == "As the writer: Analyze the market"


def test_a_collaborative_run_has_every_member_at_once_per_round(client, auth):
    team = _team(client, auth, coordination="collaborative", maxRounds=2)
    seen = _until_done(client, auth, _run(client, auth, team["id"])["runId"])
    done = seen[-1]
    assert [(p["role"], p["round"]) for p in done["contributions"]] == [
        ("researcher", 1), ("critic", 1), ("writer", 1), ("researcher", 2), ("critic", 2), ("writer", 2)]
    assert max(sum(c["status"] == "running" for c in s["contributions"]) for s in seen) == 3
    assert done["output"] == done["contributions"][-1]["output"]
    second = client.get(f"/v1/agents/{done['contributions'][3]['agentId']}/status", headers=auth).json()["task"]
    assert "Round 2 of 2." in second and "[writer]" in second


def test_a_hierarchical_run_plans_delegates_and_compiles(client, auth):
    team = _team(client, auth, coordination="hierarchical")
    done = _until_done(client, auth, _run(client, auth, team["id"])["runId"])[-1]
    assert [(p["role"], p["phase"]) for p in done["contributions"]] == [
        ("researcher", "plan"), ("critic", "execute"), ("writer", "execute"), ("researcher", "compile")]
    assert done["output"] == done["contributions"][-1]["output"] == done["agentOutputs"]["researcher"]
    specialist = client.get(f"/v1/agents/{done['contributions'][1]['agentId']}/status", headers=auth).json()["task"]
    assert "Your lead delegated:" in specialist
    lead = client.get(f"/v1/agents/{done['contributions'][3]['agentId']}/status", headers=auth).json()["task"]
    assert "[critic]" in lead and "[writer]" in lead


def test_a_failing_contribution_fails_the_run(client, auth):
    client.post("/_emu/fixtures", json={"runs": [{"match": {"task": "As the critic"}, "error": "provider_error",
                                                  "duration": "1s"}]})
    team = _team(client, auth)
    done = _until_done(client, auth, _run(client, auth, team["id"])["runId"])[-1]
    assert done["status"] == "failed" and done["output"] is None
    assert done["error"]["code"] == "provider_error" and done["error"]["role"] == "critic"
    assert [p["status"] for p in done["contributions"]] == ["completed", "failed"]


def test_a_contribution_that_cannot_start_fails_the_run(client, auth):
    session = make_session(client, auth, limits={"maxAgents": 2})
    team = _team(client, auth, session["id"], coordination="collaborative")
    done = _poll(client, auth, _run(client, auth, team["id"])["runId"])
    assert done["status"] == "failed" and done["error"]["code"] == "session_limit_exceeded"
    assert [p["status"] for p in done["contributions"]] == ["cancelled", "cancelled", "failed"]
    assert {a["status"] for a in client.get("/v1/agents", headers=auth).json()["data"]} == {"terminated"}


def test_cancel_stops_the_running_runs(client, auth):
    team = _team(client, auth)
    run = _run(client, auth, team["id"])
    response = client.post(f"/v1/teams/{team['id']}/cancel", headers=auth)
    assert response.status_code == 200 and response.json() == {"id": team["id"], "cancelled": [run["runId"]]}
    done = _poll(client, auth, run["runId"])
    assert done["status"] == "cancelled" and done["completedAt"]
    assert [p["status"] for p in done["contributions"]] == ["cancelled"]
    advance(client, 120)
    assert _poll(client, auth, run["runId"])["status"] == "cancelled"
    assert client.post(f"/v1/teams/{team['id']}/cancel", headers=auth).json()["cancelled"] == []


def test_the_whole_run_ends_at_submission_under_instant_pace():
    app = create_app(Settings(clock=START, seed=0, pace="instant"))
    auth = {"Authorization": "Bearer th_test_team_instant"}
    with TestClient(app) as client:
        team = _team(client, auth, coordination="hierarchical", maxRounds=2)
        run = _run(client, auth, team["id"])
        assert run["status"] == "completed" and len(run["contributions"]) == 7


def test_a_paused_session_refuses_team_runs(client, auth):
    session = make_session(client, auth)
    team = _team(client, auth, session["id"])
    client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    assert_error(client.post(f"/v1/teams/{team['id']}/run", json={"task": "t"}, headers=auth), 409, "conflict")
    assert_error(client.post(f"/v1/sessions/{session['id']}/teams", json={
        "name": "n", "agents": MEMBERS, "coordination": "sequential"}, headers=auth), 409, "conflict")


@pytest.mark.parametrize(("body", "field"), [
    ({"agents": MEMBERS, "coordination": "sequential"}, "name"),
    ({"name": "n", "coordination": "sequential"}, "agents"),
    ({"name": "n", "agents": [], "coordination": "sequential"}, "agents"),
    ({"name": "n", "agents": MEMBERS}, "coordination"),
    ({"name": "n", "agents": MEMBERS, "coordination": "anarchic"}, "coordination"),
    ({"name": "n", "agents": [{"agent": "a"}], "coordination": "sequential"}, "agents.0.role"),
    ({"name": "n", "agents": [{"role": "r"}], "coordination": "sequential"}, "agents.0.agent"),
    ({"name": "n", "agents": MEMBERS[:1], "coordination": "hierarchical"}, "body"),
    ({"name": "n", "agents": MEMBERS + MEMBERS[:1], "coordination": "sequential"}, "body"),
    ({"name": "n", "agents": MEMBERS, "coordination": "sequential", "maxRounds": 0}, "maxRounds"),
    ({"name": "n", "agents": [{"role": "r", "agent": "adef_01JT4J97000000012Y7ZM38QJT"}],
      "coordination": "sequential"}, "agents.0.agent"),
])
def test_bad_team_bodies_are_422_and_store_nothing(client, auth, body, field):
    session = make_session(client, auth)
    error = assert_error(client.post(f"/v1/sessions/{session['id']}/teams", json=body, headers=auth), 422,
                         "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert client.get("/_emu/state/export", params={"key": auth["Authorization"][7:]}).json()["tables"]["teams"] == []


@pytest.mark.parametrize("body", [{}, {"task": ""}, {"task": ["a"]}])
def test_bad_run_bodies_are_422_and_start_nothing(client, auth, body):
    team = _team(client, auth)
    assert_error(client.post(f"/v1/teams/{team['id']}/run", json=body, headers=auth), 422, "unprocessable_entity")
    assert client.get("/v1/agents", headers=auth).json()["data"] == []


def test_unknown_and_other_tenants_teams_and_runs_are_404(client, auth):
    team = _team(client, auth)
    run = _run(client, auth, team["id"])
    other = {"Authorization": "Bearer th_test_team_other"}
    assert_error(client.post(f"/v1/teams/{team['id']}/run", json={"task": "t"}, headers=other), 404, "not_found")
    assert_error(client.post(f"/v1/teams/{team['id']}/cancel", headers=other), 404, "not_found")
    assert_error(client.get(f"/v1/team-runs/{run['runId']}", headers=other), 404, "not_found")
    assert_error(client.get(f"/v1/team-runs/{RUN_ID}", headers=auth), 404, "not_found")
    assert _poll(client, auth, run["runId"])["status"] == "running"
