"""Theo hooks, events and workflows over HTTP: hooks by preset or pattern (exact, segment
glob, prefix, `*`) with cooldowns and executions, POST /events reporting what it reached,
and workflows with manual, event and cron triggers fired on the virtual clock."""

from __future__ import annotations

import pytest
from conftest import advance
from theo_support import bearer, held, theo_error, theo_key

from theazo_emu.theo.domain.hooks import matches


def hook(client, key, **body):  # noqa: ANN001, ANN201
    response = client.post("/api/v1/hooks", headers=bearer(key), json={"skill_slug": "notify", **body})
    assert response.status_code == 201, response.text
    return response.json()


def publish(client, key, event_type, payload=None):  # noqa: ANN001, ANN201
    response = client.post("/api/v1/events", headers=bearer(key),
                           json={"orgId": "org_acme", "eventType": event_type, "payload": payload or {}})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("pattern,event,hit", [
    ("order.created", "order.created", True), ("order.created", "order.created.late", False),
    ("order.*.completed", "order.42.completed", True), ("order.*.completed", "order.completed", False),
    ("order.*.completed", "order.4.2.completed", False), ("share", "share.accepted", True),
    ("share", "shared.accepted", False), ("share", "share", True), ("*", "anything.at.all", True),
    ("task.overdue", "task.overdue", True)])
def test_event_patterns(pattern, event, hit):
    assert matches(pattern, event) is hit


def test_hooks_from_presets_and_patterns_are_listed_with_the_five_presets(client):
    key = theo_key()
    preset = hook(client, key, hook_preset_id="share.accepted.welcome", cooldown_minutes=5)
    assert preset["event_pattern"] == "share.accepted" and preset["hook_preset_id"] == "share.accepted.welcome"
    assert preset["enabled"] is True and preset["cooldown_minutes"] == 5 and preset["skillSlug"] == "notify"
    custom = hook(client, key, event_pattern="order.*.completed")
    listed = client.get("/api/v1/hooks", headers=bearer(key)).json()
    assert [h["id"] for h in listed["hooks"]] == [custom["id"], preset["id"]]
    assert [p["id"] for p in listed["presets"]] == [
        "share.accepted.welcome", "task.overdue.summary", "project.created.suggestions",
        "team.member_joined.onboarding", "document.analyzed.followup"]
    assert all(set(p) == {"id", "event_pattern", "default_skill", "description"} for p in listed["presets"])


@pytest.mark.parametrize("body", [{"skill_slug": "x"}, {"skill_slug": "x", "event_pattern": "a", "hook_preset_id":
                                                        "task.overdue.summary"},
                                  {"skill_slug": "x", "hook_preset_id": "nope"}, {"event_pattern": "a"},
                                  {"skill_slug": "x", "event_pattern": "a..b"},
                                  {"skill_slug": "x", "event_pattern": "a", "cooldown_minutes": 0},
                                  {"skill_slug": "x", "event_pattern": "a", "cooldown_minutes": 1441},
                                  {"skill_slug": "Not A Slug", "event_pattern": "a"}])
def test_bad_hooks_are_400(client, body):
    key = theo_key()
    theo_error(client.post("/api/v1/hooks", headers=bearer(key), json=body), 400, "validation_error")
    assert client.get("/api/v1/hooks", headers=bearer(key)).json()["hooks"] == []


