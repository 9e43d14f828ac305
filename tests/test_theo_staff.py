"""What a person at Theo decides, through the admin controls: skill submissions approved,
rejected or suspended, rate-limit increases approved or denied, connectors linked and their
status changed; each decision's documented event reaches a webhook receiver, and bad
decisions are refused without changing anything."""

from __future__ import annotations

import pytest
from conftest import START, advance
from receiver import receiver
from theo_support import bearer, complete, theo_key

from theazo_emu.settings import Settings
from theazo_emu.theo.domain.webhooks import EVENT_TYPES

TOOLED = {"name": "Lead Scorer", "slug": "lead-scorer", "version": "1.0.0", "description": "Scores leads.",
          "category": "automation", "author": {"name": "Ada"}, "systemPromptExtension": "Score the lead.",
          "tools": [{"name": "score_lead", "description": "Score one lead"}], "permissions": ["execute:tools"]}


@pytest.fixture
def settings() -> Settings:
    return Settings(clock=START, seed=0, allow_private_webhooks=True)


def _hook(client, key, url) -> str:  # noqa: ANN001
    made = client.post("/api/v1/webhooks", headers=bearer(key), json={"url": url, "event_types": ["*"]})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _submit(client, key, **change) -> dict:  # noqa: ANN001
    answer = client.post("/api/v1/skills/submit", headers=bearer(key), json={"manifest": {**TOOLED, **change}})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _decide(client, key, submission_id, decision, **extra):  # noqa: ANN001, ANN202
    return client.post(f"/_emu/theo/submissions/{submission_id}/decision",
                       json={"key": key, "decision": decision, **extra})


def _events(client, key) -> list[dict]:  # noqa: ANN001
    return client.get("/_emu/theo/events", params={"key": key}).json()["data"]


def test_a_staff_tier_submission_waits_until_approved_then_is_installed_and_suspended(client):
    key = theo_key()
    with receiver() as hook:
        _hook(client, key, hook.url)
        body = _submit(client, key)
        assert body["submission"]["status"] == "pending_review" and body["review"]["tier"] == "staff"
        assert body["review"]["checks"] == {"schema": "pass", "injection_scan": "pass", "tool_names": "pass",
                                            "permissions": "pass", "trigger": "pass", "slug_unique": "pass",
                                            "version_integrity": "pass"}
        sub = body["submission"]["id"]
        approved = _decide(client, key, sub, "approve")
        assert approved.status_code == 200, approved.text
        submission = approved.json()["submission"]
        assert submission["status"] == "approved" and submission["skillId"]
        skill = client.get(f"/api/v1/skills/{submission['skillId']}", headers=bearer(key)).json()["skill"]
        assert skill["slug"] == "lead-scorer" and skill["toolDefinitions"][0]["name"] == "score_lead"
        client.post("/api/v1/skills", headers=bearer(key), json={"skillId": skill["id"]})
        assert [s["slug"] for s in complete(client, key, "hello")["skills_active"]] == ["lead-scorer"]
        suspended = _decide(client, key, sub, "suspend", reason="reported abuse").json()["submission"]
        assert suspended["status"] == "suspended" and suspended["reason"] == "reported abuse"
        assert "skills_active" not in complete(client, key, "hello")  # installed, but suspended
        assert client.get(f"/api/v1/skills/{skill['id']}", headers=bearer(key)).json()["skill"]["status"] == \
            "suspended"
        received = [r.json() for r in hook.wait_for(6)]
    kinds = [r["type"] for r in received]
    assert kinds.index("skill.submitted") < kinds.index("skill.approved") < kinds.index("skill.suspended")
    approved_event = next(r for r in received if r["type"] == "skill.approved")
    assert approved_event["data"] == {"submission_id": sub, "skill_id": skill["id"], "slug": "lead-scorer",
                                      "version": "1.0.0"}
    suspended_event = next(r for r in received if r["type"] == "skill.suspended")
    assert suspended_event["data"]["reason"] == "reported abuse"


