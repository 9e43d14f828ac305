"""Theo's account routes over HTTP: orgs and org-scoped keys, settings (audited), tools,
benchmarks from the journal, rate limits and increase requests, billing checkout and portal
pages of the emulator, voice tokens and channels; each with its bad inputs (nothing stored)
and another tenant's ids (404)."""

from __future__ import annotations

import pytest
from conftest import START, advance
from starlette.testclient import TestClient
from theo_support import bearer, complete, held, theo_error, theo_key

from theazo_emu import create_app
from theazo_emu.settings import Settings


def audit_actions(client, key):  # noqa: ANN001, ANN201
    return [e["action"] for e in client.get("/api/v1/audit?limit=100", headers=bearer(key)).json()["events"]]


# ---- orgs and org-scoped keys ----

def test_orgs_create_list_delete_and_their_keys_go_with_them(client):
    key = theo_key()
    made = client.post("/api/v1/orgs", headers=bearer(key), json={"name": "Acme Corp", "type": "agency"})
    assert made.status_code == 201, made.text
    org = made.json()
    assert (org["name"], org["slug"], org["type"], org["object"]) == ("Acme Corp", "acme-corp", "agency", "org")
    second = client.post("/api/v1/orgs", headers=bearer(key), json={"name": "Beta", "slug": "beta-team"}).json()
    assert second["type"] == "team" and second["slug"] == "beta-team"
    assert [o["id"] for o in client.get("/api/v1/orgs", headers=bearer(key)).json()["orgs"]] == [second["id"],
                                                                                                  org["id"]]
    assert client.get("/api/v1/orgs", headers=bearer(theo_key())).json()["orgs"] == []
    org_key = client.post("/api/v1/keys", headers=bearer(key), json={"org_id": org["id"]}).json()
    assert org_key["scope"] == "org" and org_key["org_id"] == org["id"]
    assert complete(client, org_key["secret"])["object"] == "completion"
    assert client.get("/api/v1/usage?scope=org", headers=bearer(org_key["secret"])).json()["scope"] == "org"
    gone = client.request("DELETE", "/api/v1/orgs", headers=bearer(key), json={"id": org["id"]})
    assert gone.json() == {"deleted": True, "id": org["id"], "revoked_keys": 1}
    theo_error(client.get("/api/v1/usage", headers=bearer(org_key["secret"])), 401, "invalid_api_key")
    assert client.delete(f"/api/v1/orgs?id={second['id']}", headers=bearer(key)).json()["deleted"] is True
    assert client.get("/api/v1/orgs", headers=bearer(key)).json()["orgs"] == []
    assert {"org.created", "org.deleted"} <= set(audit_actions(client, key))


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": 5}, {"name": "x" * 201},
                                  {"name": "A", "type": "guild"}, {"name": "A", "slug": "Not A Slug"},
                                  {"name": "A", "slug": "-edge-"}, {"name": "A", "slug": "x" * 65}, []])
def test_bad_orgs_are_400_and_create_nothing(client, body):
    key = theo_key()
    before = held(client, key)
    theo_error(client.post("/api/v1/orgs", headers=bearer(key), json=body), 400, "validation_error")
    assert held(client, key) == before
    assert client.get("/api/v1/orgs", headers=bearer(key)).json()["orgs"] == []


def test_an_org_slug_is_taken_once_per_tenant_and_deletes_name_their_org(client):
    key, other = theo_key(), theo_key()
    org = client.post("/api/v1/orgs", headers=bearer(key), json={"name": "Acme"}).json()
    theo_error(client.post("/api/v1/orgs", headers=bearer(key), json={"name": "ACME"}), 409, "conflict")
    assert client.post("/api/v1/orgs", headers=bearer(other), json={"name": "Acme"}).status_code == 201
    theo_error(client.request("DELETE", "/api/v1/orgs", headers=bearer(key), json={}), 400, "validation_error")
    theo_error(client.request("DELETE", "/api/v1/orgs", headers=bearer(other), json={"id": org["id"]}), 404,
               "not_found")
    theo_error(client.request("DELETE", "/api/v1/orgs", headers=bearer(key), json={"id": "org_\r\nX-Evil: 1"}), 404,
               "not_found")
    assert [o["id"] for o in client.get("/api/v1/orgs", headers=bearer(key)).json()["orgs"]] == [org["id"]]


# ---- settings ----

