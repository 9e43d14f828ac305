"""Theo webhooks over HTTP: create (the secret once, sealed at rest), SSRF refusal, list,
patch, delete, test, deliveries, retry, secret rotation and stats, and real signed
deliveries of Theo events to a receiver on loopback, retried on the virtual clock."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from conftest import START, advance
from receiver import dead_url, receiver
from theo_support import bearer, complete, settled_deliveries, theo_error, theo_key

from theazo_emu import create_app
from theazo_emu.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(clock=START, seed=0, heartbeat_s=0.5, allow_private_webhooks=True)


def create(client, key, url, types=("*",), **body) -> dict:  # noqa: ANN001
    response = client.post("/api/v1/webhooks", headers=bearer(key), json={"url": url, "event_types": list(types),
                                                                         **body})
    assert response.status_code == 201, response.text
    return response.json()


def verify(secret: str, request) -> dict:  # noqa: ANN001
    """The delivery's signature checks out with `secret`; its body."""
    headers = request["headers"]
    signed = headers["theo-webhook-timestamp"].encode() + b"." + request["body"]
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["theo-webhook-signature"], expected)
    body = request.json()
    assert headers["theo-webhook-id"] == body["id"] and body["id"].startswith("evt_")
    return body


def signed_by(secret: str, request) -> bool:  # noqa: ANN001
    signed = request["headers"]["theo-webhook-timestamp"].encode() + b"." + request["body"]
    return hmac.compare_digest(request["headers"]["theo-webhook-signature"],
                               "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest())


def deliveries(client, key, webhook_id, count=1, timeout=10.0) -> list[dict]:  # noqa: ANN001
    """The webhook's deliveries once `count` have settled (not pending or sending)."""
    return settled_deliveries(lambda path: client.get(path, headers=bearer(key)), webhook_id, count, timeout)


def test_create_shows_the_signing_secret_once_and_stores_it_sealed(client, emu):
    key = theo_key()
    made = create(client, key, "https://example.com/hook", ["completion.created", "job.completed"],
                  description="prod")
    assert len(made["signing_secret"]) == 64 and int(made["signing_secret"], 16) >= 0
    assert made["signingSecret"] == made["signing_secret"] and made["_note"]
    assert made["enabled"] is True and made["event_types"] == made["eventTypes"] == ["completion.created",
                                                                                     "job.completed"]
    assert len(made["id"]) == 36 and made["id"].count("-") == 4  # a uuid
    listed = client.get("/api/v1/webhooks", headers=bearer(key)).json()["webhooks"]
    assert [w["id"] for w in listed] == [made["id"]]
    assert "signing_secret" not in listed[0] and made["signing_secret"] not in str(listed)
    stored = emu.store.one("SELECT * FROM theo_webhooks WHERE id = ?", [made["id"]])
    assert made["signing_secret"] not in str(stored) and stored["secret_sealed"].startswith("v1:")
    assert made["signing_secret"] not in client.get("/_emu/state/export").text
    own = create(client, key, "https://example.com/other", secret="s" * 16)
    assert own["signing_secret"] == "s" * 16
    assert "s" * 16 not in client.get("/_emu/requests").text  # the journal redacts it


@pytest.mark.parametrize("body", [
    {"url": "https://example.com/h"}, {"event_types": ["*"]}, {"url": "https://example.com/h", "event_types": []},
    {"url": "https://example.com/h", "event_types": ["order.created"]},
    {"url": "ftp://example.com/h", "event_types": ["*"]}, {"url": "not a url", "event_types": ["*"]},
    {"url": "https://example.com/h", "event_types": ["*"], "secret": "short"},
    {"url": "https://example.com/h", "event_types": ["*"], "secret": "x" * 257},
    {"url": "https://example.com/h", "event_types": ["*"], "description": "d" * 257},
    {"url": "https://example.com/h", "event_types": "*"},
])
def test_bad_bodies_are_400_and_store_nothing(client, body):
    key = theo_key()
    theo_error(client.post("/api/v1/webhooks", headers=bearer(key), json=body), 400, "validation_error")
    assert client.get("/api/v1/webhooks", headers=bearer(key)).json()["webhooks"] == []


@pytest.mark.parametrize("url", ["http://example.com/h", "https://127.0.0.1/h", "https://10.0.0.8/h",
                                 "https://192.168.1.1/h", "https://169.254.169.254/latest", "https://[::1]/h",
                                 "https://localhost/h", "https://metadata.google.internal/x", "https://db.internal/x",
                                 "https://[::ffff:127.0.0.1]/h", "https://0.0.0.0/h"])
def test_private_and_metadata_urls_are_refused_unless_allowed(url):
    app = create_app(Settings(clock=START))
    from starlette.testclient import TestClient

    with TestClient(app) as strict:
        key = theo_key()
        error = theo_error(strict.post("/api/v1/webhooks", headers=bearer(key),
                                       json={"url": url, "event_types": ["*"]}), 400, "url_blocked")
        assert "allow-private-webhooks" in error["message"] or "private" in error["message"]
        assert strict.get("/api/v1/webhooks", headers=bearer(key)).json()["webhooks"] == []
        made = create(strict, key, "https://hooks.example.com/h")
        theo_error(strict.patch(f"/api/v1/webhooks/{made['id']}", headers=bearer(key), json={"url": url}), 400,
                   "url_blocked")


def test_a_completion_is_delivered_signed_to_the_receiver(client):
    key = theo_key()
    with receiver() as hook:
        made = create(client, key, hook.url, ["completion.created"])
        done = complete(client, key, "hello there")
        (request,) = hook.wait_for(1)
        body = verify(made["signing_secret"], request)
    assert body["type"] == "completion.created" and body["created"] == "2025-05-01T00:00:00.000Z"
    assert body["data"]["completion_id"] == done["id"] and body["data"]["usage"] == done["usage"]
    assert request["headers"]["theo-webhook-timestamp"] == str(1746057600)
    assert request["headers"]["content-type"] == "application/json"
    rows = deliveries(client, key, made["id"])
    assert rows[0]["status"] == "success" and rows[0]["http_status"] == 200 and rows[0]["attempt"] == 1
    assert rows[0]["event_type"] == rows[0]["eventType"] == "completion.created"
    journal = client.get("/_emu/requests", params={"kind": "theo_webhook"}).json()["data"]
    assert journal[-1]["outcome"] == "success" and journal[-1]["deliveryId"] == rows[0]["id"]


def test_only_subscribed_enabled_webhooks_get_an_event(client):
    key = theo_key()
    with receiver() as wanted, receiver() as other:
        create(client, key, wanted.url, ["key.created"])
        off = create(client, key, other.url, ["*"])
        assert client.patch(f"/api/v1/webhooks/{off['id']}", headers=bearer(key),
                            json={"enabled": False}).json()["updated"] is True
        client.post("/api/v1/keys", headers=bearer(key), json={"name": "ci"})
        complete(client, key)
        (request,) = wanted.wait_for(1)
        time.sleep(0.2)
        assert request.json()["type"] == "key.created" and other.requests == []


def test_test_sends_a_marked_completion_event_and_reports_the_attempt(client):
    key = theo_key()
    with receiver() as hook:
        made = create(client, key, hook.url, ["job.completed"])
        answer = client.post(f"/api/v1/webhooks/{made['id']}/test", headers=bearer(key))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["sent"] is True and body["status"] == "success" and body["http_status"] == 200
        (request,) = hook.wait_for(1)
        event = verify(made["signing_secret"], request)
    assert event["type"] == "completion.created" and event["data"]["_test"] is True and event["data"]["message"]


def test_deliveries_due_at_once_reach_a_webhook_one_at_a_time_in_order(client):
    key = theo_key()
    with receiver([503], delays=[0.3]) as slow:
        made = create(client, key, slow.url, ["key.created"])
        names = [client.post("/api/v1/keys", headers=bearer(key), json={"name": f"k{n}"}).json()["name"]
                 for n in range(3)]
        requests = slow.wait_for(3)
        assert slow.most_open == 1  # each went out once the one before was answered
        advance(client, 10)  # the first one's retry
        requests = slow.wait_for(4)
        rows = deliveries(client, key, made["id"], 4)
    assert [r.json()["data"]["name"] for r in requests] == [*names, names[0]]
    assert [r["headers"]["theo-webhook-attempt"] for r in requests] == ["1", "1", "1", "2"]
    # The log: one row per attempt, newest first (the first delivery's failed try is the oldest).
    assert [(r["status"], r["attempt"]) for r in rows] == [("success", 2), ("success", 1), ("success", 1),
                                                          ("failed", 1)]
    assert rows[0]["delivery_id"] == rows[3]["delivery_id"] == rows[3]["id"] != rows[0]["id"]


def test_a_5xx_is_retried_with_backoff_on_the_virtual_clock_and_a_4xx_is_not(client):
    key = theo_key()
    with receiver([500, 503]) as flaky:
        made = create(client, key, flaky.url, ["key.created"])
        client.post("/api/v1/keys", headers=bearer(key), json={})
        flaky.wait_for(1)
        deliveries(client, key, made["id"], 1)  # a retry is timed from the attempt's settling: wait for it
        assert len(flaky.requests) == 1
        advance(client, 9)
        time.sleep(0.1)
        assert len(flaky.requests) == 1  # the first retry is due after 10 s
        advance(client, 1)
        flaky.wait_for(2)
        deliveries(client, key, made["id"], 2)
        advance(client, 60)
        flaky.wait_for(3)
        rows = deliveries(client, key, made["id"], 3)  # each attempt is a row once settled
        assert rows[0]["status"] == "success" and rows[0]["attempt"] == 3
        assert all(verify(made["signing_secret"], r) for r in flaky.requests)
        assert [r["headers"]["theo-webhook-attempt"] for r in flaky.requests] == ["1", "2", "3"]
    with receiver([400]) as refusing:
        made = create(client, key, refusing.url, ["key.revoked"])
        key_id = client.post("/api/v1/keys", headers=bearer(key), json={}).json()["id"]
        client.delete(f"/api/v1/keys/{key_id}", headers=bearer(key))
        refusing.wait_for(1)
        (row,) = deliveries(client, key, made["id"])
        assert row["status"] == "failed" and row["http_status"] == 400 and row["failed_at"]
        advance(client, 3600)
        time.sleep(0.1)
        assert len(refusing.requests) == 1


def test_failing_deliveries_turn_the_webhook_off_and_stats_count_them(client):
    key = theo_key()
    made = create(client, key, dead_url(), ["key.created"])
    for _ in range(5):
        client.post("/api/v1/keys", headers=bearer(key), json={})
    for _ in range(5):  # each delivery: the first attempt, then four retries
        for wait in (10, 60, 300, 1800):
            time.sleep(0.05)
            advance(client, wait)
    rows = deliveries(client, key, made["id"], 25)
    assert len(rows) == 25 and {r["status"] for r in rows} == {"failed"} and all(r["error_message"] for r in rows)
    assert sorted(r["attempt"] for r in rows) == sorted([1, 2, 3, 4, 5] * 5) and rows[0]["attempt"] == 5
    assert all(r["http_status"] is None for r in rows) and len({r["delivery_id"] for r in rows}) == 5
    stats = client.get(f"/api/v1/webhooks/{made['id']}/stats", headers=bearer(key)).json()
    assert stats == {"webhook_id": made["id"], "enabled": False, "consecutive_failures": 5, "last_delivered_at": None,
                     "deliveries": {"total": 25, "successes": 0, "failures": 25, "success_rate_percent": 0.0}}
    listed = client.get("/api/v1/webhooks", headers=bearer(key)).json()["webhooks"][0]
    assert listed["enabled"] is False and listed["failure_count"] == 5
    client.patch(f"/api/v1/webhooks/{made['id']}", headers=bearer(key), json={"enabled": True})
    assert client.get(f"/api/v1/webhooks/{made['id']}/stats", headers=bearer(key)).json()["consecutive_failures"] == 0


def test_rotate_secret_stops_the_old_one_at_once_and_retry_resends_with_the_new(client):
    key = theo_key()
    with receiver() as hook:
        made = create(client, key, hook.url, ["key.created"])
        client.post("/api/v1/keys", headers=bearer(key), json={})
        (first,) = hook.wait_for(1)
        assert signed_by(made["signing_secret"], first)
        rotated = client.post(f"/api/v1/webhooks/{made['id']}/rotate-secret", headers=bearer(key)).json()
        assert rotated["id"] == made["id"] and rotated["signing_secret"] != made["signing_secret"]
        (row,) = deliveries(client, key, made["id"])
        again = client.post(f"/api/v1/webhooks/{made['id']}/deliveries/{row['id']}/retry", headers=bearer(key))
        assert again.status_code == 200 and again.json()["retried"] is True
        second = hook.wait_for(2)[1]
        assert second["body"] == first["body"]  # the stored payload
        assert signed_by(rotated["signing_secret"], second) and not signed_by(made["signing_secret"], second)
        rows = deliveries(client, key, made["id"], 2)
        assert rows[0]["id"] == again.json()["delivery_id"]  # newest first


def test_deliveries_are_the_last_50_newest_first(client):
    key = theo_key()
    with receiver() as hook:
        made = create(client, key, hook.url, ["completion.created"])
        for n in range(52):
            complete(client, key, f"prompt {n}")
        hook.wait_for(52)
        rows = deliveries(client, key, made["id"], 50)
    assert len(rows) == 50 and rows == sorted(rows, key=lambda r: r["id"], reverse=True)


def test_patch_changes_url_types_and_description_and_delete_removes_the_log(client, emu):
    key = theo_key()
    made = create(client, key, "https://example.com/a", ["key.created"])
    response = client.patch(f"/api/v1/webhooks/{made['id']}", headers=bearer(key),
                            json={"url": "https://example.com/b", "event_types": ["*"], "description": "all"})
    assert response.json() == {"updated": True, "id": made["id"]}
    (row,) = client.get("/api/v1/webhooks", headers=bearer(key)).json()["webhooks"]
    assert row["url"] == "https://example.com/b" and row["event_types"] == ["*"] and row["description"] == "all"
    theo_error(client.patch(f"/api/v1/webhooks/{made['id']}", headers=bearer(key), json={"enabled": "yes"}), 400,
               "validation_error")
    assert client.delete(f"/api/v1/webhooks/{made['id']}", headers=bearer(key)).json()["deleted"] is True
    assert emu.store.scalar("SELECT COUNT(*) FROM theo_deliveries WHERE webhook_id = ?", [made["id"]]) == 0
    theo_error(client.delete(f"/api/v1/webhooks/{made['id']}", headers=bearer(key)), 404, "not_found")


def test_another_tenants_webhook_is_404_everywhere(client):
    owner, other = theo_key(), theo_key()
    made = create(client, owner, "https://example.com/a")
    base = f"/api/v1/webhooks/{made['id']}"
    for method, path in (("PATCH", base), ("DELETE", base), ("POST", f"{base}/test"), ("GET", f"{base}/deliveries"),
                         ("POST", f"{base}/rotate-secret"), ("GET", f"{base}/stats"),
                         ("POST", f"{base}/deliveries/whd_x/retry")):
        theo_error(client.request(method, path, headers=bearer(other), json={}), 404, "not_found")
    theo_error(client.post(f"{base}/deliveries/whd_nothing/retry", headers=bearer(owner)), 404, "not_found")
    assert client.get("/api/v1/webhooks", headers=bearer(other)).json()["webhooks"] == []
    assert len(client.get("/api/v1/webhooks", headers=bearer(owner)).json()["webhooks"]) == 1


def test_at_most_25_active_webhooks(client):
    key = theo_key()
    for n in range(25):
        create(client, key, f"https://example.com/{n}")
    theo_error(client.post("/api/v1/webhooks", headers=bearer(key),
                           json={"url": "https://example.com/x", "event_types": ["*"]}), 409, "conflict")
