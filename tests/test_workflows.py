"""Workflows over HTTP: CRUD and versions, the step graph checks, real step execution on
the virtual clock (agent, transform, condition, parallel, map, delay), failure policies,
cancel and retry, idempotent runs, the run stream, estimates and schedules.

Every test runs on its own tenant with the clock frozen at 2025-05-01T00:00:00Z; a test
moves the clock with `advance()` and never sleeps. Approval steps are the simplest
deterministic way to make a step fail (deny) or wait; their API is tested in
test_approvals.py, webhooks in test_workflows_server.py.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import START, advance, assert_error, make_session
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.core.clock import iso, parse_iso
from theazo_emu.settings import Settings

WF_ID = "wf_01JT4J97000000012Y7ZM38QJT"  # well-formed, never created
AGENT = {"id": "research", "type": "agent", "agent": "researcher", "inputMap": {"topic": "$.input.topic"}}


def _create(client, auth, steps: list, **extra) -> dict:
    response = client.post("/v1/workflows", json={"name": "pipeline", "steps": steps, **extra}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def _start(client, auth, workflow_id: str, status: int = 201, **body) -> dict:
    response = client.post(f"/v1/workflows/{workflow_id}/runs", json={"userId": "user_1", **body}, headers=auth)
    assert response.status_code == status, response.text
    return response.json()


def _run(client, auth, run_id: str) -> dict:
    response = client.get(f"/v1/workflow-runs/{run_id}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def _statuses(run: dict) -> dict[str, str]:
    return {key: result["status"] for key, result in run["stepResults"].items()}


def _approvals(client, auth, run_id: str, status: str = "pending") -> list[dict]:
    return client.get("/v1/approvals", params={"runId": run_id, "status": status}, headers=auth).json()["data"]


def _deny(client, auth, run_id: str, reason: str = "no") -> None:
    (approval,) = _approvals(client, auth, run_id)
    assert client.post(f"/v1/approvals/{approval['id']}/deny", json={"reason": reason}, headers=auth).status_code == 200


def _approve(client, auth, run_id: str) -> None:
    (approval,) = _approvals(client, auth, run_id)
    assert client.post(f"/v1/approvals/{approval['id']}/approve", headers=auth).status_code == 200


def _events(client, auth, run_id: str) -> list[dict]:
    """The run's SSE frames as {id, event, data}; only call once the run has ended."""
    response = client.get(f"/v1/workflow-runs/{run_id}/stream", headers=auth)
    assert response.status_code == 200
    frames = []
    for block in response.text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":"))
        if fields:
            frames.append({"id": fields["id"], "event": fields["event"], "data": json.loads(fields["data"])})
    return frames


GATE = {"id": "gate", "type": "approval", "action": "deploy"}


# ---- CRUD and versions ----

def test_create_answers_the_workflow_at_version_1(client, auth):
    steps = [AGENT, {"id": "wait", "type": "delay", "duration": "5m", "dependsOn": ["research"]}]
    workflow = _create(client, auth, steps, description="d", timeout="1h", retries={"maxAttempts": 2, "delay": "5s"})
    assert workflow["id"].startswith("wf_")
    assert (workflow["name"], workflow["description"], workflow["version"]) == ("pipeline", "d", 1)
    assert workflow["steps"] == steps
    assert workflow["onFailure"] == "abort"
    assert workflow["retries"] == {"maxAttempts": 2, "delay": "5s", "backoff": "fixed"}
    assert workflow["timeout"] == "1h"
    assert workflow["createdAt"] == workflow["updatedAt"] == "2025-05-01T00:00:00.000Z"


def test_list_is_an_envelope_with_paging(client, auth):
    first, second = _create(client, auth, [GATE]), _create(client, auth, [GATE])
    page = client.get("/v1/workflows?limit=1", headers=auth).json()
    assert [w["id"] for w in page["data"]] == [second["id"]]
    assert page["hasMore"] is True and page["cursor"] == page["nextCursor"]
    rest = client.get("/v1/workflows", params={"cursor": page["cursor"]}, headers=auth).json()
    assert [w["id"] for w in rest["data"]] == [first["id"]] and rest["hasMore"] is False


def test_get_unknown_workflow_is_404(client, auth):
    body = assert_error(client.get(f"/v1/workflows/{WF_ID}", headers=auth), 404, "not_found")
    assert WF_ID in body["error"]["message"]


def test_patch_makes_a_new_version_and_a_run_in_flight_keeps_its_own(client, auth):
    workflow = _create(client, auth, [{"id": "wait", "type": "delay", "duration": "1m"}])
    run = _start(client, auth, workflow["id"])
    response = client.patch(f"/v1/workflows/{workflow['id']}", headers=auth,
                            json={"steps": [{"id": "pause", "type": "delay", "duration": "2m"}], "name": "v2"})
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["name"]) == (2, "v2")
    advance(client, 60)
    done = _run(client, auth, run["id"])
    assert (done["status"], done["workflowVersion"], list(done["stepResults"])) == ("completed", 1, ["wait"])
    assert _start(client, auth, workflow["id"])["workflowVersion"] == 2


def test_patch_is_checked_like_create_and_changes_nothing_when_refused(client, auth):
    workflow = _create(client, auth, [GATE])
    response = client.patch(f"/v1/workflows/{workflow['id']}", json={"steps": [{"id": "x", "type": "nope"}]},
                            headers=auth)
    assert_error(response, 422, "unprocessable_entity")
    assert client.get(f"/v1/workflows/{workflow['id']}", headers=auth).json()["version"] == 1