def test_a_security_tier_submission_can_be_rejected_and_then_not_approved(client):
    key = theo_key()
    with receiver() as hook:
        _hook(client, key, hook.url)
        body = _submit(client, key, slug="calls-out", permissions=["external:http", "write:notes"], tools=[])
        assert body["review"]["tier"] == "security"
        sub = body["submission"]["id"]
        rejected = _decide(client, key, sub, "reject", reason="too broad").json()["submission"]
        assert rejected["status"] == "rejected" and rejected["skillId"] is None
        (event,) = [r.json() for r in hook.wait_for(2) if r.json()["type"] == "skill.rejected"]
    assert event["data"] == {"submission_id": sub, "slug": "calls-out", "version": "1.0.0", "reason": "too broad"}
    again = _decide(client, key, sub, "approve")
    assert again.status_code == 409 and "rejected" in again.json()["error"]["message"]
    listed = client.get("/api/v1/skills/submissions?status=rejected", headers=bearer(key)).json()["submissions"]
    assert [s["id"] for s in listed] == [sub]
    assert client.get("/api/v1/skills?filter=installed", headers=bearer(key)).json()["skills"] == []


@pytest.mark.parametrize("body", [{}, {"decision": "approve"}, {"key": "th_test_x", "decision": "approve"},
                                  {"key": "theo_sk_test_x", "decision": "publish"},
                                  {"key": "theo_sk_test_x", "decision": "approve", "extra": 1},
                                  {"key": "theo_sk_test_x", "decision": "reject", "reason": 5}])
def test_bad_decisions_are_422_in_the_admin_envelope(client, body):
    answer = client.post("/_emu/theo/submissions/ssub_x/decision", json=body)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "unprocessable_entity", answer.text


def test_another_tenants_submission_is_404_and_unchanged(client):
    key, other = theo_key(), theo_key()
    sub = _submit(client, key)["submission"]["id"]
    answer = _decide(client, other, sub, "approve")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    assert _decide(client, key, sub, "suspend").status_code == 409  # pending: nothing to suspend yet
    statuses = [s["status"] for s in client.get("/api/v1/skills/submissions", headers=bearer(key)).json()[
        "submissions"]]
    assert statuses == ["pending_review"]


def test_an_approved_increase_upgrades_the_key_and_sends_rate_limit_upgraded(client):
    key = theo_key()
    with receiver() as hook:
        _hook(client, key, hook.url)
        asked = client.post("/api/v1/rate-limits/request-increase", headers=bearer(key), json={
            "requested_tier": "pro", "use_case": "Production chatbot", "expected_volume": "200 RPM"})
        request_id = asked.json()["request"]["id"]
        assert client.get("/api/v1/rate-limits", headers=bearer(key)).json()["tier"] == "unlimited"
        decided = client.post(f"/_emu/theo/rate-limit-requests/{request_id}/decision",
                              json={"key": key, "decision": "approve"})
        assert decided.status_code == 200 and decided.json()["request"]["status"] == "approved"
        (event,) = [r.json() for r in hook.wait_for(1) if r.json()["type"] == "rate_limit.upgraded"]
    assert event["data"] == {"request_id": request_id, "tier": "pro",
                             "limits": {"requests_per_minute": 1000, "tokens_per_minute": 2_000_000}}
    limits = client.get("/api/v1/rate-limits", headers=bearer(key))
    assert limits.json()["tier"] == "pro" and limits.headers["x-ratelimit-limit-requests"] == "1000"
    assert limits.json()["pending_request"] is None
    again = client.post(f"/_emu/theo/rate-limit-requests/{request_id}/decision", json={"key": key, "decision": "deny"})
    assert again.status_code == 409


def test_a_denied_increase_sends_nothing_and_changes_no_limit(client):
    key = theo_key()
    request_id = client.post("/api/v1/rate-limits/request-increase", headers=bearer(key), json={
        "requested_tier": "starter", "use_case": "testing"}).json()["request"]["id"]
    decided = client.post(f"/_emu/theo/rate-limit-requests/{request_id}/decision", json={"key": key, "decision": "deny"})
    assert decided.json()["request"]["status"] == "denied"
    assert client.get("/api/v1/rate-limits", headers=bearer(key)).json()["tier"] == "unlimited"
    assert "rate_limit.upgraded" not in [e["type"] for e in _events(client, key)]


