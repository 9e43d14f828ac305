"""What a Theo tenant is billed and allowed: usage from the ledger, credits (402, credits.low),
per-key rate limits, and the audit log with its export."""

from __future__ import annotations

import csv
import io
import re

import pytest
from conftest import START, advance
from starlette.testclient import TestClient
from theo_support import bearer, complete, held, theo_error, theo_key

from theazo_emu import create_app
from theazo_emu.core.auth import tenant_of
from theazo_emu.settings import Settings
from theazo_emu.theo.domain import audit


def test_usage_is_the_sum_of_the_completions_own_usage(client):
    key = theo_key()
    answers = [complete(client, key, "hello"), complete(client, key, "Why?"), complete(client, key, "x", mode="image"),
               client.post("/api/v1/chat/completions", headers=bearer(key),
                           json={"messages": [{"role": "user", "content": "hi"}]}).json()]
    usage = client.get("/api/v1/usage", headers=bearer(key)).json()
    assert usage["period"] == {"from": "2025-05-01T00:00:00.000Z", "to": "2025-05-01T00:00:00.000Z"}
    assert usage["scope"] == "user"
    native = [a["usage"] for a in answers[:3]]
    chat = answers[3]["usage"]
    totals = usage["totals"]
    assert totals["requests"] == 4
    assert totals["prompt_tokens"] == sum(u["prompt_tokens"] for u in native) + chat["prompt_tokens"]
    assert totals["completion_tokens"] == sum(u["completion_tokens"] for u in native) + chat["completion_tokens"]
    assert totals["cost_cents"] == pytest.approx(sum(u["cost_cents"] for u in native)
                                                 + answers[3]["theo_metadata"]["cost_cents"])
    assert set(usage["by_mode"]) == {"fast", "think", "image"} and usage["by_mode"]["fast"]["requests"] == 2
    assert set(usage["by_model"]) == {"theo-1-flash", "theo-1-reason", "theo-1-create"}
    assert usage["by_model"]["theo-1-create"]["cost_cents"] == 4
    assert sum(m["requests"] for m in usage["by_mode"].values()) == totals["requests"]


def test_usage_periods_and_scope(client):
    key = theo_key()
    complete(client, key)
    advance(client, 40 * 86400)  # into June: May's completion is outside the default month
    complete(client, key)
    assert client.get("/api/v1/usage", headers=bearer(key)).json()["totals"]["requests"] == 1
    may = client.get("/api/v1/usage?from=2025-05-01&to=2025-05-01", headers=bearer(key)).json()
    assert may["totals"]["requests"] == 1 and may["period"]["to"] == "2025-05-01T23:59:59.999Z"
    assert client.get("/api/v1/usage?from=2025-01-01", headers=bearer(key)).json()["totals"]["requests"] == 2
    theo_error(client.get("/api/v1/usage?from=2025-06-02&to=2025-06-01", headers=bearer(key)), 400, "validation_error")
    theo_error(client.get("/api/v1/usage?from=soon", headers=bearer(key)), 400, "validation_error")
    theo_error(client.get("/api/v1/usage?from=0001-01-01", headers=bearer(key)), 400, "validation_error")
    theo_error(client.get("/api/v1/usage?scope=team", headers=bearer(key)), 400, "validation_error")
    theo_error(client.get("/api/v1/usage?scope=org", headers=bearer(key)), 403, "insufficient_scope")
    org_id = client.post("/api/v1/orgs", headers=bearer(key), json={"name": "Acme"}).json()["id"]
    org = client.post("/api/v1/keys", headers=bearer(key), json={"org_id": org_id}).json()["secret"]
    assert client.get("/api/v1/usage?scope=org", headers=bearer(org)).json()["scope"] == "org"