def test_events_run_matching_hooks_within_their_cooldown(client):
    key = theo_key()
    cooled = hook(client, key, event_pattern="task", cooldown_minutes=10)
    every = hook(client, key, event_pattern="*")
    hook(client, key, event_pattern="project.created")
    first = publish(client, key, "task.overdue", {"task": 7})
    assert first["accepted"] is True and first["matchedHooks"] == 2 and first["matchedWebhooks"] == 0
    assert first["id"].startswith("evt_") and first["type"] == "task.overdue"
    assert first["data"]["payload"] == {"task": 7} and first["data"]["orgId"] == "org_acme"
    assert publish(client, key, "task.done")["matchedHooks"] == 1  # the cooled one is skipped
    advance(client, 600)
    assert publish(client, key, "task.done")["matchedHooks"] == 2
    executions = client.get(f"/api/v1/hooks/{cooled['id']}/executions", headers=bearer(key)).json()["executions"]
    assert [e["status"] for e in executions] == ["completed", "skipped", "completed"]
    assert executions[-1]["eventId"] == first["id"] and executions[1]["error"].startswith("cooldown")
    detail = client.get(f"/api/v1/hooks/{every['id']}", headers=bearer(key)).json()
    assert detail["id"] == every["id"] and len(detail["executions"]) == 3 and detail["last_fired_at"]


def test_patch_and_delete_hooks(client):
    key = theo_key()
    made = hook(client, key, event_pattern="order.created")
    response = client.patch(f"/api/v1/hooks/{made['id']}", headers=bearer(key),
                            json={"enabled": False, "cooldown_minutes": 30, "config": {"channel": "ops"}})
    assert response.status_code == 200 and response.json()["enabled"] is False
    assert publish(client, key, "order.created")["matchedHooks"] == 0
    theo_error(client.patch(f"/api/v1/hooks/{made['id']}", headers=bearer(key), json={"enabled": 1}), 400,
               "validation_error")
    assert client.delete(f"/api/v1/hooks/{made['id']}", headers=bearer(key)).json()["deleted"] is True
    theo_error(client.get(f"/api/v1/hooks/{made['id']}/executions", headers=bearer(key)), 404, "not_found")


def test_another_tenants_hook_is_404(client):
    owner = theo_key()
    made = hook(client, owner, event_pattern="a")
    other = bearer(theo_key())
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/executions")):
        theo_error(client.request(method, f"/api/v1/hooks/{made['id']}{path}", headers=other, json={}), 404,
                   "not_found")
    assert publish(client, theo_key(), "a")["matchedHooks"] == 0


@pytest.mark.parametrize("body", [{}, {"orgId": "o"}, {"eventType": "a.b"}, {"orgId": "o", "eventType": "a b"},
                                  {"orgId": "", "eventType": "a"}, {"orgId": "o", "eventType": 5}])
def test_bad_events_are_400_and_record_nothing(client, body):
    key = theo_key()
    before = held(client, key)
    theo_error(client.post("/api/v1/events", headers=bearer(key), json=body), 400, "validation_error")
    assert held(client, key) == before


# ---- workflows ----

def workflow(client, key, **body):  # noqa: ANN001, ANN201
    response = client.post("/api/v1/workflows", headers=bearer(key), json={
        "name": "digest", "triggerType": "manual", "steps": [{"type": "prompt", "name": "draft", "config": {}}],
        **body})
    assert response.status_code == 201, response.text
    return response.json()["workflow"]


def test_a_manual_workflow_runs_its_steps_and_publishes_workflow_completed(client):
    key = theo_key()
    made = workflow(client, key, steps=[{"type": "prompt", "name": "draft", "config": {"prompt": "x"}},
                                        {"type": "notify", "name": "send", "config": {}}])
    assert made["id"].startswith("wf_") and made["triggerType"] == "manual" and made["enabled"] is True
    response = client.post(f"/api/v1/workflows/{made['id']}/run", headers=bearer(key),
                           json={"triggerData": {"user": "u1"}})
    run = response.json()["run"]
    assert run["status"] == "completed" and run["workflowId"] == made["id"] and run["stepsCompleted"] == 2
    assert run["triggerData"] == {"user": "u1"} and [s["status"] for s in run["steps"]] == ["completed"] * 2
    (event,) = client.get("/_emu/theo/events", params={"key": key, "type": "workflow.completed"}).json()["data"]
    assert event["data"]["run_id"] == run["id"]
    assert [w["id"] for w in client.get("/api/v1/workflows", headers=bearer(key)).json()["workflows"]] == [made["id"]]


