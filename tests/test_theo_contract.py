"""The Theo surface's contract around every route: keys, the envelope, version headers,
CORS and Idempotency-Key, in process (real sockets: test_theo_server.py)."""

from __future__ import annotations

import pytest
from conftest import advance
from theo_support import bearer, complete, held, theo_error, theo_key

from theazo_emu.app import api_routes
from theazo_emu.core.auth import tenant_of
from theazo_emu.theo.domain import idempotency

ROUTES = [r for r in api_routes() if r.surface.name == "theo"]
PROTECTED = [(r, m) for r in ROUTES if not r.public for m in sorted(r.methods - {"HEAD"})]


def _path(route) -> str:  # noqa: ANN001
    return route.path.replace("{", "").replace("}", "")


def test_the_sweeps_see_every_theo_route():
    paths = {r.path for r in ROUTES}
    assert {"/api/v1/completions", "/api/v1/chat/completions", "/api/v1/keys", "/api/v1/health",
            "/api/v1/conversations/{conversation_id}", "/api/v1/audit/export", "/api/v1/usage",
            "/api/v1/openapi.json", "/api/v1/models"} <= paths
    # Public: health, the OpenAPI document, the two whose signed URL is the credential, and
    # a widget's embed page (its id is on every page that pastes the snippet).
    assert {r.path for r in ROUTES if r.public} == {"/api/v1/health", "/api/v1/openapi.json",
                                                    "/api/v1/documents/{document_id}/download",
                                                    "/api/v1/embed/browser/{session_id}",
                                                    "/api/v1/embed/iframes/{iframe_id}"}


@pytest.mark.parametrize("route,method", PROTECTED, ids=lambda v: getattr(v, "path", v))
@pytest.mark.parametrize("authorization", [None, "Bearer th_test_theazo_key", "Bearer theo_sk_live_abc",
                                           "Basic theo_sk_test_x", "Bearer theo_sk_", "Bearer"])
