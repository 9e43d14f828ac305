"""GET /api/v1/health, GET /api/v1/models, GET /api/v1/openapi.json, and Theo fixture files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import START, advance
from starlette.testclient import TestClient
from theo_support import bearer, complete, theo_error, theo_key

from theazo_emu import create_app
from theazo_emu.fixtures.loader import FixtureError, load_dir
from theazo_emu.settings import Settings


def test_health_needs_no_key_ignores_a_bad_one_and_is_cached_30_seconds(client):
    first = client.get("/api/v1/health")
    assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
    assert first.json() == {"status": "healthy", "timestamp": "2025-05-01T00:00:00.000Z", "version": "2026-03-28",
                            "providers": {"theo-core": {"status": "healthy", "latencyMs": 45},
                                          "theo-vision": {"status": "healthy", "latencyMs": 120},
                                          "theo-search": {"status": "healthy", "latencyMs": 89}},
                            "infrastructure": {"database": {"status": "healthy", "latencyMs": 3},
                                               "redis": {"status": "healthy", "latencyMs": 1}}}
    advance(client, 29)
    cached = client.get("/api/v1/health", headers=bearer("theo_sk_live_not_a_key"))
    assert cached.status_code == 200 and cached.headers["x-cache"] == "HIT"
    assert cached.json()["timestamp"] == first.json()["timestamp"]
    advance(client, 1)
    fresh = client.get("/api/v1/health")
    assert fresh.headers["x-cache"] == "MISS" and fresh.json()["timestamp"] == "2025-05-01T00:00:30.000Z"


def test_health_reports_what_the_admin_api_sets_and_down_is_503_with_retry_after(client):
    degraded = client.put("/_emu/theo/health", json={"status": "degraded", "providers": {"theo-vision": "down"}})
    assert degraded.status_code == 200
    body = client.get("/api/v1/health").json()
    assert body["status"] == "degraded" and body["providers"]["theo-vision"] == {"status": "down", "latencyMs": None}
    client.put("/_emu/theo/health", json={"status": "down"})
    down = client.get("/api/v1/health")
    assert down.status_code == 503 and down.headers["retry-after"] == "30" and down.json()["status"] == "down"
    assert client.put("/_emu/theo/health", json={"status": "sleepy"}).status_code == 422
    client.post("/_emu/reset", json={})
    assert client.get("/api/v1/health").json()["status"] == "healthy"


def test_models_lists_the_fourteen_engines_in_theos_shape_and_openais(client):
    body = client.get("/api/v1/models", headers=bearer(theo_key())).json()
    ids = [m["model_id"] for m in body["models"]]
    assert ids == ["theo-1-auto", "theo-1-flash", "theo-1-reason", "theo-1-code", "theo-1-create", "theo-1-motion",
                   "theo-1-research", "theo-1-edge", "theo-1-genui", "theo-1-analyze", "theo-1-extract",
                   "theo-1-stealth", "theo-1-stealth-create", "theo-1-stealth-motion"]
    assert body["models"][1] == {"mode": "fast", "model_id": "theo-1-flash", "label": "Theo Flash",
                                 "engine": "theo-core", "description": "Fast, lightweight completions for simple tasks"}
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ids
    assert body["data"][0]["object"] == "model" and body["data"][0]["owned_by"] == "theo"


def test_the_openapi_document_describes_every_theo_route_and_its_envelope(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"] == "3.1.0" and document["info"]["title"].startswith("Theo API")
    assert all(path.startswith("/api/v1/") for path in document["paths"])
    post = document["paths"]["/api/v1/completions"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CreateCompletion"}
    schemas = document["components"]["schemas"]
    assert "prompt" in schemas["CreateCompletion"]["required"]
    assert schemas["CreateCompletion"]["properties"]["mode"]["default"] == "auto"
    assert "messages" in schemas["CreateChatCompletion"]["required"]
    assert set(schemas["Error"]["properties"]["error"]["required"]) == {"message", "type", "code", "request_id"}
    assert document["components"]["securitySchemes"]["bearer"]["bearerFormat"] == "theo_sk_test_..."
    assert document["paths"]["/api/v1/health"]["get"]["security"] == []
    assert document["paths"]["/api/v1/keys/{key_id}"]["put"]["parameters"][0]["name"] == "key_id"


FIXTURE = '''
[[theoKeys]]
key = "theo_sk_test_billed"
credits = 10
lowCredits = 2
rateLimit = 2

[[theoKeys]]
key = "theo_sk_test_readonly"
scopes = ["billing"]

[[theoKeys]]
key = "theo_sk_test_gone"
revoked = true

[[completions]]
match = { prompt = "status", key = "theo_sk_test_billed" }
content = "All systems go."
'''


def test_fixture_files_declare_theo_keys_and_completions_and_a_reset_restores_them(tmp_path):
    (tmp_path / "theo.toml").write_text(FIXTURE)
    with TestClient(create_app(Settings(clock=START, fixtures=tmp_path))) as client:
        account = client.get("/_emu/theo/account", params={"key": "theo_sk_test_billed"}).json()
        assert account["balanceCents"] == 10 and account["lowThresholdCents"] == 2
        assert account["rateLimit"] == {"requests": 2, "tokens": 3333}
        assert complete(client, "theo_sk_test_billed", "status?")["content"] == "All systems go."
        assert complete(client, theo_key(), "status?")["content"] != "All systems go."
        assert client.get("/api/v1/models", headers=bearer("theo_sk_test_billed")).status_code == 200  # 2 a minute
        theo_error(client.get("/api/v1/models", headers=bearer("theo_sk_test_billed")), 429, "rate_limit_exceeded")
        theo_error(client.post("/api/v1/completions", headers=bearer("theo_sk_test_readonly"),
                               json={"prompt": "x"}), 403, "insufficient_scope")
        theo_error(client.get("/api/v1/usage", headers=bearer("theo_sk_test_gone")), 401, "invalid_api_key")
        client.put("/_emu/theo/account", json={"key": "theo_sk_test_billed"})  # changed at run time...
        assert client.post("/_emu/reset", json={}).json()["seededKeys"] == 3
        after = client.get("/_emu/theo/account", params={"key": "theo_sk_test_billed"}).json()
        assert after["balanceCents"] == 10 and after["rateLimit"]["requests"] == 2  # ...and restored by a reset
        assert client.get("/api/v1/conversations", headers=bearer("theo_sk_test_billed")).json()[
            "conversations"] == []


@pytest.mark.parametrize("text,expected", [
    ('[[completions]]\ncontent = "ab"\nchunks = ["a"]\n', "'chunks' must join to exactly 'content'"),
    ('[[completions]]\ncontent = "x"\nerror = "server_error"\n', "an 'error' without 'afterTokens'"),
    ('[[completions]]\nmatch = { mode = "warp" }\n', "completions[0].match.mode"),
    ('[[completions]]\nresolvedMode = "auto"\n', "not auto itself"),
    ('[[completions]]\nmatch = { key = "th_test_x" }\n', "must be a Theo test key"),
    ('[[theoKeys]]\nkey = "theo_sk_test_a"\nscopes = ["root"]\n', "theoKeys[0].scopes"),
    ('[[theoKeys]]\nkey = "theo_sk_test_a"\n[[theoKeys]]\nkey = "theo_sk_test_a"\n', "key declared twice"),
    ('[[completions]]\ncolour = "red"\n', "unknown field 'colour'"),
])
def test_theo_fixture_problems_name_the_file_the_field_and_the_problem(tmp_path, text, expected):
    (tmp_path / "f.toml").write_text(text)
    with pytest.raises(FixtureError) as raised:
        load_dir(Path(tmp_path))
    assert expected in str(raised.value) and "f.toml:" in str(raised.value)


def test_the_example_theo_fixtures_answer_as_their_file_says():
    examples = Path(__file__).resolve().parent.parent / "fixtures"
    with TestClient(create_app(Settings(clock=START, fixtures=examples))) as client:
        assert complete(client, theo_key(), "Can I get a refund?")["content"] == \
            "Refunds are issued within 5 business days."
        theo_error(client.post("/api/v1/completions", headers=bearer(theo_key()),
                               json={"prompt": "a forbidden topic"}), 422, "guardrail_violation")
        tool = {"type": "function", "function": {"name": "get_weather", "description": "Weather"}}
        ask = [{"role": "user", "content": "How is the weather?"}]
        first = client.post("/api/v1/chat/completions", headers=bearer(theo_key()),
                            json={"messages": ask, "tools": [tool]}).json()["choices"][0]["message"]
        assert first["tool_calls"][0]["function"]["arguments"] == '{"city":"Lisbon"}'
        answered = client.post("/api/v1/chat/completions", headers=bearer(theo_key()), json={"tools": [tool], "messages": [
            *ask, first, {"role": "tool", "tool_call_id": first["tool_calls"][0]["id"], "content": "21°C"}]}).json()
        assert answered["choices"][0]["message"]["content"] == "It is mild in Lisbon today."
        frames = client.post("/api/v1/completions", headers=bearer(theo_key()),
                             json={"prompt": "STREAM_ERROR", "stream": True}).text
        assert frames.count("event: token") == 3 and "event: error" in frames
        theo_error(client.get("/api/v1/models", headers=bearer("theo_sk_test_revoked")), 401, "invalid_api_key")
        theo_error(client.post("/api/v1/completions", headers=bearer("theo_sk_test_readonly"),
                               json={"prompt": "x"}), 403, "insufficient_scope")
        billed = "theo_sk_test_billed"
        while client.post("/api/v1/completions", headers=bearer(billed),
                          json={"prompt": "x", "mode": "image"}).status_code == 200:
            pass
        assert client.get("/_emu/theo/account", params={"key": billed}).json()["balanceCents"] <= 0
        assert [e["type"] for e in client.get("/_emu/theo/events", params={"key": billed, "type": "credits.low"})
                .json()["data"]] == ["credits.low"]


def test_the_not_emulated_page_lists_the_theo_endpoints_not_served_yet(app):
    import re

    from theazo_emu.app import api_routes
    from theazo_emu.core.catalog import THEO, endpoints

    readme = (Path(__file__).resolve().parent.parent / "docs" / "not-emulated.md").read_text()
    section = readme.split("## Not emulated (yet)", 1)[1].split("\n## ", 1)[0]
    bullets = "\n".join(line for line in section.splitlines() if line.startswith("- **theo/"))
    listed = set(re.findall(r"`((?:GET|POST|PUT|PATCH|DELETE) /api/v1/[^`]+)`", bullets))
    served = {f"{m} {re.sub(r'{[^}]+}', ':_', r.path)}" for r in api_routes(app) for m in r.methods - {"HEAD"}}
    missing = {f"{m} {p}" for m, p, _ in endpoints(THEO) if f"{m} {re.sub(r':[A-Za-z]+', ':_', p)}" not in served}
    assert listed == missing and "POST /api/v1/voice/action" in listed and "POST /api/v1/completions" not in listed