def test_a_used_up_balance_answers_402_and_changes_nothing(client):
    key = theo_key()
    account = client.put("/_emu/theo/account", json={"key": key, "credits": 0.01}).json()
    assert account["balanceCents"] == 0.01 and account["lowThresholdCents"] == 500
    first = complete(client, key, "Why is the sky blue?")  # 0.01 cents is less than this costs
    after = client.get("/_emu/theo/account", params={"key": key}).json()
    assert after["balanceCents"] == pytest.approx(0.01 - first["usage"]["cost_cents"])
    before = held(client, key)
    for path, body in (("/api/v1/completions", {"prompt": "again"}),
                       ("/api/v1/chat/completions", {"messages": [{"role": "user", "content": "again"}]})):
        error = theo_error(client.post(path, headers=bearer(key), json=body), 402, "insufficient_credits")
        assert "balance" in error["message"]
    assert held(client, key) == before
    client.put("/_emu/theo/account", json={"key": key, "credits": 100})
    assert complete(client, key, "again")["object"] == "completion"


def test_credits_low_fires_once_when_the_balance_falls_under_the_threshold(client):
    key = theo_key()
    client.put("/_emu/theo/account", json={"key": key, "credits": 12, "lowCredits": 5})
    complete(client, key, "an image", mode="image")  # 4 cents: 8 left
    assert client.get("/_emu/theo/events", params={"key": key, "type": "credits.low"}).json()["data"] == []
    complete(client, key, "an image", mode="image")  # 4 left: under 5
    complete(client, key, "an image", mode="image")  # 0 left: still under, no second event
    low = client.get("/_emu/theo/events", params={"key": key, "type": "credits.low"}).json()["data"]
    assert len(low) == 1 and low[0]["id"].startswith("evt_")
    assert low[0]["data"] == {"balance_cents": 4, "threshold_cents": 5}
    theo_error(client.post("/api/v1/completions", headers=bearer(key), json={"prompt": "x"}), 402,
               "insufficient_credits")
    client.put("/_emu/theo/account", json={"key": key, "credits": 20, "lowCredits": 5})  # recovered: may fire again
    complete(client, key, "an image", mode="image")
    for _ in range(3):
        complete(client, key, "an image", mode="image")
    assert len(client.get("/_emu/theo/events", params={"key": key, "type": "credits.low"}).json()["data"]) == 2


def test_admin_account_rejects_bad_bodies_and_keys(client):
    assert client.put("/_emu/theo/account", json={"key": "th_test_x"}).status_code == 422
    assert client.put("/_emu/theo/account", json={"key": theo_key(), "credits": "lots"}).status_code == 422
    assert client.put("/_emu/theo/account", json={"key": theo_key(), "tier": "pro"}).status_code == 422
    assert client.get("/_emu/theo/account").status_code == 422
    assert client.get("/_emu/theo/account", params={"key": "nope"}).status_code == 422
    for key in ({"a": 1}, 7, None):  # a key that is no string is refused by type (once a 500)
        response = client.put("/_emu/theo/account", json={"key": key})
        assert response.status_code == 422 and response.json()["error"]["details"]["fields"][0]["field"] == "key"


# ---- rate limits ----

@pytest.fixture
def limited():
    with TestClient(create_app(Settings(clock=START, theo_rate_limit="3"))) as client:
        yield client


def test_rate_limits_are_off_by_default_and_the_headers_say_so(client):
    key = theo_key()
    for _ in range(3):
        response = client.get("/api/v1/models", headers=bearer(key))
    assert response.status_code == 200
    assert {n: v for n, v in response.headers.items() if n.startswith("x-ratelimit")} == {
        "x-ratelimit-limit-requests": "unlimited", "x-ratelimit-remaining-requests": "unlimited",
        "x-ratelimit-reset-requests": "0s", "x-ratelimit-limit-tokens": "unlimited",
        "x-ratelimit-remaining-tokens": "unlimited", "x-ratelimit-reset-tokens": "0s"}
    assert "x-ratelimit-limit-requests" not in client.get("/api/v1/health").headers  # keyless: nothing counted