def test_delete_forgets_the_workflow_but_keeps_its_runs(client, auth):
    workflow = _create(client, auth, [GATE])
    run = _start(client, auth, workflow["id"])
    assert client.delete(f"/v1/workflows/{workflow['id']}", headers=auth).json()["ok"] is True
    assert_error(client.get(f"/v1/workflows/{workflow['id']}", headers=auth), 404, "not_found")
    assert _run(client, auth, run["id"])["workflowId"] == workflow["id"]


# ---- the step graph is checked at create ----

def test_a_dependency_cycle_is_422_naming_the_cycle_and_nothing_is_stored(client, auth):
    steps = [{"id": "a", "type": "delay", "duration": "1s", "dependsOn": ["c"]},
             {"id": "b", "type": "delay", "duration": "1s", "dependsOn": ["a"]},
             {"id": "c", "type": "delay", "duration": "1s", "dependsOn": ["b"]}]
    body = assert_error(client.post("/v1/workflows", json={"name": "w", "steps": steps}, headers=auth),
                        422, "unprocessable_entity")
    assert body["error"]["message"] == "Workflow steps form a dependency cycle: a -> b -> c -> a."
    assert body["error"]["details"]["fields"][0]["code"] == "workflow_circular_dependency"
    assert body["error"]["details"]["fields"][0]["cycle"] == ["a", "b", "c", "a"]
    assert client.get("/v1/workflows", headers=auth).json()["data"] == []


