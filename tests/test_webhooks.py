"""Webhooks over HTTP: endpoints (create, list, test, delete) and real signed deliveries of
run and session events to a receiver on loopback, retried with backoff on the virtual clock."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from conftest import advance, assert_error, make_agent, make_session
from receiver import dead_url, receiver

SDK = {"X-SDK-Version": "0.1.0"}
OTHER = {"Authorization": "Bearer th_test_another_tenant"}


def create(client, auth, url, events=("*",)) -> dict:
    response = client.post("/v1/webhooks", json={"url": url, "events": list(events)}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def verify(secret: str, request) -> None:
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["x-theazo-signature"], expected)


def webhook_journal(client, count: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        entries = client.get("/_emu/requests", params={"kind": "webhook"}).json()["data"]
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.01)


def test_create_answers_the_secret_and_normalises_event_names(client, auth):
    body = create(client, auth, "https://example.com/hook", ["agent.completed", "run.completed", "session.created"])
    assert body["id"].startswith("wh_") and body["secret"].startswith("whsec_") and len(body["secret"]) == 54
    assert body["events"] == ["run.completed", "session.created"]
    listed = client.get("/v1/webhooks", headers={**auth, **SDK}).json()  # a bare array, with the secret
    assert listed == [body]
    assert client.get("/v1/webhooks", headers=auth).json()["data"] == [body]


def test_actions_of_the_platforms_families_are_accepted_even_those_never_sent(client, auth):
    body = create(client, auth, "https://example.com/hook", ["approval.requested", "workflow.completed", "agent.failed"])
    assert body["events"] == ["approval.requested", "workflow.completed", "run.failed"]


def test_approval_events_are_delivered(client, auth):
    with receiver() as hook:
        create(client, auth, hook.url, ["approval.requested", "approval.resolved"])
        workflow = client.post("/v1/workflows", headers=auth, json={
            "name": "gate", "steps": [{"id": "ok", "type": "approval", "action": "deploy"}]}).json()
        run = client.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u1"}, headers=auth).json()
        (requested,) = hook.wait_for(1)
        approval_id = requested.json()["data"]["approvalId"]
        client.post(f"/v1/approvals/{approval_id}/approve", headers=auth)
        resolved = hook.wait_for(2)[1]
    assert requested.json()["data"]["workflowRunId"] == run["id"] and requested.json()["data"]["action"] == "deploy"
    assert resolved.json()["type"] == "approval.resolved" and resolved.json()["data"]["status"] == "approved"


def test_the_secret_is_sealed_at_rest(client, auth, emu):
    body = create(client, auth, "https://example.com/hook")
    assert body["secret"] not in str(emu.store.all("SELECT * FROM webhooks"))
    journal = client.get("/_emu/requests", params={"path": "/v1/webhooks"}).json()["data"]
    assert body["secret"] not in str(journal)


def test_a_test_delivery_is_signed_and_answers_how_it_went(client, auth):
    with receiver() as hook:
        webhook = create(client, auth, hook.url, ["run.completed"])
        response = client.post(f"/v1/webhooks/{webhook['id']}/test", headers=auth)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["delivered"] is True and answer["responseStatus"] == 200 and answer["event"] == "webhook.test"
        (request,) = hook.requests
    verify(webhook["secret"], request)
    payload = request.json()
    assert payload["type"] == "webhook.test" and payload["id"] == answer["eventId"]
    assert payload["data"]["webhookId"] == webhook["id"] and payload["createdAt"] == "2025-05-01T00:00:00.000Z"
    headers = request["headers"]
    assert headers["x-theazo-event"] == "webhook.test" and headers["x-theazo-delivery"] == answer["deliveryId"]
    assert headers["x-theazo-webhook-id"] == webhook["id"] and headers["x-theazo-attempt"] == "1"
    assert headers["content-type"] == "application/json"
    entry = webhook_journal(client, 1)[-1]
    assert entry["outcome"] == "delivered" and entry["deliveryId"] == answer["deliveryId"]


def test_a_failed_test_delivery_says_when_it_is_retried(client, auth):
    webhook = create(client, auth, dead_url())
    answer = client.post(f"/v1/webhooks/{webhook['id']}/test", headers=auth).json()
    assert answer["delivered"] is False and answer["responseStatus"] is None and answer["error"]
    assert answer["nextAttemptAt"] == "2025-05-01T00:00:10.000Z"


def test_run_events_are_delivered_when_they_happen_on_the_clock(client, auth):
    with receiver() as hook:
        webhook = create(client, auth, hook.url, ["run.started", "run.completed"])
        agent = make_agent(client, auth, tools=["web_search"])
        run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "Summarize"}, headers=auth).json()
        (started,) = hook.wait_for(1)
        assert started.json()["type"] == "run.started"
        assert started.json()["data"] | {"task": None} == {"taskId": run["taskId"], "agentId": agent["id"],
                                                            "sessionId": agent["sessionId"], "userId": "user_1",
                                                            "status": "running", "task": None}
        advance(client, run["durationMs"] / 1000 - 0.001)
        time.sleep(0.1)
        assert len(hook.requests) == 1  # not yet: the run ends at its timeline's end
        fired = advance(client, 0.001)["fired"]
        assert [f["event"] for f in fired if f["type"] == "webhook"] == ["run.completed"]
        _, completed = hook.wait_for(2)
    verify(webhook["secret"], completed)
    payload = completed.json()
    assert payload["type"] == "run.completed" and payload["data"]["output"] == run["output"]
    assert payload["data"]["cost"] == run["cost"] and payload["data"]["status"] == "completed"
    ended = 1746057600000 + run["durationMs"]
    assert payload["createdAt"] == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ended // 1000)) + \
        f".{ended % 1000:03d}Z"


def test_only_subscribed_events_are_delivered(client, auth):
    with receiver() as hook:
        create(client, auth, hook.url, ["session.terminated"])
        session = make_session(client, auth)
        agent = make_agent(client, auth, session["id"])
        client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth)
        advance(client, 600)
        client.post(f"/v1/sessions/{session['id']}/terminate", headers=auth)
        (request,) = hook.wait_for(1)
        time.sleep(0.1)
        assert len(hook.requests) == 1
    assert request.json()["type"] == "session.terminated"
    assert request.json()["data"] == {"sessionId": session["id"], "userId": "user_1", "status": "terminated"}


def test_session_events(client, auth):
    with receiver() as hook:
        create(client, auth, hook.url, ["session.created", "session.paused", "session.resumed"])
        session = make_session(client, auth)
        client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
        client.post(f"/v1/sessions/{session['id']}/resume", headers=auth)
        requests = hook.wait_for(3)
    assert [r.json()["type"] for r in requests] == ["session.created", "session.paused", "session.resumed"]


def test_deliveries_due_at_once_reach_an_endpoint_one_at_a_time_in_order(client, auth):
    with receiver(delays=[1.0]) as slow, receiver() as other:
        create(client, auth, slow.url, ["session.created"])
        create(client, auth, other.url, ["session.created"])
        first, second = make_session(client, auth), make_session(client, auth)
        assert len(other.wait_for(2)) == 2 and len(slow.requests) == 1  # the other endpoint is not held up
        requests = slow.wait_for(2)
    assert [r.json()["data"]["sessionId"] for r in requests] == [first["id"], second["id"]]
    assert slow.most_open == 1  # the second went out once the first was answered
    assert [e["outcome"] for e in webhook_journal(client, 4)] == ["delivered"] * 4


def test_a_failing_endpoint_is_retried_with_backoff_then_delivered(client, auth):
    with receiver(statuses=[500, 503]) as hook:
        webhook = create(client, auth, hook.url, ["session.created"])
        make_session(client, auth)
        hook.wait_for(1)
        first = webhook_journal(client, 1)[-1]
        assert first["outcome"] == "pending" and first["responseStatus"] == 500 and first["attempt"] == 1
        assert first["nextAttemptAt"] == "2025-05-01T00:00:10.000Z"
        advance(client, 9)
        time.sleep(0.1)
        assert len(hook.requests) == 1
        advance(client, 1)
        hook.wait_for(2)
        assert webhook_journal(client, 2)[-1]["nextAttemptAt"] == "2025-05-01T00:01:10.000Z"
        advance(client, 60)
        requests = hook.wait_for(3)
        entries = webhook_journal(client, 3)
    assert [r["headers"]["x-theazo-attempt"] for r in requests] == ["1", "2", "3"]
    assert len({r["body"] for r in requests}) == 1 and len({r["headers"]["x-theazo-delivery"] for r in requests}) == 1
    for request in requests:
        verify(webhook["secret"], request)
    assert [e["outcome"] for e in entries] == ["pending", "pending", "delivered"]


def test_a_delivery_fails_after_its_last_attempt(client, auth):
    webhook = create(client, auth, dead_url(), ["session.created"])
    make_session(client, auth)
    for attempt, seconds in enumerate((10, 60, 300, 1800), 1):
        assert len(webhook_journal(client, attempt)) == attempt  # settled before the clock moves on
        advance(client, seconds)
    entries = webhook_journal(client, 5)
    assert [e["attempt"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[-1]["outcome"] == "failed" and entries[-1]["nextAttemptAt"] is None
    assert all(e["webhookId"] == webhook["id"] for e in entries)
    advance(client, 86_400)
    assert len(webhook_journal(client, 6, timeout=0.2)) == 5


def test_pausing_a_run_holds_its_end_and_terminating_it_announces_a_failure(client, auth):
    with receiver() as hook:
        create(client, auth, hook.url, ["run.completed", "run.failed"])
        agent = make_agent(client, auth)
        run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "long"}, headers=auth).json()
        client.post(f"/v1/agents/{agent['id']}/pause", headers=auth)
        advance(client, 3600)
        time.sleep(0.1)
        assert hook.requests == []
        client.post(f"/v1/agents/{agent['id']}/resume", headers=auth)
        client.post(f"/v1/agents/{agent['id']}/terminate", headers=auth)
        (request,) = hook.wait_for(1)
        advance(client, 3600)
        time.sleep(0.1)
        assert len(hook.requests) == 1
    payload = request.json()
    assert payload["type"] == "run.failed" and payload["data"]["taskId"] == run["taskId"]
    assert payload["data"]["status"] == "terminated" and payload["data"]["error"]["code"] == "terminated"


def test_deleting_an_endpoint_drops_its_pending_deliveries(client, auth):
    with receiver() as hook:
        webhook = create(client, auth, hook.url, ["run.completed"])
        agent = make_agent(client, auth)
        client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth)
        assert client.delete(f"/v1/webhooks/{webhook['id']}", headers=auth).json() == {"id": webhook["id"],
                                                                                      "deleted": True}
        advance(client, 3600)
        time.sleep(0.1)
        assert hook.requests == []
    assert client.get("/v1/webhooks", headers=auth).json()["data"] == []
    assert_error(client.delete(f"/v1/webhooks/{webhook['id']}", headers=auth), 404, "not_found")


def test_another_tenants_endpoints_are_404_and_get_nothing(client, auth):
    with receiver() as hook:
        webhook = create(client, auth, hook.url)
        assert_error(client.post(f"/v1/webhooks/{webhook['id']}/test", headers=OTHER), 404, "not_found")
        assert_error(client.delete(f"/v1/webhooks/{webhook['id']}", headers=OTHER), 404, "not_found")
        make_session(client, OTHER)
        time.sleep(0.1)
        assert hook.requests == []
    assert client.get("/v1/webhooks", headers=OTHER).json()["data"] == []


def _seq(ident: str) -> int:
    """The per-tenant sequence number inside an id (ids.py: 10 instant, then 6 sequence characters)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    body = ident.partition("_")[2][10:16]
    return int("".join(f"{alphabet.index(c):05b}" for c in body), 2)


def test_without_endpoints_events_spend_no_ids(client, auth):
    agent = make_agent(client, auth)  # a session (1), an agent (2)
    run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth).json()
    assert _seq(run["taskId"]) == 3  # no event ids were made for run.started / run.completed


@pytest.mark.parametrize(("body", "field"), [
    ({"events": ["*"]}, "url"), ({"url": "https://e.com"}, "events"), ({"url": "https://e.com", "events": []}, "events"),
    ({"url": "ftp://e.com", "events": ["*"]}, "url"), ({"url": "https://e.com", "events": ["lunch.ordered"]}, "events"),
    ({"url": "https://e.com", "events": ["run.Completed"]}, "events"),
    ({"url": "https://e.com", "events": "run.started"}, "events"), ({"url": 5, "events": ["*"]}, "url"),
    ({"url": "http://[::1", "events": ["*"]}, "url"), ({"url": "https://h:99999/", "events": ["*"]}, "url"),
])
def test_bad_bodies_are_422_and_store_nothing(client, auth, body, field):
    error = assert_error(client.post("/v1/webhooks", json=body, headers=auth), 422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert client.get("/v1/webhooks", headers=auth).json()["data"] == []