def test_connectors_are_created_and_their_status_changes_reach_the_receiver(client):
    key = theo_key()
    with receiver() as hook:
        _hook(client, key, hook.url)
        made = client.post("/_emu/theo/connectors", json={"key": key, "name": "Team Slack", "type": "slack"})
        assert made.status_code == 201, made.text
        connector = made.json()["connector"]
        assert connector["status"] == "pending" and connector["id"].startswith("conn_")
        changed = client.post(f"/_emu/theo/connectors/{connector['id']}/status",
                              json={"key": key, "status": "error", "reason": "token expired"})
        assert changed.json()["connector"]["status"] == "error"
        same = client.post(f"/_emu/theo/connectors/{connector['id']}/status", json={"key": key, "status": "error"})
        assert same.status_code == 200
        received = [r.json() for r in hook.wait_for(2)]
    assert [r["type"] for r in received] == ["connector.created", "connector.status_changed"]
    assert received[1]["data"] == {"connector_id": connector["id"], "name": "Team Slack", "type": "slack",
                                   "previous_status": "pending", "status": "error", "reason": "token expired"}
    listed = client.get("/_emu/theo/connectors", params={"key": key}).json()["data"]
    assert [(c["id"], c["status"]) for c in listed] == [(connector["id"], "error")]
    assert client.get("/_emu/theo/connectors", params={"key": theo_key()}).json()["data"] == []
    other = client.post(f"/_emu/theo/connectors/{connector['id']}/status", json={"key": theo_key(), "status": "connected"})
    assert other.status_code == 404
    bad = client.post("/_emu/theo/connectors", json={"key": key, "name": "x", "status": "broken"})
    assert bad.status_code == 422 and "status" in bad.text


def test_every_documented_event_type_reaches_a_receiver(client):
    """The webhooks page's catalogue, plus rate_limit.upgraded: each produced by what a user
    or a person at Theo does, each delivered to one `*` receiver."""
    key = theo_key()
    client.post("/_emu/fixtures", json={"jobs": [{"match": {"type": "video"}, "durationSeconds": 1,
                                                  "status": "failed", "error": "boom"},
                                                 {"match": {"type": "research"}, "durationSeconds": 1}]})
    client.put("/_emu/theo/account", json={"key": key, "credits": 600, "lowCredits": 599.99})
    with receiver() as hook:
        _hook(client, key, hook.url)
        complete(client, key, "hello")  # completion.created, credits.low
        client.post("/api/v1/video", headers=bearer(key), json={"prompt": "a cat"})  # job.failed
        client.post("/api/v1/research", headers=bearer(key), json={"prompt": "DNS"})  # job.completed
        advance(client, 5)
        for fail in (False, True):  # workflow.completed, workflow.failed
            made = client.post("/api/v1/workflows", headers=bearer(key), json={
                "name": "wf", "triggerType": "manual", "steps": [{"type": "notify", "name": "s", "config": {"fail": fail}}]})
            client.post(f"/api/v1/workflows/{made.json()['workflow']['id']}/run", headers=bearer(key), json={})
        staff = _submit(client, key)["submission"]["id"]  # skill.submitted
        skill_id = _decide(client, key, staff, "approve").json()["submission"]["skillId"]  # skill.approved
        client.post("/api/v1/skills", headers=bearer(key), json={"skillId": skill_id})  # skill.installed
        client.request("DELETE", "/api/v1/skills", headers=bearer(key), json={"skillId": skill_id})  # .uninstalled
        _decide(client, key, staff, "suspend")  # skill.suspended
        _decide(client, key, _submit(client, key, slug="other")["submission"]["id"], "reject")  # skill.rejected
        connector = client.post("/_emu/theo/connectors", json={"key": key, "name": "CRM"}).json()["connector"]
        client.post(f"/_emu/theo/connectors/{connector['id']}/status", json={"key": key, "status": "connected"})
        made_key = client.post("/api/v1/keys", headers=bearer(key), json={"name": "k"}).json()  # key.created
        client.delete(f"/api/v1/keys/{made_key['id']}", headers=bearer(key))  # key.revoked
        asked = client.post("/api/v1/rate-limits/request-increase", headers=bearer(key),
                            json={"requested_tier": "pro", "use_case": "prod"}).json()["request"]
        client.post(f"/_emu/theo/rate-limit-requests/{asked['id']}/decision", json={"key": key, "decision": "approve"})
        kinds = [r.json()["type"] for r in hook.wait_for(len(EVENT_TYPES) + 1)]  # two submissions
    assert sorted(kinds) == sorted([*EVENT_TYPES, "skill.submitted"])