def test_settings_default_change_and_are_audited(client):
    key = theo_key()
    assert client.get("/api/v1/settings", headers=bearer(key)).json() == {
        "default_mode": "auto", "personality": "theo", "timezone": "UTC", "theo_branding": True}
    changed = client.patch("/api/v1/settings", headers=bearer(key), json={"timezone": "Europe/Paris",
                                                                         "theo_branding": False})
    assert changed.json() == {"default_mode": "auto", "personality": "theo", "timezone": "Europe/Paris",
                              "theo_branding": False}
    assert client.get("/api/v1/settings", headers=bearer(key)).json() == changed.json()
    assert client.get("/api/v1/settings", headers=bearer(theo_key())).json()["timezone"] == "UTC"
    entry = client.get("/api/v1/audit?limit=1", headers=bearer(key)).json()["events"][0]
    assert entry["action"] == "settings.updated" and entry["inputSummary"] == {"timezone": "Europe/Paris",
                                                                              "theo_branding": False}
    assert entry["outputSummary"]["before"]["timezone"] == "UTC"
    assert entry["outputSummary"]["after"]["timezone"] == "Europe/Paris"
    voice = client.post("/api/v1/voice/token", headers=bearer(key)).json()
    assert "Europe/Paris" in voice["systemInstruction"]


@pytest.mark.parametrize("body", [{"timezone": "Mars/Olympus"}, {"timezone": ""}, {"timezone": 3},
                                  {"default_mode": "warp"}, {"personality": "grumpy"}, {"theo_branding": "yes"},
                                  {"theo_branding": 1}, {"timezone": "x" * 65}, ["timezone"]])
def test_bad_settings_are_400_and_change_nothing(client, body):
    key = theo_key()
    before = held(client, key)
    theo_error(client.patch("/api/v1/settings", headers=bearer(key), json=body), 400, "validation_error")
    assert held(client, key) == before
    assert client.get("/api/v1/settings", headers=bearer(key)).json()["timezone"] == "UTC"


# ---- tools and benchmarks ----

def test_tools_list_the_built_in_ones(client):
    tools = client.get("/api/v1/tools", headers=bearer(theo_key())).json()["tools"]
    assert [t["name"] for t in tools][:3] == ["web_search", "browse_page", "generate_image"]
    assert all({"name", "description", "inputSchema", "category", "permissionLevel", "requiresApproval"} <= set(t)
               for t in tools)
    assert {t["skillId"] for t in tools} == {None}


def test_benchmarks_measure_this_tenants_completions_in_the_window(client):
    key = theo_key()
    empty = client.get("/api/v1/benchmarks", headers=bearer(key)).json()
    assert empty["window"] == "24h" and empty["latency_by_mode"] == {} and empty["classification"] is None
    assert empty["counters"]["total"] == 0 and empty["counters"]["routing_accuracy"] is None
    complete(client, key, "Say hello")
    complete(client, key, "Write a python parser", mode="code")
    client.post("/api/v1/completions", headers=bearer(key), json={"prompt": "hi", "stream": True})
    complete(client, theo_key(), "someone else's")
    body = client.get("/api/v1/benchmarks", headers=bearer(key)).json()
    assert body["counters"]["total"] == 3 and body["counters"]["routing_accuracy"] == 1.0
    assert set(body["latency_by_mode"]) == {"fast", "code"} and body["latency_by_mode"]["fast"]["count"] == 2
    assert body["ttft_by_mode"]["fast"]["count"] == 1 and body["classification"]["count"] == 2
    assert body["counters"]["by_mode"] == {"code": 1, "fast": 2} and body["counters"]["total_tokens"] > 0
    advance(client, 2 * 86_400)
    assert client.get("/api/v1/benchmarks", headers=bearer(key)).json()["counters"]["total"] == 0
    week = client.get("/api/v1/benchmarks?window=7d", headers=bearer(key)).json()
    assert week["counters"]["total"] == 3 and week["bucket"] == "2025-05-03T00"  # the hour it was aggregated in
    for window in ("1y", "24H", "24h\r\n", "24h "):
        theo_error(client.get("/api/v1/benchmarks", params={"window": window}, headers=bearer(key)), 400,
                   "validation_error")


# ---- rate limits ----

def test_rate_limits_off_by_default_answer_unlimited(client):
    body = client.get("/api/v1/rate-limits", headers=bearer(theo_key())).json()
    assert body["tier"] == "unlimited" and body["limits"] is None and body["usage"] is None
    assert body["pending_request"] is None and body["window_seconds"] == 60


def test_rate_limits_of_a_tier_and_an_increase_request():
    with TestClient(create_app(Settings(clock=START, seed=0, theo_rate_limit="free"))) as client:
        key = theo_key()
        body = client.get("/api/v1/rate-limits", headers=bearer(key)).json()
        assert body["tier"] == "free" and body["limits"] == {"requests_per_minute": 60, "tokens_per_minute": 100_000}
        assert body["mode_limits"]["text"] == 60 and body["mode_limits"]["video"] < 60
        assert body["usage"]["remaining_requests"] == 59
        asked = client.post("/api/v1/rate-limits/request-increase", headers=bearer(key),
                            json={"requested_tier": "pro", "use_case": "A support bot", "expected_volume": 50_000})
        assert asked.status_code == 202 and asked.json()["submitted"] is True
        request = asked.json()["request"]
        assert request["status"] == "pending" and request["expected_volume"] == "50000"
        after = client.get("/api/v1/rate-limits", headers=bearer(key)).json()
        assert after["pending_request"] == request and after["usage"]["remaining_requests"] == 57
        assert client.get("/api/v1/rate-limits", headers=bearer(theo_key())).json()["pending_request"] is None


