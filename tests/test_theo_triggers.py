"""Skill triggers over HTTP: keyword skills join only the completions that mention them,
schedule triggers run on the virtual clock, event triggers on published events, under the
guard rails (daily cap, per-run caps, credit checks, auto-pause after injected failures),
with the manifest's modelPreference and install hooks honoured; a trigger the review cannot
accept is 422."""

from __future__ import annotations

import pytest
from conftest import advance
from theo_support import bearer, complete, theo_error, theo_key

BASE = {"version": "1.0.0", "description": "A skill.", "category": "automation", "author": {"name": "Ada"},
        "systemPromptExtension": "Be helpful."}


def _approved(client, key, slug, **manifest) -> dict:  # noqa: ANN001
    """Submit, approve if it waits for review, and install: the skill."""
    body = client.post("/api/v1/skills/submit", headers=bearer(key), json={"manifest": {
        **BASE, "name": slug.title(), "slug": slug, **manifest}})
    assert body.status_code == 201, body.text
    submission = body.json()["submission"]
    if submission["status"] == "pending_review":
        decided = client.post(f"/_emu/theo/submissions/{submission['id']}/decision",
                              json={"key": key, "decision": "approve"})
        submission = decided.json()["submission"]
    installed = client.post("/api/v1/skills", headers=bearer(key), json={"skillId": submission["skillId"]})
    assert installed.status_code == 201, installed.text
    return client.get(f"/api/v1/skills/{submission['skillId']}", headers=bearer(key)).json()["skill"]


def _runs(client, key) -> dict:  # noqa: ANN001
    answer = client.get("/_emu/theo/skill-runs", params={"key": key})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _schedule(cron: str = "0 * * * *", **config) -> dict:
    return {"permissions": ["autonomous:run"], "trigger": {"type": "schedule", "config": {"cron": cron, **config}}}


def test_a_keyword_skill_joins_only_the_completions_that_mention_it(client):
    key = theo_key()
    skill = _approved(client, key, "refund-helper", trigger={"type": "keyword", "config": {"keywords": ["refund"]}})
    always = _approved(client, key, "always-on")
    assert [s["slug"] for s in complete(client, key, "Where is my REFUND?")["skills_active"]] == [
        "refund-helper", "always-on"]
    assert [s["slug"] for s in complete(client, key, "Where are refunds policies?")["skills_active"]] == ["always-on"]
    assert complete(client, key, "hello", skills=["refund-helper"])["skills_active"][0]["id"] == skill["id"]
    assert always["status"] == "active"


def test_model_preference_runs_the_completions_a_skill_joins_unless_the_request_chooses(client):
    key = theo_key()
    _approved(client, key, "deep-thinker", modelPreference="theo-1-reason")
    body = complete(client, key, "hi")
    assert body["model"]["id"] == "theo-1-reason" and body["resolved_mode"] == "think"
    assert complete(client, key, "hi", mode="fast")["model"]["id"] == "theo-1-flash"
    assert complete(client, key, "hi", model_overrides={"fast": "theo-1-code"})["model"]["id"] != "theo-1-reason"


def test_a_schedule_trigger_runs_on_the_virtual_clock_with_its_preferred_model(client):
    key = theo_key()
    _approved(client, key, "hourly-digest", modelPreference="theo-1-reason",
              tools=[{"name": "fetch_news", "description": "Fetch news"}], **_schedule())
    state = _runs(client, key)
    assert state["data"] == [] and state["installs"][0]["nextRunAt"] == "2025-05-01T01:00:00.000Z"
    fired = advance(client, 2 * 3600)
    assert fired["firedBySource"].get("theo_skill_run") == 2
    runs = _runs(client, key)["data"]
    assert [(r["trigger"], r["status"], r["model"]) for r in runs] == [("schedule", "completed", "theo-1-reason")] * 2
    assert [s["name"] for s in runs[0]["steps"]] == ["model", "tool:fetch_news"] and runs[0]["costCents"] > 0
    assert runs[0]["createdAt"] == "2025-05-01T02:00:00.000Z" and runs[1]["createdAt"] == "2025-05-01T01:00:00.000Z"
    ledger = client.get("/api/v1/usage?from=2025-05-01", headers=bearer(key)).json()
    assert ledger["totals"]["requests"] == 4  # two runs of two steps, each booked
    client.request("DELETE", "/api/v1/skills", headers=bearer(key), json={"skillId": runs[0]["skillId"]})
    assert "theo_skill_run" not in advance(client, 3 * 3600)["firedBySource"]


def test_an_event_trigger_runs_for_a_matching_published_event(client):
    key = theo_key()
    _approved(client, key, "claim-triage", permissions=["autonomous:run"],
              trigger={"type": "event", "config": {"eventType": "claim.*"}})
    published = client.post("/api/v1/events", headers=bearer(key), json={
        "orgId": "org_1", "eventType": "claim.created", "payload": {"claimId": "C-1"}}).json()
    assert published["matchedSkills"] == 1
    other = client.post("/api/v1/events", headers=bearer(key), json={"orgId": "org_1", "eventType": "order.created"})
    assert other.json()["matchedSkills"] == 0
    (run,) = _runs(client, key)["data"]
    assert run["trigger"] == "event" and run["eventId"] == published["id"] and run["status"] == "completed"
    assert _runs(client, theo_key())["data"] == []  # another tenant sees none