def test_every_answer_to_a_limited_key_carries_the_six_headers_and_the_fourth_is_429(limited):
    key = theo_key()
    answers = [limited.get("/api/v1/models", headers=bearer(key)) for _ in range(3)]
    assert [a.headers["x-ratelimit-remaining-requests"] for a in answers] == ["2", "1", "0"]
    first = answers[0].headers
    assert first["x-ratelimit-limit-requests"] == "3" and first["x-ratelimit-reset-requests"] == "60s"
    assert first["x-ratelimit-limit-tokens"] == "5000" and first["x-ratelimit-remaining-tokens"] == "5000"
    assert first["x-ratelimit-reset-tokens"] == "0s"
    refused = limited.get("/api/v1/models", headers=bearer(key))
    theo_error(refused, 429, "rate_limit_exceeded")
    assert refused.headers["retry-after"] == "60" and refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert limited.get("/api/v1/models", headers=bearer(theo_key())).status_code == 200  # per key
    assert limited.get("/api/v1/health").status_code == 200  # keyless: never limited
    advance(limited, 60)
    assert limited.get("/api/v1/models", headers=bearer(key)).status_code == 200


def test_tokens_and_mode_caps_are_limited_too(limited):
    key = theo_key()
    limited.put("/_emu/theo/account", json={"key": key, "rateLimit": 6})  # 6 a minute, 10,000 tokens, 2 images
    for _ in range(2):
        complete(limited, key, "x", mode="image")
    theo_error(limited.post("/api/v1/completions", headers=bearer(key), json={"prompt": "x", "mode": "image"}), 429,
               "mode_rate_limit_exceeded")
    tier = limited.put("/_emu/theo/account", json={"key": key, "rateLimit": 1}).json()["rateLimit"]
    assert tier == {"requests": 1, "tokens": 1666}  # N a minute: tokens in the free tier's proportion
    advance(limited, 60)
    complete(limited, key, "word " * 1600)  # about 2,000 prompt tokens: the minute's tokens are spent
    advance(limited, 1)
    refused = limited.get("/api/v1/models", headers=bearer(key))
    theo_error(refused, 429, "token_limit_exceeded")
    assert refused.headers["x-ratelimit-remaining-tokens"] == "0" and refused.headers["x-ratelimit-reset-tokens"] == "59s"
    limited.put("/_emu/theo/account", json={"key": key, "rateLimit": "off"})
    assert limited.get("/api/v1/models", headers=bearer(key)).status_code == 200


# ---- audit ----

def test_audit_entries_hold_digests_not_prompts_and_form_a_hash_chain(client, emu):
    key = theo_key()
    secret_prompt = "my password is hunter2"
    body = complete(client, key, secret_prompt, metadata={"user": "u1"})
    page = client.get("/api/v1/audit", headers=bearer(key)).json()
    entry = page["events"][0]
    assert entry["action"] == "completion.created" and entry["entityType"] == "completion"
    assert entry["entityId"] == body["id"] and entry["modelId"] == "theo-1-flash" and entry["status"] == 200
    assert entry["costCents"] == body["usage"]["cost_cents"] and entry["requestId"] == body["request_id"]
    assert re.match(r"^key_[0-9A-HJKMNP-TV-Z]{26}$", entry["keyId"]) and key not in str(page)
    assert re.match(r"^usr_[0-9A-HJKMNP-TV-Z]{26}$", entry["userId"])
    assert entry["inputSummary"]["promptSha256"] == __import__("hashlib").sha256(secret_prompt.encode()).hexdigest()
    assert entry["inputSummary"]["promptLength"] == len(secret_prompt) and "hunter2" not in str(page)
    assert entry["inputSummary"]["metadata"] == {"user": "u1"}
    for n in range(3):
        complete(client, key, f"more {n}")
    rows = emu.store.all("SELECT * FROM theo_audit WHERE tenant = ? ORDER BY id", [tenant_of(key)])
    assert len(rows) == 4 and audit.verify_chain(rows)
    assert rows[1]["prev_hash"] == rows[0]["hash"] == entry["hash"]
    tampered = [dict(rows[0], cost_units=0), *rows[1:]]
    assert not audit.verify_chain(tampered)