def test_protected_routes_answer_401_invalid_api_key_in_theo_envelope(client, route, method, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.request(method, _path(route), headers=headers, json={})
    theo_error(response, 401, "invalid_api_key")
    assert response.headers["theo-version"] == "2026-03-28"


@pytest.mark.parametrize("route,method", [(r, m) for r in ROUTES for m in sorted(r.methods - {"HEAD"})],
                         ids=lambda v: getattr(v, "path", v))
def test_every_route_answers_with_request_id_version_and_cors_headers(client, route, method):
    response = client.request(method, _path(route), headers=bearer(theo_key()),
                              json={} if method != "GET" else None)
    assert response.headers["x-request-id"].startswith("req_")
    assert response.headers["theo-version"] == response.headers["theo-api-version"] == "2026-03-28"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "theo-deprecation" not in response.headers


def test_a_theo_key_on_v1_is_theazos_401_and_a_theazo_key_here_is_theos(client):
    v1 = client.get("/v1/sessions", headers=bearer("theo_sk_test_x"))
    assert v1.status_code == 401 and v1.json()["error"]["code"] == "unauthorized" and "requestId" in v1.json()
    theo_error(client.get("/api/v1/models", headers=bearer("th_test_x")), 401, "invalid_api_key")


def test_each_test_key_is_its_own_tenant(client):
    one, two = theo_key(), theo_key()
    made = complete(client, one)
    assert client.get("/api/v1/conversations", headers=bearer(two)).json()["conversations"] == []
    theo_error(client.get(f"/api/v1/conversations/{made['conversation_id']}", headers=bearer(two)), 404, "not_found")
    theo_error(client.delete(f"/api/v1/conversations/{made['conversation_id']}", headers=bearer(two)), 404,
               "not_found")
    assert len(client.get("/api/v1/conversations", headers=bearer(one)).json()["conversations"]) == 1


def test_unknown_paths_wrong_methods_and_unserved_catalogue_endpoints(client):
    auth = bearer(theo_key())
    theo_error(client.get("/api/v1/nothing-here", headers=auth), 404, "not_found")
    theo_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    response = client.put("/api/v1/completions", headers=auth, json={})
    theo_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"
    error = theo_error(client.post("/api/v1/voice/action", headers=auth, json={}), 501, "not_implemented")
    assert "POST /api/v1/voice/action" in error["message"]


# ---- versions ----

def test_an_older_api_version_gets_theo_deprecation_a_current_or_newer_one_does_not(client):
    auth = bearer(theo_key())
    old = client.get("/api/v1/models", headers={**auth, "Theo-Api-Version": "2025-12-01"})
    assert old.status_code == 200
    assert old.headers["theo-deprecation"] == 'version="2025-12-01"; current="2026-03-28"'
    for version in ("2026-03-28", "2027-01-01"):
        response = client.get("/api/v1/models", headers={**auth, "Theo-Api-Version": version})
        assert response.status_code == 200 and "theo-deprecation" not in response.headers


@pytest.mark.parametrize("version", ["yesterday", "2026-13-01", "2026-3-28", "", "2026-03-28T00:00:00Z"])
def test_a_malformed_api_version_is_400_and_changes_nothing(client, version):
    key = theo_key()
    before = held(client, key)
    response = client.post("/api/v1/completions", headers={**bearer(key), "Theo-Api-Version": version},
                           json={"prompt": "hi"})
    theo_error(response, 400, "validation_error")
    assert response.headers["theo-version"] == "2026-03-28"
    assert held(client, key) == before


# ---- CORS ----

def test_a_default_origin_is_echoed_with_vary_and_exposed_headers(client):
    response = client.get("/api/v1/models", headers={**bearer(theo_key()), "Origin": "https://docs.hitheo.ai"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://docs.hitheo.ai"
    assert response.headers["vary"] == "Origin"
    assert "X-Request-Id" in response.headers["access-control-expose-headers"]


def test_an_origin_not_allowed_is_403_without_cors_headers_and_changes_nothing(client):
    key = theo_key()
    before = held(client, key)
    response = client.post("/api/v1/completions", headers={**bearer(key), "Origin": "https://evil.example"},
                           json={"prompt": "hi"})
    theo_error(response, 403, "origin_not_allowed")
    assert "access-control-allow-origin" not in response.headers
    assert held(client, key) == before


def test_a_keys_allowed_origins_take_priority_over_the_defaults(client):
    owner = theo_key()
    made = client.post("/api/v1/keys", headers=bearer(owner), json={"name": "web"}).json()
    updated = client.put(f"/api/v1/keys/{made['id']}", headers=bearer(owner),
                         json={"allowed_origins": ["http://localhost:5173"]})
    assert updated.status_code == 200 and updated.json()["allowed_origins"] == ["http://localhost:5173"]
    web = bearer(made["secret"])
    ok = client.get("/api/v1/models", headers={**web, "Origin": "http://localhost:5173"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "http://localhost:5173"
    theo_error(client.get("/api/v1/models", headers={**web, "Origin": "https://hitheo.ai"}), 403,
               "origin_not_allowed")
    # Other keys keep the defaults.
    theo_error(client.get("/api/v1/models", headers={**bearer(owner), "Origin": "http://localhost:5173"}), 403,
               "origin_not_allowed")


def test_a_preflight_is_answered_for_any_origin_and_tells_nothing_of_any_keys_list(client):
    """A preflight carries no key: answering it by what some key allows would let anyone probe
    other tenants' origins. The request that follows it, with its key, is checked."""
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}

    def ask(origin: str):  # noqa: ANN202
        return client.options("/api/v1/completions", headers={**preflight, "Origin": origin})

    ok = ask("https://hitheo.ai")
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == "https://hitheo.ai"
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert "Idempotency-Key" in ok.headers["access-control-allow-headers"]
    assert ok.headers["access-control-max-age"] == "86400"
    before = ask("http://localhost:3000")
    owner = theo_key()
    made = client.post("/api/v1/keys", headers=bearer(owner), json={"allowed_origins": ["http://localhost:3000"]})
    assert made.status_code == 201
    after = ask("http://localhost:3000")
    unknown = ask("https://nobody-allows-this.example")
    for answer in (before, after, unknown):
        assert answer.status_code == 204 and answer.headers["access-control-allow-origin"] == answer.request.headers[
            "origin"]
    assert {k: v for k, v in before.headers.items() if k not in ("access-control-allow-origin", "x-request-id")} == \
        {k: v for k, v in after.headers.items() if k not in ("access-control-allow-origin", "x-request-id")}
    # The request itself is where the key's list applies.
    web = bearer(made.json()["secret"])
    assert client.get("/api/v1/models", headers={**web, "Origin": "http://localhost:3000"}).status_code == 200
    theo_error(client.get("/api/v1/models", headers={**bearer(owner), "Origin": "http://localhost:3000"}), 403,
               "origin_not_allowed")


# ---- Idempotency-Key ----

def test_a_repeated_key_replays_the_stored_answer_and_runs_nothing(client):
    key = theo_key()
    headers = {**bearer(key), "Idempotency-Key": "order-1:a.b_c"}
    first = client.post("/api/v1/completions", headers=headers, json={"prompt": "hello"})
    assert first.status_code == 200 and "x-idempotent-replay" not in first.headers
    before = held(client, key)
    second = client.post("/api/v1/completions", headers=headers, json={"prompt": "hello"})
    assert second.status_code == 200 and second.headers["x-idempotent-replay"] == "true"
    assert second.content == first.content
    assert second.headers["x-request-id"] == first.headers["x-request-id"] == first.json()["request_id"]
    assert held(client, key) == before
    # The key's JSON is compared canonically: the same body in another key order is the same request.
    assert client.post("/api/v1/completions", headers=headers, content=b'{ "prompt" : "hello" }').headers[
        "x-idempotent-replay"] == "true"


def test_the_same_key_with_another_body_is_422_and_runs_nothing(client):
    key = theo_key()
    headers = {**bearer(key), "Idempotency-Key": "k1"}
    client.post("/api/v1/completions", headers=headers, json={"prompt": "hello"})
    before = held(client, key)
    theo_error(client.post("/api/v1/completions", headers=headers, json={"prompt": "other"}), 422,
               "idempotency_key_reused")
    theo_error(client.post("/api/v1/chat/completions", headers=headers,
                           json={"messages": [{"role": "user", "content": "hello"}]}), 422, "idempotency_key_reused")
    assert held(client, key) == before


def test_keys_are_per_tenant_and_expire_after_24_hours(client):
    one, two = theo_key(), theo_key()
    body = {"prompt": "hello"}
    first = client.post("/api/v1/completions", headers={**bearer(one), "Idempotency-Key": "same"}, json=body)
    other = client.post("/api/v1/completions", headers={**bearer(two), "Idempotency-Key": "same"}, json=body)
    assert "x-idempotent-replay" not in other.headers and other.json()["id"] != first.json()["id"]
    advance(client, 24 * 3600 - 1)
    assert client.post("/api/v1/completions", headers={**bearer(one), "Idempotency-Key": "same"},
                       json=body).headers["x-idempotent-replay"] == "true"
    advance(client, 2)
    fresh = client.post("/api/v1/completions", headers={**bearer(one), "Idempotency-Key": "same"}, json=body)
    assert "x-idempotent-replay" not in fresh.headers and fresh.json()["id"] != first.json()["id"]


@pytest.mark.parametrize("value", ["", "has space", "x" * 257, "semi;colon", "ümlaut"])
def test_a_malformed_key_is_400_and_runs_nothing(client, value):
    key = theo_key()
    before = held(client, key)
    response = client.post("/api/v1/completions", headers={**bearer(key), "Idempotency-Key": value.encode()},
                           json={"prompt": "hi"})
    theo_error(response, 400, "validation_error")
    assert held(client, key) == before


def test_a_key_of_256_characters_is_fine(client):
    response = client.post("/api/v1/completions", headers={**bearer(theo_key()), "Idempotency-Key": "k" * 256},
                           json={"prompt": "hi"})
    assert response.status_code == 200


def test_a_duplicate_while_the_first_still_runs_is_409_and_runs_nothing(client, emu):
    key = theo_key()
    body = b'{"prompt": "slow"}'
    claim = idempotency.claim(emu.tenant(tenant_of(key)), "busy-key",
                              idempotency.fingerprint("POST", "/api/v1/completions", "", body))
    assert claim.outcome == "run"  # as if a first request were running now
    before = held(client, key)
    response = client.post("/api/v1/completions", headers={**bearer(key), "Idempotency-Key": "busy-key"},
                           content=body)
    theo_error(response, 409, "conflict")
    assert response.headers["retry-after"] == "1"
    assert held(client, key) == before
    advance(client, 31)  # the 30-second lock of a request that never finished expires
    assert client.post("/api/v1/completions", headers={**bearer(key), "Idempotency-Key": "busy-key"},
                       content=body).status_code == 200


def test_errors_are_replayed_but_5xx_and_429_answers_are_not_stored(client):
    key = theo_key()
    headers = {**bearer(key), "Idempotency-Key": "e1"}
    missing = client.post("/api/v1/completions", headers=headers, json={"prompt": "x", "conversation_id": "conv_x"})
    theo_error(missing, 404, "not_found")
    replayed = client.post("/api/v1/completions", headers=headers, json={"prompt": "x", "conversation_id": "conv_x"})
    assert replayed.status_code == 404 and replayed.headers["x-idempotent-replay"] == "true"
    retry = {**bearer(key), "Idempotency-Key": "e2"}
    for fault in ("provider_error", "rate_limited"):
        failed = client.post("/api/v1/completions", headers={**retry, "X-Theazo-Emu-Fault": fault},
                             json={"prompt": "x"})
        assert failed.status_code in (502, 429)
    ok = client.post("/api/v1/completions", headers=retry, json={"prompt": "x"})
    assert ok.status_code == 200 and "x-idempotent-replay" not in ok.headers


def test_a_stream_is_replayed_frame_by_frame(client):
    headers = {**bearer(theo_key()), "Idempotency-Key": "s1"}
    first = client.post("/api/v1/completions", headers=headers, json={"prompt": "stream me", "stream": True})
    second = client.post("/api/v1/completions", headers=headers, json={"prompt": "stream me", "stream": True})
    assert second.headers["x-idempotent-replay"] == "true"
    assert second.headers["content-type"].startswith("text/event-stream")
    assert second.text == first.text and "event: done" in second.text


def test_a_get_ignores_the_idempotency_key(client):
    response = client.get("/api/v1/models", headers={**bearer(theo_key()), "Idempotency-Key": "bad key!"})
    assert response.status_code == 200
