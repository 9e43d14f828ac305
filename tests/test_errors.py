"""Contract sweeps over the route table, and the error paths every client relies on.

The sweeps are parametrised over `app.routes` (every `ApiRoute`), so a route added later
is covered without touching this file: auth (401/403), X-Request-Id, 413, 422 for bodies,
405 and 404 in the envelope, tenants that cannot see each other, and the 500 envelope.
Bad input must leave the state as it was; `_state()` is what the tests compare.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

import pytest
from conftest import assert_error, make_agent, make_session
from starlette.routing import compile_path
from starlette.testclient import TestClient

from theazo_emu.app import api_routes
from theazo_emu.core.catalog import THEAZO as THEAZO_CATALOG
from theazo_emu.core.catalog import known
from theazo_emu.core.http import ApiRoute


def _route_table() -> list[ApiRoute]:
    """The routes answering in Theazo's envelope (Theazo's and the admin API's)."""
    return [route for route in api_routes() if route.surface.name != "theo"]


ROUTES = _route_table()
DUMMY = {"session_id": "ses_01JT4J97000000012Y7ZM38QJT", "agent_id": "agt_01JT4J97000000024DT7WQJ49N",
         "user_id": "user_1"}
TWO_MIB = b"{" + b" " * (2 * 1024 * 1024) + b"}"
JSON = {"Content-Type": "application/json"}
# Public routes the design allows (DESIGN.md, "API keys and tenants"); everything else needs a key.
# Signed or capability URLs (file downloads, hosted billing pages) are public too: the id or
# signature in the URL is their credential. The sandbox bridge's credential is the agent and
# session ids its body names.
PUBLIC_ALLOWED = re.compile(r"^(/_emu/.*|/v1/openapi\.json|/v1/triggers/\{\w+\}/fire|/v1/channels/\{\w+\}/(messages|stream)"
                            r"|/v1/files/\{\w+\}/content|/v1/billing/(checkout|portal)/\{\w+\}"
                            r"|/v1/sandbox/(log|model|span|progress|complete))$")
# Bodies that pass validation, for routes whose model needs more than {}.
VALID_BODIES = {"RunAgent": {"task": "do it"}, "ExecCode": {"lang": "python", "code": "print(1)"},
                "ClockAdvance": {"seconds": 1}, "WriteFile": {"path": "/data/a.txt", "data": "x"},
                "CreateCheckpoint": {"phase": "p"}, "SessionRun": {"agent": "a", "task": "t"},
                "SubmitTask": {"agent": "a", "input": {}}, "SendInput": {"type": "t", "content": "c"},
                "ExposePort": {"port": 8080}, "SetSecrets": {"name": "N", "value": "v"},
                "CreateTeam": {"name": "n", "coordination": "sequential", "agents": [{"role": "r", "agent": "a"}]}}


def _path(route: ApiRoute, values: dict[str, str] | None = None) -> str:
    values = {**DUMMY, **(values or {})}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], f"{m[1]}_1"), route.path_format)


def _methods(route: ApiRoute) -> list[str]:
    return sorted(set(route.methods or ()) - {"HEAD"})


def _cases(keep=lambda route, method: True) -> list:
    return [pytest.param(route, method, id=f"{method} {route.path}")
            for route in ROUTES for method in _methods(route) if keep(route, method)]


def _valid_body(route: ApiRoute) -> dict | None:
    """A body the route's model accepts, or None when we have none for it."""
    if route.body_model is None:
        return {}
    body = VALID_BODIES.get(route.body_model.__name__, {})
    try:
        route.body_model.model_validate(body)
    except ValueError:
        return None
    return body


def _is_endless_stream(route: ApiRoute) -> bool:
    # A stream with no path id to 404 on would stay open; the in-process client cannot end it.
    return "stream" in route.path and "{" not in route.path


def _state(client, auth) -> list:
    """Everything a bad request must not change, as the tenant sees it."""
    return [client.get(path, headers=auth).json()
            for path in ("/v1/sessions", "/v1/agents", "/v1/usage/summary", "/_emu/clock")]


@pytest.fixture
def world(client, auth) -> dict[str, str]:
    """A session with an agent, as path values for the route table."""
    session = make_session(client, auth, limits={"maxAgents": 5})
    agent = make_agent(client, auth, session["id"])
    return {"session_id": session["id"], "agent_id": agent["id"], "user_id": "newcomer"}


# ---- the route table itself ----

def test_the_sweeps_see_the_routes():
    paths = {r.path for r in ROUTES}
    assert {"/v1/sessions", "/v1/agents/{agent_id}/run", "/v1/usage/summary"} <= paths


@pytest.mark.parametrize("route", [r for r in ROUTES if r.public], ids=lambda r: r.path)
def test_public_routes_are_only_the_ones_the_design_allows(route):
    assert PUBLIC_ALLOWED.match(route.path_format), route.path