def test_a_condition_target_that_the_condition_depends_on_is_a_cycle(client, auth):
    steps = [{"id": "x", "type": "delay", "duration": "1s"},
             {"id": "c", "type": "condition", "if": "true", "then": "x", "dependsOn": ["x"]}]
    body = assert_error(client.post("/v1/workflows", json={"name": "w", "steps": steps}, headers=auth),
                        422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["code"] == "workflow_circular_dependency"


BAD_STEPS = [
    ([{"id": "a", "type": "teleport"}], "steps.0.type", "unknown step type 'teleport'"),
    ([{"id": "a", "type": "delay", "duration": "1s", "dependsOn": ["ghost"]}], "steps.0.dependsOn.0",
     "unknown step 'ghost'"),
    ([{"id": "a", "type": "delay", "duration": "1s", "dependsOn": ["a"]}], "steps.0.dependsOn.0", "itself"),
    ([GATE, GATE], "steps.1.id", "duplicate step id 'gate'"),
    ([{"id": "input", "type": "delay", "duration": "1s"}], "steps.0.id", "reserved"),
    ([{"id": "a", "type": "delay", "duration": "soon"}], "steps.0.duration", "duration"),
    ([{"id": "a", "type": "condition", "if": "$.input.n >", "then": ""}], "steps.0.if", "invalid expression"),
    ([{"id": "a", "type": "condition", "if": "true", "then": "elsewhere"}], "steps.0.then", "unknown step"),
    ([{"id": "a", "type": "transform", "expression": {"x": "$.input.n +* 2"}}], "steps.0.expression.x",
     "invalid expression"),
    ([{"id": "a", "type": "agent"}], "steps.0.agent", "required"),
    ([{"id": "a", "type": "agent", "agent": {"compute": "cobol"}}], "steps.0.agent.compute", "Input should be"),
    ([{"id": "a", "type": "parallel", "branches": []}], "steps.0.branches", "non-empty"),
    ([{"id": "a", "type": "parallel", "branches": [{"id": "b", "type": "bogus"}]}], "steps.0.branches.0.type",
     "unknown step type"),
    ([{"id": "m", "type": "map", "over": "$.input.xs", "step": {"id": "n", "type": "map", "over": "[]"}}],
     "steps.0.step.type", "not allowed here"),
    ([{"id": "m", "type": "map", "over": "$.input.xs", "step": AGENT, "concurrency": 0}], "steps.0.concurrency",
     "from 1 to 100"),
    ([{"id": "w", "type": "webhook", "url": "ftp://example.com"}], "steps.0.url", "http"),
    ([{"id": "w", "type": "webhook", "url": "http://x", "timeout": "10m"}], "steps.0.timeout", "at most 120s"),
    ([{"id": "g", "type": "approval", "action": "ship", "defaultAction": "maybe"}], "steps.0.defaultAction",
     "approve or deny"),
    ([{"id": "a", "type": "delay", "duration": "1s", "onStepFailure": "explode"}], "steps.0.onStepFailure",
     "must be retry"),
    ([{"id": "a", "type": "delay", "duration": "1s", "onStepFailure": {"action": "goto", "target": "zz"}}],
     "steps.0.onStepFailure.target", "unknown step"),
    (["not a step"], "steps.0", "must be an object"),
]


@pytest.mark.parametrize(("steps", "field", "message"), BAD_STEPS, ids=[b[1] + ":" + b[2] for b in BAD_STEPS])
def test_bad_steps_are_422_naming_the_field_and_nothing_is_stored(client, auth, steps, field, message):
    body = assert_error(client.post("/v1/workflows", json={"name": "w", "steps": steps}, headers=auth),
                        422, "unprocessable_entity")
    detail = next(d for d in body["error"]["details"]["fields"] if d["field"] == field)
    assert message in detail["message"]
    assert field in body["error"]["message"]
    assert client.get("/v1/workflows", headers=auth).json()["data"] == []


@pytest.mark.parametrize(("body", "field"), [({"name": "w", "steps": []}, "steps"), ({"steps": [GATE]}, "name"),
                                             ({"name": "w", "steps": [GATE], "onFailure": "panic"}, "onFailure"),
                                             ({"name": "w", "steps": [GATE], "retries": {"maxAttempts": 0}},
                                              "retries.maxAttempts"),
                                             ({"name": "w", "steps": [GATE], "timeout": "whenever"}, "timeout")])
def test_bad_workflow_fields_are_422(client, auth, body, field):
    error = assert_error(client.post("/v1/workflows", json=body, headers=auth), 422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}


def test_an_unknown_agent_definition_is_422_and_nothing_runs(client, auth):
    steps = [{"id": "a", "type": "agent", "agent": "adef_01JT4J97000000012Y7ZM38QJT"}]
    body = assert_error(client.post("/v1/workflows", json={"name": "w", "steps": steps}, headers=auth),
                        422, "unprocessable_entity")
    assert body["error"]["details"]["fields"] == [{"field": "steps.0.agent",
                                         "message": "unknown agent definition 'adef_01JT4J97000000012Y7ZM38QJT'", "type": "value_error"}]
    assert client.get("/v1/agents", headers=auth).json()["data"] == []


def test_an_archived_agent_definition_is_422(client, auth):
    definition = client.post("/v1/agent-definitions", headers=auth, json={"name": "old", "instructions": "x"}).json()
    assert client.delete(f"/v1/agent-definitions/{definition['id']}", headers=auth).status_code == 200
    steps = [{"id": "a", "type": "agent", "agent": definition["id"]}]
    body = assert_error(client.post("/v1/workflows", json={"name": "w", "steps": steps}, headers=auth),
                        422, "unprocessable_entity")
    assert body["error"]["details"]["fields"] == [{"field": "steps.0.agent",
                                         "message": f"agent definition '{definition['id']}' is archived", "type": "value_error"}]


def test_an_agent_definition_id_runs_that_definition(client, auth):
    definition = client.post("/v1/agent-definitions", headers=auth, json={
        "name": "writer", "instructions": "Write well.", "model": {"id": "gpt-4o"}}).json()
    workflow = _create(client, auth, [{"id": "w", "type": "agent", "agent": definition["id"]}])
    run = _start(client, auth, workflow["id"])
    agent = client.get(f"/v1/agents/{run['stepResults']['w']['agentId']}", headers=auth).json()
    assert (agent["definitionId"], agent["model"], agent["instructions"]) == (definition["id"], "gpt-4o", "Write well.")


# ---- execution ----

def test_an_agent_step_runs_on_the_clock_and_books_its_cost(client, auth):
    workflow = _create(client, auth, [AGENT])
    run = _start(client, auth, workflow["id"], input={"topic": "AI agents"})
    step = run["stepResults"]["research"]
    assert (run["status"], step["status"]) == ("running", "running")
    task = client.get(f"/v1/agents/{step['agentId']}/status", headers=auth).json()
    assert task["task"] == '{"topic": "AI agents"}'
    advance(client, 600)
    done = _run(client, auth, run["id"])
    step = done["stepResults"]["research"]
    assert (done["status"], step["status"]) == ("completed", "completed")
    assert step["cost"] == task["cost"]["amount"] > 0
    assert done["totalCost"] == {"amount": step["cost"], "currency": "usd"}
    assert done["output"] == step["output"] and step["output"].startswith("Done")
    assert client.get("/v1/usage/summary", headers=auth).json()["total"]["amount"] == step["cost"]
    assert client.get(f"/v1/agents/{step['agentId']}", headers=auth).json()["status"] == "terminated"


def test_a_step_completes_exactly_when_its_agent_run_ends(client, auth):
    run = _start(client, auth, _create(client, auth, [AGENT])["id"])
    agent_id = run["stepResults"]["research"]["agentId"]
    fired = advance(client, 600)["fired"]
    assert {"type": "workflow", "runId": run["id"], "event": "step:complete", "stepId": "research"} in fired
    ran_ms = client.get(f"/v1/agents/{agent_id}/status", headers=auth).json()["durationMs"]
    step = _run(client, auth, run["id"])["stepResults"]["research"]
    assert step["duration"] == ran_ms > 0
    assert parse_iso(step["completedAt"]) == parse_iso(START) + ran_ms


def test_transform_evaluates_an_object_of_expressions(client, auth):
    workflow = _create(client, auth, [{"id": "t", "type": "transform", "expression": {
        "count": "len($.input.items)", "big": "$.input.items[0] > 10", "name": "upper($.input.who) + '!'",
        "nested": {"first": "$.input.items[0]"}}}])
    run = _start(client, auth, workflow["id"], input={"items": [12, 3], "who": "ada"})
    assert run["status"] == "completed"
    assert run["output"] == {"count": 2, "big": True, "name": "ADA!", "nested": {"first": 12}}


def test_a_condition_runs_the_chosen_target_and_skips_the_other(client, auth):
    steps = [{"id": "check", "type": "condition", "if": "$.input.priority == 'high' and not $.input.muted",
              "then": "escalate", "else": "archive"},
             {"id": "escalate", "type": "transform", "expression": "'paged'"},
             {"id": "archive", "type": "transform", "expression": "'archived'", "dependsOn": ["escalate"]}]
    workflow = _create(client, auth, steps)
    high = _start(client, auth, workflow["id"], input={"priority": "high", "muted": False})
    low = _start(client, auth, workflow["id"], input={"priority": "low"})
    assert _statuses(high) == {"check": "completed", "escalate": "completed", "archive": "skipped"}
    assert high["stepResults"]["check"]["output"] == {"result": True, "branch": "then", "next": "escalate"}
    assert (high["status"], high["output"]) == ("completed", "paged")
    assert _statuses(low) == {"check": "completed", "escalate": "skipped", "archive": "completed"}
    assert low["output"] == "archived"


def test_a_condition_with_an_inline_agent_branch_waits_for_it(client, auth):
    workflow = _create(client, auth, [{"id": "c", "type": "condition", "if": "$.input.go",
                                       "then": {"agent": "helper"}, "else": {"delay": "1m"}}])
    run = _start(client, auth, workflow["id"], input={"go": True})
    assert run["stepResults"]["c"]["status"] == "running" and run["stepResults"]["c.then"]["status"] == "running"
    advance(client, 600)
    done = _run(client, auth, run["id"])
    assert done["stepResults"]["c"]["output"]["output"] == done["stepResults"]["c.then"]["output"]
    assert done["stepResults"]["c"]["cost"] == 0
    assert done["totalCost"]["amount"] == done["stepResults"]["c.then"]["cost"] > 0


def test_parallel_branches_run_together_and_join(client, auth):
    steps = [{"id": "fan", "type": "parallel", "branches": [
        {"id": "short", "type": "delay", "duration": "1m"}, {"id": "long", "type": "delay", "duration": "3m"},
        {"id": "now", "type": "transform", "expression": "1 + 1"}]},
        {"id": "after", "type": "transform", "expression": "$.fan.output.now * 10", "dependsOn": ["fan"]}]
    run = _start(client, auth, _create(client, auth, steps)["id"])
    assert _statuses(run) == {"fan": "running", "short": "running", "long": "running", "now": "completed",
                              "after": "pending"}
    advance(client, 60)
    assert _statuses(_run(client, auth, run["id"]))["fan"] == "running"
    advance(client, 120)
    done = _run(client, auth, run["id"])
    assert done["stepResults"]["fan"]["output"]["now"] == 2
    assert done["output"] == 20 and done["stepResults"]["fan"]["duration"] == 180_000


def test_map_runs_each_item_with_at_most_concurrency_in_flight(client, auth):
    steps = [{"id": "each", "type": "map", "over": "$.input.urls", "concurrency": 2,
              "step": {"id": "each_item", "type": "agent", "agent": "scraper", "inputMap": {"url": "$.item"}}}]
    run = _start(client, auth, _create(client, auth, steps)["id"], input={"urls": [f"u{i}" for i in range(5)]})
    peak = 0
    for _ in range(60):
        items = _run(client, auth, run["id"])["stepResults"]["each"]["items"]
        running = sum(i["status"] == "running" for i in items)
        peak = max(peak, running)
        assert running <= 2
        if all(i["status"] == "completed" for i in items):
            break
        advance(client, 1)
    done = _run(client, auth, run["id"])
    assert peak == 2 and done["status"] == "completed"
    assert [re.search(r'"url": "(u\d)"', output)[1] for output in done["output"]] == [f"u{i}" for i in range(5)]
    assert done["stepResults"]["each"]["cost"] == sum(i["cost"] for i in done["stepResults"]["each"]["items"])


def test_map_over_something_that_is_not_a_list_fails_the_step(client, auth):
    steps = [{"id": "each", "type": "map", "over": "$.input.n", "step": {"id": "x", "type": "transform",
                                                                     "expression": "$.item"}}]
    run = _start(client, auth, _create(client, auth, steps)["id"], input={"n": 3})
    assert run["status"] == "failed"
    assert run["error"] == {"code": "invalid_map_input", "message": "Step 'each': 'over' produced int, not a list.",
                            "stepId": "each"}


def test_a_delay_completes_exactly_at_its_instant(client, auth):
    run = _start(client, auth, _create(client, auth, [{"id": "nap", "type": "delay", "duration": "5m"}])["id"])
    advance(client, 299)
    assert _run(client, auth, run["id"])["status"] == "running"
    fired = advance(client, 1)["fired"]
    assert [f["event"] for f in fired] == ["step:complete", "workflow:complete"]
    done = _run(client, auth, run["id"])
    assert done["completedAt"] == iso(parse_iso(START) + 300_000)
    assert done["output"] == {"delayedMs": 300_000, "until": "2025-05-01T00:05:00.000Z"}


def test_state_writes_fill_shared_state_for_later_steps(client, auth):
    steps = [{"id": "t", "type": "transform", "expression": "'v1'", "stateWrites": ["version"]},
             {"id": "u", "type": "transform", "expression": "$.state.version + '-final'", "dependsOn": ["t"]}]
    run = _start(client, auth, _create(client, auth, steps)["id"])
    assert run["sharedState"] == {"version": "v1"} and run["output"] == "v1-final"


def test_an_expression_error_at_run_time_fails_the_step(client, auth):
    run = _start(client, auth, _create(client, auth, [{"id": "t", "type": "transform",
                                                       "expression": "$.input.name > 3"}])["id"],
                 input={"name": "ada"})
    assert run["status"] == "failed"
    assert run["stepResults"]["t"]["errorCode"] == "expression_error"
    assert run["stepResults"]["t"]["error"] == "Step 't': cannot compare string > number"


def test_an_agent_config_refused_when_its_step_starts_fails_the_step_with_the_create_agent_422(client, auth):
    # A step timeout up to 366 days is a valid step; an agent's timeout is at most 24 hours.
    run = _start(client, auth, _create(client, auth, [{**AGENT, "timeout": "30h"}])["id"], input={"topic": "x"})
    assert run["status"] == "failed"
    assert run["stepResults"]["research"]["errorCode"] == "unprocessable_entity"
    assert run["stepResults"]["research"]["error"] == "Request body failed validation: timeout."


def test_max_parallel_policy_limits_top_level_steps_in_flight(client, auth):
    steps = [{"id": f"d{i}", "type": "delay", "duration": "1m"} for i in range(3)]
    run = _start(client, auth, _create(client, auth, steps, policy={"maxParallel": 2})["id"])
    assert _statuses(run) == {"d0": "running", "d1": "running", "d2": "pending"}
    advance(client, 60)
    assert _statuses(_run(client, auth, run["id"]))["d2"] == "running"


def test_max_total_cost_policy_stops_agent_steps(client, auth):
    steps = [{"id": "a", "type": "agent", "agent": "x"}, {"id": "b", "type": "agent", "agent": "y",
                                                          "dependsOn": ["a"]}]
    run = _start(client, auth, _create(client, auth, steps, policy={"maxTotalCost": {"amount": 1}})["id"])
    advance(client, 600)
    done = _run(client, auth, run["id"])
    assert done["status"] == "failed" and done["stepResults"]["b"]["errorCode"] == "cost_limit"
    assert done["stepResults"]["b"].get("agentId") is None


def test_under_pace_instant_a_run_of_agents_finishes_as_it_starts():
    with TestClient(create_app(Settings(clock=START, pace="instant"))) as client:
        auth = {"Authorization": "Bearer th_test_instant"}
        steps = [AGENT, {"id": "each", "type": "map", "over": "[1, 2, 3]", "dependsOn": ["research"],
                         "step": {"id": "x", "type": "agent", "agent": "w"}}]
        run = _start(client, auth, _create(client, auth, steps)["id"])
    assert run["status"] == "completed" and run["totalCost"]["amount"] > 0
    assert [i["status"] for i in run["stepResults"]["each"]["items"]] == ["completed"] * 3


# ---- starting runs ----

def test_the_same_idempotency_key_returns_the_same_run(client, auth):
    workflow = _create(client, auth, [GATE])
    first = _start(client, auth, workflow["id"], idempotencyKey="order-42")
    again = _start(client, auth, workflow["id"], status=200, idempotencyKey="order-42", input={"other": 1})
    assert again == _run(client, auth, first["id"])
    assert again["idempotencyKey"] == "order-42"
    assert len(client.get("/v1/workflow-runs", headers=auth).json()["data"]) == 1
    assert _start(client, auth, workflow["id"], idempotencyKey="order-43")["id"] != first["id"]


def test_a_run_uses_the_given_session(client, auth):
    session = make_session(client, auth, userId="ada")
    run = _start(client, auth, _create(client, auth, [GATE])["id"], userId="ada", sessionId=session["id"])
    assert (run["sessionId"], run["userId"]) == (session["id"], "ada")


def test_a_run_without_a_session_gets_the_users_session(client, auth):
    run = _start(client, auth, _create(client, auth, [GATE])["id"], userId="grace")
    session = client.get(f"/v1/sessions/{run['sessionId']}", headers=auth).json()
    assert session["userId"] == "grace"


@pytest.mark.parametrize(("body", "status", "code", "text"), [
    ({"userId": None}, 422, "unprocessable_entity", "userId"),
    ({"sessionId": "ses_01JT4J97000000012Y7ZM38QJT"}, 404, "not_found", "ses_01JT4J97000000012Y7ZM38QJT"),
    ({"input": []}, 422, "unprocessable_entity", "input"),
    ({"idempotencyKey": ""}, 422, "unprocessable_entity", "idempotencyKey"),
])
def test_bad_run_requests_are_refused_and_start_nothing(client, auth, body, status, code, text):
    workflow = _create(client, auth, [GATE])
    response = client.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u", **body}, headers=auth)
    assert text in assert_error(response, status, code)["error"]["message"]
    assert client.get("/v1/workflow-runs", headers=auth).json()["data"] == []


def test_a_session_of_another_user_is_422(client, auth):
    session = make_session(client, auth, userId="ada")
    response = client.post(f"/v1/workflows/{_create(client, auth, [GATE])['id']}/runs", headers=auth,
                           json={"userId": "eve", "sessionId": session["id"]})
    assert "belongs to another user" in assert_error(response, 422, "unprocessable_entity")["error"]["message"]


def test_a_terminated_session_is_409(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/terminate", headers=auth)
    response = client.post(f"/v1/workflows/{_create(client, auth, [GATE])['id']}/runs", headers=auth,
                           json={"sessionId": session["id"]})
    assert_error(response, 409, "conflict")


def test_input_is_checked_against_the_input_schema(client, auth):
    workflow = _create(client, auth, [GATE], inputSchema={"type": "object", "required": ["url"],
                                                          "properties": {"url": {"type": "string"},
                                                                         "n": {"type": "integer"}}})
    response = client.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u", "input": {"n": True}},
                           headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    assert {d["field"] for d in body["error"]["details"]["fields"]} == {"input.url", "input.n"}
    assert _start(client, auth, workflow["id"], input={"url": "https://x", "n": 2})["status"] == "paused"


def test_run_list_filters_by_workflow_and_status(client, auth):
    gated, quick = _create(client, auth, [GATE]), _create(client, auth, [{"id": "t", "type": "transform",
                                                                          "expression": "1"}])
    waiting, done = _start(client, auth, gated["id"]), _start(client, auth, quick["id"])
    by_workflow = client.get("/v1/workflow-runs", params={"workflowId": quick["id"]}, headers=auth).json()
    assert [r["id"] for r in by_workflow["data"]] == [done["id"]]
    paused = client.get("/v1/workflow-runs", params={"status": "paused"}, headers=auth).json()
    assert [r["id"] for r in paused["data"]] == [waiting["id"]]
    assert_error(client.get("/v1/workflow-runs?status=sleeping", headers=auth), 422, "unprocessable_entity")


# ---- failures, cancel and retry ----

def test_a_failed_step_aborts_the_run_by_default(client, auth):
    steps = [GATE, {"id": "ship", "type": "transform", "expression": "1", "dependsOn": ["gate"]}]
    run = _start(client, auth, _create(client, auth, steps)["id"])
    _deny(client, auth, run["id"], "not today")
    failed = _run(client, auth, run["id"])
    assert (failed["status"], failed["canRetryFrom"]) == ("failed", "gate")
    assert failed["error"]["code"] == "approval_denied"
    assert failed["stepResults"]["gate"]["error"].endswith("was denied: not today")
    assert failed["stepResults"]["ship"]["status"] == "pending"


def test_retry_resumes_from_the_failed_step(client, auth):
    steps = [{"id": "prep", "type": "transform", "expression": "'ready'"}, {**GATE, "dependsOn": ["prep"]},
             {"id": "ship", "type": "transform", "expression": "$.prep.output + '/shipped'", "dependsOn": ["gate"]}]
    run = _start(client, auth, _create(client, auth, steps)["id"])
    _deny(client, auth, run["id"])
    retried = client.post(f"/v1/workflow-runs/{run['id']}/retry", headers=auth)
    assert retried.status_code == 200 and retried.json()["status"] == "paused"
    _approve(client, auth, run["id"])
    done = _run(client, auth, run["id"])
    assert (done["status"], done["output"]) == ("completed", "ready/shipped")
    assert done["stepResults"]["prep"]["attempts"] == 1 and done["stepResults"]["gate"]["attempts"] == 1
    assert [e["event"] for e in _events(client, auth, run["id"])].count("workflow:failed") == 1


def test_retry_of_a_run_that_has_not_failed_is_409(client, auth):
    run = _start(client, auth, _create(client, auth, [GATE])["id"])
    body = assert_error(client.post(f"/v1/workflow-runs/{run['id']}/retry", headers=auth), 409, "conflict")
    assert "only a failed run" in body["error"]["message"]


def test_skip_policy_lets_dependents_run_and_ends_partial(client, auth):
    steps = [{**GATE, "onStepFailure": "skip"}, {"id": "next", "type": "transform", "expression": "$.gate.output",
                                                  "dependsOn": ["gate"]}]
    run = _start(client, auth, _create(client, auth, steps)["id"])
    _deny(client, auth, run["id"])
    done = _run(client, auth, run["id"])
    assert (done["status"], _statuses(done)) == ("partial", {"gate": "skipped", "next": "completed"})
    assert done["stepResults"]["gate"]["errorCode"] == "approval_denied" and done["output"] is None


def test_pause_policy_pauses_the_run_until_retried(client, auth):
    steps = [{**GATE, "onStepFailure": {"action": "pause"}},
             {"id": "t", "type": "transform", "expression": "1", "dependsOn": ["gate"]}]
    run = _start(client, auth, _create(client, auth, steps)["id"])
    _deny(client, auth, run["id"])
    paused = _run(client, auth, run["id"])
    assert (paused["status"], paused["canRetryFrom"], paused["currentStepId"]) == ("paused", "gate", "gate")
    client.post(f"/v1/workflow-runs/{run['id']}/retry", headers=auth)
    _approve(client, auth, run["id"])
    assert _run(client, auth, run["id"])["status"] == "completed"


def test_retry_policy_tries_again_after_the_delay_with_backoff(client, auth):
    steps = [{**GATE, "onStepFailure": "retry"}]
    run = _start(client, auth, _create(client, auth, steps, retries={"maxAttempts": 3, "delay": "10s",
                                                                     "backoff": "exponential"})["id"])
    _deny(client, auth, run["id"])
    waiting = _run(client, auth, run["id"])["stepResults"]["gate"]
    assert (waiting["status"], waiting["phase"], waiting["attempts"]) == ("running", "retry_scheduled", 1)
    advance(client, 10)
    _deny(client, auth, run["id"])
    advance(client, 19)
    assert _approvals(client, auth, run["id"]) == []
    advance(client, 1)  # the second wait is 20s
    _deny(client, auth, run["id"])
    failed = _run(client, auth, run["id"])
    assert (failed["status"], failed["stepResults"]["gate"]["attempts"]) == ("failed", 3)


def test_goto_policy_jumps_to_its_target(client, auth):
    steps = [{**GATE, "onStepFailure": {"action": "goto", "target": "fallback"}},
             {"id": "main", "type": "transform", "expression": "'main'", "dependsOn": ["gate"]},
             {"id": "fallback", "type": "transform", "expression": "'fallback'", "dependsOn": ["main"]}]
    run = _start(client, auth, _create(client, auth, steps)["id"])
    _deny(client, auth, run["id"])
    done = _run(client, auth, run["id"])
    assert done["stepResults"]["fallback"]["output"] == "fallback"
    assert (done["status"], done["stepResults"]["gate"]["status"]) == ("partial", "failed")


def test_a_failed_parallel_branch_fails_the_parallel_and_cancels_its_siblings(client, auth):
    steps = [{"id": "fan", "type": "parallel", "branches": [GATE, {"id": "slow", "type": "delay", "duration": "1h"}]}]
    run = _start(client, auth, _create(client, auth, steps)["id"])
    _deny(client, auth, run["id"])
    failed = _run(client, auth, run["id"])
    assert _statuses(failed) == {"fan": "failed", "gate": "failed", "slow": "cancelled"}
    assert failed["error"]["message"].startswith("Step 'gate' failed: Approval")
    assert advance(client, 3600)["fired"] == []


def test_map_items_that_fail_are_skipped_with_on_item_failure_skip(client, auth):
    steps = [{"id": "each", "type": "map", "over": "$.input.envs", "onItemFailure": "skip",
              "step": {"id": "ask", "type": "approval", "action": "deploy", "params": {"env": "$.item"}}}]
    run = _start(client, auth, _create(client, auth, steps)["id"], input={"envs": ["eu", "us"]})
    first, second = sorted(_approvals(client, auth, run["id"]), key=lambda a: a["stepId"])
    assert (first["stepId"], first["params"], second["stepId"]) == ("each[0]", {"env": "eu"}, "each[1]")
    client.post(f"/v1/approvals/{first['id']}/deny", headers=auth)
    client.post(f"/v1/approvals/{second['id']}/approve", headers=auth)
    done = _run(client, auth, run["id"])
    assert done["status"] == "partial"
    assert [i["status"] for i in done["stepResults"]["each"]["items"]] == ["skipped", "completed"]
    assert done["output"][0] is None and done["output"][1]["params"] == {"env": "us"}


def test_the_workflow_timeout_fails_the_run_at_its_deadline(client, auth):
    run = _start(client, auth, _create(client, auth, [{"id": "nap", "type": "delay", "duration": "10m"}],
                                       timeout="5m")["id"])
    advance(client, 299)
    assert _run(client, auth, run["id"])["status"] == "running"
    advance(client, 1)
    failed = _run(client, auth, run["id"])
    assert (failed["status"], failed["error"]["code"]) == ("failed", "timeout")
    assert failed["stepResults"]["nap"]["status"] == "cancelled"
    assert failed["completedAt"] == "2025-05-01T00:05:00.000Z"


def test_cancel_stops_steps_in_flight_and_terminates_their_agents(client, auth):
    run = _start(client, auth, _create(client, auth, [AGENT, GATE])["id"])
    response = client.post(f"/v1/workflow-runs/{run['id']}/cancel", headers=auth)
    assert response.status_code == 200
    assert (response.json()["status"], _statuses(response.json())) == ("cancelled", {"research": "cancelled",
                                                                                     "gate": "cancelled"})
    agent = run["stepResults"]["research"]["agentId"]
    assert client.get(f"/v1/agents/{agent}", headers=auth).json()["status"] == "terminated"
    assert _approvals(client, auth, run["id"], "expired")[0]["resolvedBy"] == "system"
    assert advance(client, 600)["fired"] == []
    assert_error(client.post(f"/v1/workflow-runs/{run['id']}/cancel", headers=auth), 409, "conflict")


def test_unknown_run_is_404_for_every_run_route(client, auth):
    ident = "wfr_01JT4J97000000012Y7ZM38QJT"
    for method, path in (("GET", ""), ("POST", "/cancel"), ("POST", "/retry"), ("GET", "/stream")):
        body = assert_error(client.request(method, f"/v1/workflow-runs/{ident}{path}", headers=auth), 404, "not_found")
        assert ident in body["error"]["message"]


# ---- the stream ----

def test_the_stream_replays_every_event_in_both_shapes_and_ends(client, auth):
    steps = [{"id": "t", "type": "transform", "expression": "41 + 1"},
             {"id": "nap", "type": "delay", "duration": "1m", "dependsOn": ["t"]}]
    run = _start(client, auth, _create(client, auth, steps)["id"])
    advance(client, 60)
    frames = _events(client, auth, run["id"])
    assert [(f["event"], f["data"]["event"], f["data"].get("stepId")) for f in frames] == [
        ("workflow:start", "run.started", None), ("step:start", "step.started", "t"),
        ("step:complete", "step.completed", "t"), ("step:start", "step.started", "nap"),
        ("step:complete", "step.completed", "nap"), ("workflow:complete", "run.completed", None)]
    assert [f["id"] for f in frames] == [f"{run['id']}:{i}" for i in range(1, 7)]
    complete = frames[2]["data"]
    assert (complete["step"], complete["index"], complete["output"], complete["durationMs"], complete["cost"]) == (
        "t", 0, 42, 0, 0)
    assert frames[-1]["data"]["cost"] == frames[-1]["data"]["totalCost"] == {"amount": 0, "currency": "usd"}
    assert frames[-1]["data"]["output"] == {"delayedMs": 60000, "until": "2025-05-01T00:01:00.000Z"}


def test_the_stream_honours_last_event_id(client, auth):
    run = _start(client, auth, _create(client, auth, [{"id": "t", "type": "transform", "expression": "1"}])["id"])
    response = client.get(f"/v1/workflow-runs/{run['id']}/stream", headers={**auth, "Last-Event-ID": f"{run['id']}:2"})
    assert [line for line in response.text.split("\n") if line.startswith("id: ")] == [
        f"id: {run['id']}:3", f"id: {run['id']}:4"]


# ---- estimates and schedules ----

def test_estimate_answers_both_shapes_and_follows_the_input(client, auth):
    steps = [{"id": "check", "type": "condition", "if": "$.input.deep", "then": "dig", "else": "skim"},
             {"id": "dig", "type": "map", "over": "$.input.pages", "step": {"id": "p", "type": "agent", "agent": "r"}},
             {"id": "skim", "type": "agent", "agent": "r"}]
    workflow = _create(client, auth, steps)
    deep = client.post(f"/v1/workflows/{workflow['id']}/estimate", json={"input": {"deep": True, "pages": [1, 2, 3]}},
                       headers=auth).json()
    assert deep == {
        "steps": 5, "estimatedMinutes": 6, "estimatedCost": {"amount": 39, "currency": "usd"}, "confidence": "medium",
        "estimated": {"min": 18, "max": 60, "currency": "usd"}, "basedOn": 0,
        "breakdown": [{"stepId": "check", "type": "condition", "estimated": {"min": 0, "max": 0}},
                      {"stepId": "dig", "type": "map", "estimated": {"min": 18, "max": 60}}]}
    shallow = client.post(f"/v1/workflows/{workflow['id']}/estimate", json={"input": {"deep": False}},
                          headers=auth).json()
    assert [b["stepId"] for b in shallow["breakdown"]] == ["check", "skim"]
    assert client.post(f"/v1/workflows/{workflow['id']}/estimate", headers=auth).json()["confidence"] == "medium"


def test_estimate_learns_from_completed_runs(client, auth):
    workflow = _create(client, auth, [{"id": "a", "type": "agent", "agent": "r"}])
    run = _start(client, auth, workflow["id"])
    advance(client, 600)
    cost = _run(client, auth, run["id"])["stepResults"]["a"]["cost"]
    estimate = client.post(f"/v1/workflows/{workflow['id']}/estimate", json={}, headers=auth).json()
    assert (estimate["basedOn"], estimate["estimated"]["min"], estimate["estimated"]["max"]) == (1, cost, cost)


def test_schedule_runs_the_workflow_on_its_cron(client, auth):
    workflow = _create(client, auth, [{"id": "t", "type": "transform", "expression": "$.input.n"}])
    response = client.post(f"/v1/workflows/{workflow['id']}/schedule", headers=auth,
                           json={"cron": "0 * * * *", "userId": "ops", "input": {"n": 7}})
    assert response.status_code == 201, response.text
    schedule = response.json()
    assert schedule["id"].startswith("sched_") and schedule["cron"] == "0 * * * *"
    advance(client, 3600)
    runs = client.get("/v1/workflow-runs", params={"workflowId": workflow["id"]}, headers=auth).json()["data"]
    assert [(r["status"], r["output"], r["userId"]) for r in runs] == [("completed", 7, "ops")]


def test_schedule_of_an_unknown_workflow_is_404(client, auth):
    response = client.post(f"/v1/workflows/{WF_ID}/schedule", json={"cron": "* * * * *", "userId": "u"}, headers=auth)
    assert_error(response, 404, "not_found")


# ---- determinism ----

def _scenario() -> list[bytes]:
    app = create_app(Settings(clock=START, seed=7))
    key = {"Authorization": "Bearer th_test_same"}
    out = []
    with TestClient(app) as client:
        steps = [AGENT, {"id": "fan", "type": "map", "over": "$.input.xs", "concurrency": 2, "dependsOn": ["research"],
                         "step": {"id": "f", "type": "agent", "agent": "w", "inputMap": {"x": "$.item"}}}]
        workflow = client.post("/v1/workflows", json={"name": "d", "steps": steps}, headers=key).json()
        run = client.post(f"/v1/workflows/{workflow['id']}/runs", headers=key,
                          json={"userId": "u", "input": {"topic": "t", "xs": [1, 2, 3]}}).json()
        for _ in range(5):
            out.append(client.post("/_emu/clock/advance", json={"seconds": 3}).content)
        out.append(client.get(f"/v1/workflow-runs/{run['id']}", headers=key).content)
        advance(client, 600)
        out.append(client.get(f"/v1/workflow-runs/{run['id']}/stream", headers=key).content)
    return out


def test_the_same_scenario_gives_the_same_bytes():
    assert _scenario() == _scenario()