def test_per_run_caps_stop_a_run_and_a_billed_tenant_without_credits_is_skipped(client):
    key = theo_key()
    tools = [{"name": f"tool_{n}", "description": "A tool"} for n in range(4)]
    _approved(client, key, "capped", tools=tools, **_schedule(maxSteps=2))
    advance(client, 3600)
    (run,) = _runs(client, key)["data"]
    assert run["status"] == "stopped" and run["error"].startswith("maxSteps") and len(run["steps"]) == 2
    client.put("/_emu/theo/account", json={"key": key, "credits": 0})
    advance(client, 3600)
    skipped = _runs(client, key)["data"][0]
    assert skipped["status"] == "skipped" and skipped["error"].startswith("insufficient_credits")
    assert skipped["steps"] == [] and skipped["costCents"] == 0


def test_a_spend_cap_stops_a_run_before_the_step_that_would_pass_it(client):
    key = theo_key()
    _approved(client, key, "thrifty", tools=[{"name": "lookup", "description": "Look up"}],
              **_schedule(maxSpendCents=0.0001))
    advance(client, 3600)
    (run,) = _runs(client, key)["data"]
    assert run["status"] == "stopped" and run["error"].startswith("maxSpendCents") and run["steps"] == []


def test_the_daily_cap_skips_runs_past_it_until_the_next_utc_day(client):
    key = theo_key()
    _approved(client, key, "chatty", **_schedule("*/10 * * * *"))
    advance(client, 24 * 3600 - 60)  # 143 occurrences on the first day (00:10 .. 23:50)
    runs = _runs(client, key)
    statuses = [r["status"] for r in client.get("/_emu/theo/skill-runs", params={"key": key, "limit": 1000}).json()[
        "data"]]
    assert statuses.count("completed") == 50 and statuses.count("skipped") == 93
    assert runs["data"][0]["error"].startswith("daily_cap")
    advance(client, 120)  # midnight: a new day
    assert _runs(client, key)["data"][0]["status"] == "completed"


def test_injected_failures_pause_a_skill_until_it_is_installed_again(client):
    key = theo_key()
    skill = _approved(client, key, "flaky", **_schedule())
    rule = client.post("/_emu/faults", json={"match": {"method": "RUN", "path": "/api/v1/skills/flaky/run"},
                                             "fault": "provider_error", "times": 4})
    assert rule.status_code == 201, rule.text
    advance(client, 5 * 3600)
    state = _runs(client, key)
    assert [r["status"] for r in state["data"]] == ["failed"] * 3  # paused after the third
    assert state["installs"][0]["pausedAt"] == "2025-05-01T03:00:00.000Z"
    assert state["installs"][0]["nextRunAt"] is None and state["installs"][0]["consecutiveFailures"] == 3
    assert "provider_error" in state["data"][0]["error"]
    client.post("/api/v1/skills", headers=bearer(key), json={"skillId": skill["id"]})  # install again: resumed
    advance(client, 2 * 3600)
    assert [r["status"] for r in _runs(client, key)["data"][:2]] == ["completed", "failed"]  # the 4th fault, then ok


def test_install_hooks_run_as_the_skill_is_installed_and_uninstalled(client):
    key = theo_key()
    skill = _approved(client, key, "hooked", hooks={"onInstall": "Greet the new user.",
                                                   "onUninstall": "Say goodbye."})
    client.request("DELETE", "/api/v1/skills", headers=bearer(key), json={"skillId": skill["id"]})
    runs = _runs(client, key)["data"]
    assert [(r["trigger"], r["status"]) for r in runs] == [("uninstall", "completed"), ("install", "completed")]


@pytest.mark.parametrize("manifest, words", [
    ({"trigger": {"type": "schedule", "config": {"cron": "0 * * * *"}}}, "autonomous:run"),
    ({"permissions": ["autonomous:run"], "trigger": {"type": "schedule", "config": {"cron": "61 * * * *"}}}, "cron"),
    ({"permissions": ["autonomous:run"], "trigger": {"type": "event", "config": {}}}, "eventType"),
    ({"trigger": {"type": "keyword", "config": {"keywords": []}}}, "keywords"),
    ({"trigger": {"type": "sometimes"}}, "trigger.type"),
    ({"trigger": "schedule"}, "trigger.type"),
    ({"modelPreference": "gpt-4"}, "modelPreference"),
    ({"modelPreference": ["theo-1-flash"]}, "modelPreference"),
    ({"permissions": ["autonomous:run"], "trigger": {"type": "schedule", "config": {"cron": 123}}}, "cron"),
    ({"trigger": {"type": {"a": 1}}}, "trigger.type"),
    ({"hooks": "onInstall"}, "hooks"),
    ({"hooks": {"onInstall": 5}}, "hooks"),
    ({"permissions": ["autonomous:run"], "trigger": {"type": "schedule", "config": {"cron": "0 * * * *",
                                                                                  "maxSteps": True}}}, "maxSteps"),
])
def test_a_trigger_the_review_cannot_accept_is_422(client, manifest, words):
    key = theo_key()
    error = theo_error(client.post("/api/v1/skills/submit", headers=bearer(key), json={"manifest": {
        **BASE, "name": "Bad", "slug": "bad-trigger", **manifest}}), 422, "review_failed")
    assert "trigger" in error["message"] and words in error["message"]