# ---- authentication ----

@pytest.mark.parametrize("authorization", [None, "Bearer not_a_key", "Bearer th_test_", "Bearer ", "th_test_abc",
                                           "Basic th_test_abc", "Token th_test_abc", "Bearer th_test_a b"])
@pytest.mark.parametrize(("route", "method"), _cases(lambda route, method: not route.public))
def test_protected_routes_answer_401_without_a_valid_key(client, route, method, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.request(method, _path(route), json={} if method != "GET" else None, headers=headers)
    body = assert_error(response, 401, "unauthorized")
    assert "API key" in body["error"]["message"]


@pytest.mark.parametrize(("route", "method"), _cases(lambda route, method: not route.public))
def test_protected_routes_refuse_live_keys_with_403(client, route, method):
    response = client.request(method, _path(route), json={} if method != "GET" else None,
                              headers={"Authorization": "Bearer th_live_abc123"})
    body = assert_error(response, 403, "forbidden")
    assert "test keys" in body["error"]["message"]


def test_a_refused_request_changes_nothing(client, auth, world):
    before = _state(client, auth)
    client.post(f"/v1/sessions/{world['session_id']}/terminate", headers={"Authorization": "Bearer th_live_x"})
    client.post("/v1/sessions", json={"userId": "u"})
    assert _state(client, auth) == before


def test_scheme_is_case_insensitive(client, key):
    assert client.get("/v1/sessions", headers={"Authorization": f"bearer {key}"}).status_code == 200


# ---- request ids ----

@pytest.mark.parametrize(("route", "method"), _cases(lambda route, method: not _is_endless_stream(route)))
def test_every_route_answers_with_an_x_request_id(client, auth, route, method):
    response = client.request(method, _path(route), json={} if method != "GET" else None, headers=auth)
    assert re.fullmatch(r"req_[0-9A-Z]{26}", response.headers["x-request-id"]), response.headers


def test_request_ids_differ_between_requests(client, auth):
    ids = {client.get("/v1/sessions", headers=auth).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_a_successful_response_carries_a_request_id_too(client, auth):
    response = client.post("/v1/sessions", json={"userId": "u"}, headers=auth)
    assert response.status_code == 201
    assert response.headers["x-request-id"].startswith("req_")


# ---- unknown paths and wrong methods ----

@pytest.mark.parametrize("path", ["/v1", "/v1/nothing-here", "/v1/sessions/ses_x/nothing", "/v2/sessions",
                                  "/_emu/nothing"])
def test_unknown_path_is_404_in_the_envelope(client, auth, path):
    body = assert_error(client.get(path, headers=auth), 404, "not_found")
    assert path in body["error"]["message"]


def test_the_root_leads_a_browser_to_the_inspector_and_anything_else_there_is_404(client, auth):
    root = client.get("/", headers=auth, follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/_emu/ui"
    body = assert_error(client.post("/", headers=auth), 404, "not_found")
    assert "/" in body["error"]["message"]


def test_unknown_path_is_404_even_without_a_key(client):
    assert_error(client.post("/v1/nothing-here"), 404, "not_found")


def _methods_by_path() -> dict[str, set[str]]:
    table: dict[str, set[str]] = defaultdict(set)
    for route in ROUTES:
        table[route.path_format] |= set(route.methods or ())
    return table


@pytest.mark.parametrize(("path_format", "allowed"), [pytest.param(path, methods, id=path)
                                                     for path, methods in sorted(_methods_by_path().items())])
def test_wrong_method_is_405_in_the_envelope_with_allow(client, auth, path_format, allowed):
    path = re.sub(r"\{(\w+)\}", lambda m: DUMMY.get(m[1], "x_1"), path_format)
    # Allow names every route the concrete path matches: /v1/approvals/bulk-approve is also
    # /v1/approvals/{approval_id}, whose GET is allowed there too.
    for route in ROUTES:
        if compile_path(route.path)[0].match(path):
            allowed = allowed | set(route.methods or ())
    # A method the catalogue knows but the emulator does not serve is a 501, not a 405.
    method = next(m for m in ("DELETE", "PUT", "PATCH", "POST", "GET") if m not in allowed and not known(THEAZO_CATALOG, m, path))
    response = client.request(method, path, headers=auth)
    body = assert_error(response, 405, "method_not_allowed")
    assert method in body["error"]["message"]
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


# ---- bodies: size, JSON, validation ----

# Routes declaring their own, larger limit (the state import) test it beside their own code.
@pytest.mark.parametrize(("route", "method"), _cases(lambda route, method: method in ("POST", "PATCH", "PUT")
                                                     and route.max_body is None))
def test_body_over_the_limit_is_413_and_changes_nothing(client, auth, world, route, method):
    before = _state(client, auth)
    response = client.request(method, _path(route, world), content=TWO_MIB, headers={**auth, **JSON})
    body = assert_error(response, 413, "payload_too_large")
    assert "exceeds" in body["error"]["message"]
    assert _state(client, auth) == before


def test_chunked_body_over_the_limit_is_413(client, auth):
    def chunks():
        for _ in range(3):
            yield b" " * (1024 * 1024)

    response = client.post("/v1/sessions", content=chunks(), headers={**auth, **JSON})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")
    assert client.get("/v1/sessions", headers=auth).json()["data"] == []


def test_body_just_under_the_limit_is_read(client, auth):
    padding = " " * (1024 * 1024 - 100)
    response = client.post("/v1/sessions", content=f'{{"userId": "u"{padding}}}'.encode(), headers={**auth, **JSON})
    assert response.status_code == 201


BODY_ROUTES = _cases(lambda route, method: route.body_model is not None)


@pytest.mark.parametrize(("route", "method"), BODY_ROUTES)
@pytest.mark.parametrize("raw", [b"{not json", b'{"a": 1,}', b"\xff\xfe", b'{"a": 1'], ids=repr)
def test_malformed_json_is_422_and_changes_nothing(client, auth, world, route, method, raw):
    before = _state(client, auth)
    response = client.request(method, _path(route, world), content=raw, headers={**auth, **JSON})
    body = assert_error(response, 422, "unprocessable_entity")
    assert body["error"]["message"] == "Malformed JSON in request body."
    assert body["error"]["details"]["fields"][0]["field"] == "body"
    assert _state(client, auth) == before


@pytest.mark.parametrize(("route", "method"), BODY_ROUTES)
@pytest.mark.parametrize("value", [[], [{"userId": "u"}], "text", 42, None], ids=repr)
def test_a_json_body_that_is_not_an_object_is_422(client, auth, world, route, method, value):
    before = _state(client, auth)
    response = client.request(method, _path(route, world), content=json.dumps(value).encode(),
                              headers={**auth, **JSON})
    body = assert_error(response, 422, "unprocessable_entity")
    assert body["error"]["message"] == "Request body must be a JSON object."
    assert body["error"]["details"]["fields"][0]["field"] == "body"
    assert _state(client, auth) == before


def _required(route: ApiRoute) -> list[str]:
    return [name for name, field in route.body_model.model_fields.items() if field.is_required()]


@pytest.mark.parametrize(("route", "method"), _cases(lambda route, method: route.body_model is not None
                                                     and bool(_required(route))))
def test_missing_required_fields_are_named_in_details(client, auth, world, route, method):
    before = _state(client, auth)
    response = client.request(method, _path(route, world), json={}, headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    fields = {d["field"] for d in body["error"]["details"]["fields"]}
    assert set(_required(route)) <= fields
    assert all(d["message"] for d in body["error"]["details"]["fields"])
    for name in _required(route):
        assert name in body["error"]["message"]
    assert _state(client, auth) == before


WRONG_TYPES = [
    ("POST", "/v1/sessions", {"userId": 123}, "userId"),
    ("POST", "/v1/sessions", {"userId": "u", "metadata": ["plan"]}, "metadata"),
    ("POST", "/v1/sessions", {"userId": "u", "limits": {"maxCost": {"amount": "ten"}}}, "limits.maxCost.amount"),
    ("POST", "/v1/sessions", {"userId": "u", "limits": {"maxComputeMinutes": "lots"}}, "limits.maxComputeMinutes"),
    ("POST", "/v1/sessions", {"userId": "u", "limits": []}, "limits"),
    ("POST", "/v1/sessions/by-user/{user_id}", {"metadata": "plan"}, "metadata"),
    ("POST", "/v1/sessions/by-user/{user_id}", {"limits": {"maxAgents": 1.5}}, "limits.maxAgents"),
    ("POST", "/v1/sessions/{session_id}/agents", {"instructions": 5}, "instructions"),
    ("POST", "/v1/sessions/{session_id}/agents", {"tools": [1]}, "tools.0"),
    ("POST", "/v1/sessions/{session_id}/agents", {"model": 7}, "model"),
    ("POST", "/v1/sessions/{session_id}/agents", {"secrets": "KEY"}, "secrets"),
    ("PATCH", "/v1/sessions/{session_id}/limits", {"maxAgents": "x"}, "maxAgents"),
    ("PATCH", "/v1/sessions/{session_id}/limits", {"maxCost": 5}, "maxCost"),
    ("POST", "/v1/agents/{agent_id}/run", {"task": ["a"]}, "task"),
    ("POST", "/v1/agents/{agent_id}/run", {"task": "t", "maxCost": {"amount": -1}}, "maxCost.amount"),
    ("POST", "/v1/agents/{agent_id}/exec", {"lang": "python", "code": 5}, "code"),
    ("POST", "/v1/agents/{agent_id}/exec", {"language": 3, "code": "x"}, "language"),
    ("POST", "/v1/agents/{agent_id}/resume", {"provider": 5}, "provider"),
    ("POST", "/_emu/clock/advance", {"seconds": "soon"}, "seconds"),
    ("POST", "/_emu/clock/advance", {"seconds": -5}, "seconds"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), WRONG_TYPES,
                         ids=[f"{m} {p} {f}" for m, p, _, f in WRONG_TYPES])
def test_wrong_types_are_422_naming_the_field_and_change_nothing(client, auth, world, method, path, body, field):
    before = _state(client, auth)
    response = client.request(method, path.format(**world), json=body, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert field in error["message"]
    assert _state(client, auth) == before


@pytest.mark.parametrize(("route", "method"), _cases(lambda route, method: method in ("POST", "PATCH", "PUT")
                                                     and _valid_body(route) == {}))
def test_empty_body_with_json_content_type_is_read_as_an_empty_object(client, auth, route, method):
    response = client.request(method, _path(route), content=b"", headers={**auth, **JSON})
    assert response.status_code not in (400, 415, 422), response.text


@pytest.mark.parametrize(("kind", "action", "setup"), [
    ("sessions", "pause", None), ("sessions", "resume", "pause"), ("sessions", "terminate", None),
    ("agents", "pause", None), ("agents", "resume", "pause"), ("agents", "terminate", None),
])
def test_body_less_post_with_json_content_type_and_no_body_works(client, auth, world, kind, action, setup):
    ident = world["session_id" if kind == "sessions" else "agent_id"]
    if setup:
        assert client.post(f"/v1/{kind}/{ident}/{setup}", headers=auth).status_code == 200
    response = client.post(f"/v1/{kind}/{ident}/{action}", content=b"", headers={**auth, **JSON})
    assert response.status_code == 200, response.text


def test_get_with_json_content_type_and_no_body_works(client, auth):
    assert client.get("/v1/sessions", headers={**auth, **JSON}).status_code == 200


# ---- tenants ----

OTHER = {"Authorization": "Bearer th_test_another_tenant"}


@pytest.mark.parametrize(("route", "method"), _cases(
    lambda route, method: bool({"session_id", "agent_id"} & set(route.param_convertors))
    and _valid_body(route) is not None))
def test_another_tenants_ids_are_404_and_nothing_changes(client, auth, world, route, method):
    before = _state(client, auth)
    body = _valid_body(route) if method != "GET" else None
    response = client.request(method, _path(route, world), json=body, headers=OTHER)
    error = assert_error(response, 404, "not_found")["error"]
    assert any(ident in error["message"] for ident in (world["session_id"], world["agent_id"]))
    assert _state(client, auth) == before
    assert client.get("/v1/sessions", headers=OTHER).json()["data"] == []


def test_same_user_id_in_two_tenants_gives_two_sessions(client, auth):
    mine = client.post("/v1/sessions/by-user/alice", headers=auth).json()
    theirs = client.post("/v1/sessions/by-user/alice", headers=OTHER)
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine["id"]


# ---- unexpected exceptions ----

def test_an_unexpected_exception_is_a_500_envelope_without_traceback(app, emu, auth, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom: internal detail /work/secret.py")

    monkeypatch.setattr(emu.store, "get", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(f"/v1/sessions/{DUMMY['session_id']}", headers=auth)
    body = assert_error(response, 500, "internal_error")
    assert response.headers["content-type"] == "application/json"
    assert "Traceback" not in response.text and "boom" not in response.text and "secret" not in response.text
    assert set(body) == {"error", "requestId"}
    assert set(body["error"]) == {"code", "message", "requestId"}


def test_the_server_keeps_answering_after_a_500(app, emu, auth, monkeypatch):
    calls = []

    def explode_once(*args, **kwargs):
        calls.append(args)
        raise ZeroDivisionError("first call fails")

    monkeypatch.setattr(emu.store, "get", explode_once)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(f"/v1/sessions/{DUMMY['session_id']}", headers=auth).status_code == 500
        monkeypatch.undo()
        assert client.get("/v1/sessions", headers=auth).status_code == 200
    assert len(calls) == 1


@pytest.mark.parametrize("depth", [65, 5_000, 100_000])
def test_a_deeply_nested_body_is_422_and_changes_nothing(client, auth, depth, caplog):
    before = _state(client, auth)
    body = '{"userId": "u", "metadata": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    response = client.post("/v1/sessions", content=body, headers={**auth, **JSON})
    assert_error(response, 413 if len(body) > 1024 * 1024 else 422,
                 "payload_too_large" if len(body) > 1024 * 1024 else "unprocessable_entity")
    assert _state(client, auth) == before
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