@pytest.mark.parametrize("body", [{}, {"requested_tier": "free", "use_case": "x"}, {"requested_tier": "pro"},
                                  {"requested_tier": "pro", "use_case": ""}, {"requested_tier": "pro",
                                                                              "use_case": "x" * 2001},
                                  {"requested_tier": "pro", "use_case": "x", "expected_volume": [1]}])
def test_bad_increase_requests_are_400(client, body):
    key = theo_key()
    theo_error(client.post("/api/v1/rate-limits/request-increase", headers=bearer(key), json=body), 400,
               "validation_error")
    assert client.get("/api/v1/rate-limits", headers=bearer(key)).json()["pending_request"] is None


# ---- billing ----

def test_a_checkout_is_a_page_of_the_emulator_that_adds_credits(client):
    key = theo_key()
    client.put("/_emu/theo/account", json={"key": key, "credits": 1})
    made = client.post("/api/v1/billing/checkout", headers=bearer(key),
                       json={"amount_cents": 2500, "success_url": "https://example.com/thanks"}).json()
    assert made["scope"] == "user" and made["checkout_url"] == f"http://testserver/_emu/theo/billing/{made['id']}"
    page = client.get(f"/_emu/theo/billing/{made['id']}")
    assert page.status_code == 200 and "Checkout of 25.00 USD" in page.text and "Complete checkout" in page.text
    done = client.post(f"/_emu/theo/billing/{made['id']}/complete").json()
    assert done["status"] == "complete" and done["creditsAddedCents"] == 2500 and done["balanceCents"] == 2501
    assert done["successUrl"] == "https://example.com/thanks"
    assert client.post(f"/_emu/theo/billing/{made['id']}/complete").json()["creditsAddedCents"] == 0  # once
    late = client.post("/api/v1/billing/checkout", headers=bearer(key), json={"amount_cents": 500}).json()
    advance(client, 86_401)
    assert client.post(f"/_emu/theo/billing/{late['id']}/complete").json()["status"] == "expired"
    portal = client.post("/api/v1/billing/portal", headers=bearer(key), json={}).json()
    assert portal["portal_url"].endswith(portal["id"]) and portal["scope"] == "user"
    assert "Billing portal" in client.get(f"/_emu/theo/billing/{portal['id']}").text
    assert client.get("/_emu/theo/billing/cs_unknown").status_code == 404


def test_org_billing_needs_an_org_key(client):
    key = theo_key()
    for path, body in (("/api/v1/billing/checkout", {"amount_cents": 1000, "scope": "org"}),
                       ("/api/v1/billing/portal", {"scope": "org"})):
        theo_error(client.post(path, headers=bearer(key), json=body), 409, "team_billing_setup_required")
    org = client.post("/api/v1/orgs", headers=bearer(key), json={"name": "Acme"}).json()
    org_key = client.post("/api/v1/keys", headers=bearer(key), json={"org_id": org["id"]}).json()["secret"]
    assert client.post("/api/v1/billing/portal", headers=bearer(org_key), json={"scope": "org"}).json()[
        "scope"] == "org"


@pytest.mark.parametrize("body", [{}, {"amount_cents": 499}, {"amount_cents": 10_000_001}, {"amount_cents": "1000"},
                                  {"amount_cents": 1000.5}, {"amount_cents": True}, {"amount_cents": 10 ** 30},
                                  {"amount_cents": 1000, "scope": "team"},
                                  {"amount_cents": 1000, "success_url": "javascript:alert(1)"}])
def test_bad_checkouts_are_400(client, body):
    theo_error(client.post("/api/v1/billing/checkout", headers=bearer(theo_key()), json=body), 400,
               "validation_error")


# ---- voice and channels ----

def test_a_voice_token_lives_thirty_virtual_minutes(client):
    key = theo_key()
    first = client.post("/api/v1/voice/token", headers=bearer(key)).json()
    assert first["token"].startswith("theo_voice_") and first["expiresAt"] == "2025-05-01T00:30:00.000Z"
    assert first["systemInstruction"].startswith("You are Theo")
    names = [d["name"] for d in first["tools"][0]["functionDeclarations"]]
    assert names == ["search_web", "create_task"]
    second = client.post("/api/v1/voice/token", headers=bearer(key), json={}).json()
    assert second["token"] != first["token"]
    client.patch("/api/v1/settings", headers=bearer(key), json={"personality": "none"})
    assert not client.post("/api/v1/voice/token", headers=bearer(key)).json()["systemInstruction"].startswith(
        "You are Theo")


def test_channels_are_listed_unconfigured(client):
    channels = client.get("/api/v1/channels", headers=bearer(theo_key())).json()["channels"]
    assert [c["type"] for c in channels] == ["telegram", "whatsapp", "slack", "discord"]
    assert {c["status"] for c in channels} == {"unconfigured"} and not any(c["connected"] for c in channels)