def test_audit_pages_and_filters(client):
    key = theo_key()
    complete(client, key, "a", mode="fast")
    complete(client, key, "b", mode="think")
    client.post("/api/v1/keys", headers=bearer(key), json={})
    advance(client, 86400)
    complete(client, key, "c", mode="fast")
    auth = bearer(key)
    first = client.get("/api/v1/audit?limit=2", headers=auth).json()
    assert len(first["events"]) == 2 and first["has_more"] is True
    rest = client.get(f"/api/v1/audit?limit=2&cursor={first['next_cursor']}", headers=auth).json()
    assert len(rest["events"]) == 2 and rest["has_more"] is False
    assert [e["mode"] for e in client.get("/api/v1/audit?mode=fast", headers=auth).json()["events"]] == ["fast"] * 2
    assert len(client.get("/api/v1/audit?action=key.created", headers=auth).json()["events"]) == 1
    assert len(client.get("/api/v1/audit?to=2025-05-01", headers=auth).json()["events"]) == 3
    assert len(client.get("/api/v1/audit?from=2025-05-02", headers=auth).json()["events"]) == 1
    assert len(client.get("/api/v1/audit?status=200", headers=auth).json()["events"]) == 3
    one = client.get("/api/v1/audit", headers=auth).json()["events"][0]["keyId"]
    assert len(client.get(f"/api/v1/audit?key={one}", headers=auth).json()["events"]) == 4
    assert client.get("/api/v1/audit?key=key_someone_else", headers=auth).json()["events"] == []
    theo_error(client.get("/api/v1/audit?status=abc", headers=auth), 400, "validation_error")


def test_audit_export_is_csv_with_the_documented_columns(client):
    key = theo_key()
    complete(client, key, "hi")
    client.post("/api/v1/completions", headers={**bearer(key), "User-Agent": "=HYPERLINK(1)"}, json={"prompt": "x"})
    response = client.get("/api/v1/audit/export?action=completion.created", headers=bearer(key))
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="theo-audit.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["timestamp", "action", "entity_type", "entity_id", "model_id", "ip_address",
                             "user_agent", "route", "input_summary", "output_summary"]
    assert len(rows) == 2 and rows[0]["route"] == "/api/v1/completions" and rows[0]["model_id"] == "theo-1-flash"
    assert rows[1]["user_agent"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    assert "promptSha256" in rows[0]["input_summary"]


def test_theo_state_exports_and_imports_whole_and_a_reset_forgets_it(client):
    key = theo_key()
    client.put("/_emu/theo/account", json={"key": key, "credits": 50})
    made = client.post("/api/v1/keys", headers=bearer(key), json={"name": "k", "scopes": ["completions"]}).json()
    first = complete(client, key, "hello", metadata={"a": 1})
    client.post("/api/v1/completions", headers={**bearer(key), "Idempotency-Key": "x"}, json={"prompt": "s", "stream": True})
    exported = client.get("/_emu/state/export").json()
    tables = {name for name in exported["tables"]} if isinstance(exported.get("tables"), dict) else set()
    assert {"theo_keys", "theo_conversations", "theo_messages", "theo_ledger", "theo_credits", "theo_audit",
            "theo_events", "theo_idempotency"} <= tables
    with TestClient(create_app(Settings(clock=START))) as fresh:
        assert fresh.post("/_emu/state/import", json=exported).status_code == 200
        assert fresh.get("/_emu/state/export").json() == exported
        assert fresh.get(f"/api/v1/conversations/{first['conversation_id']}", headers=bearer(key)).status_code == 200
        assert fresh.get("/api/v1/models", headers=bearer(made["secret"])).status_code == 200  # the key still works
        replay = fresh.post("/api/v1/completions", headers={**bearer(key), "Idempotency-Key": "x"},
                            json={"prompt": "s", "stream": True})
        assert replay.headers["x-idempotent-replay"] == "true" and "event: done" in replay.text
    client.post("/_emu/reset", json={"tenant": key})
    assert held(client, key)["conversations"] == [] and held(client, key)["requests"] == 0
    # The created key went with its tenant: it is now just another unregistered test key.
    assert client.get("/api/v1/keys", headers=bearer(key)).json()["keys"] == []
    assert client.get("/api/v1/conversations", headers=bearer(made["secret"])).json()["conversations"] == []