def test_a_failing_step_fails_the_run_unless_on_failure_names_a_step(client):
    key = theo_key()
    failing = workflow(client, key, steps=[{"type": "http", "name": "call", "config": {"fail": True}},
                                           {"type": "notify", "name": "never", "config": {}}])
    run = client.post(f"/api/v1/workflows/{failing['id']}/run", headers=bearer(key), json={}).json()["run"]
    assert run["status"] == "failed" and run["stepsCompleted"] == 0 and "call" in run["error"]
    recovered = workflow(client, key, steps=[
        {"type": "http", "name": "call", "config": {"fail": True}, "onFailure": "fallback"},
        {"type": "notify", "name": "skipped", "config": {}, "onSuccess": "end"},
        {"type": "notify", "name": "fallback", "config": {}}, {"type": "log", "name": "end", "config": {}}])
    run = client.post(f"/api/v1/workflows/{recovered['id']}/run", headers=bearer(key), json={}).json()["run"]
    assert run["status"] == "completed" and [s["name"] for s in run["steps"]] == ["call", "fallback", "end"]
    assert len(client.get("/_emu/theo/events", params={"key": key, "type": "workflow.failed"}).json()["data"]) == 1


def test_a_cron_workflow_fires_on_the_virtual_clock(client):
    key = theo_key()
    made = workflow(client, key, triggerType="schedule", triggerConfig={"cron": "*/15 * * * *"})
    assert made["nextRunAt"] == "2025-05-01T00:15:00.000Z"
    advance(client, 3600)
    runs = client.get("/_emu/theo/events", params={"key": key, "type": "workflow.completed"}).json()["data"]
    assert [e["created"] for e in runs] == [f"2025-05-01T00:{m}:00.000Z" for m in ("15", "30", "45")] + [
        "2025-05-01T01:00:00.000Z"]
    assert client.get("/api/v1/workflows", headers=bearer(key)).json()["workflows"][0]["nextRunAt"] == \
        "2025-05-01T01:15:00.000Z"


def test_an_event_workflow_starts_when_its_event_is_published(client):
    key = theo_key()
    workflow(client, key, triggerType="event", triggerConfig={"eventType": "lead.created"})
    assert publish(client, key, "lead.created", {"name": "Ada"})["matchedWorkflows"] == 1
    assert publish(client, key, "lead.updated")["matchedWorkflows"] == 0
    (event,) = client.get("/_emu/theo/events", params={"key": key, "type": "workflow.completed"}).json()["data"]
    assert event["data"]["status"] == "completed"


@pytest.mark.parametrize("body,code", [
    ({"name": None}, "missing_fields"), ({"triggerType": None}, "missing_fields"), ({"steps": []}, "missing_fields"),
    ({"triggerType": "schedule"}, "missing_fields"), ({"triggerType": "event"}, "missing_fields"),
    ({"triggerType": "schedule", "triggerConfig": {"cron": "61 * * * *"}}, "validation_error"),
    ({"triggerType": "schedule", "triggerConfig": {"cron": "* * * * *", "timezone": "Mars/Base"}},
     "validation_error"),
    ({"triggerType": "hourly"}, "validation_error"), ({"steps": [{"type": "x"}]}, "validation_error"),
    ({"steps": [{"type": "a", "name": "a", "config": {}, "onSuccess": "ghost"}]}, "validation_error")])
def test_bad_workflows_are_400_and_store_nothing(client, body, code):
    key = theo_key()
    payload = {"name": "w", "triggerType": "manual", "steps": [{"type": "a", "name": "a", "config": {}}], **body}
    theo_error(client.post("/api/v1/workflows", headers=bearer(key), json=payload), 400, code)
    assert client.get("/api/v1/workflows", headers=bearer(key)).json()["workflows"] == []


def test_another_tenants_workflow_is_404(client):
    made = workflow(client, theo_key())
    theo_error(client.post(f"/api/v1/workflows/{made['id']}/run", headers=bearer(theo_key()), json={}), 404,
               "not_found")
