"""Tools over HTTP: built-ins and custom webhook tools; register, list, test (a real call to
the handler on loopback), delete; input checked against the tool's schema."""

from __future__ import annotations

import pytest
from conftest import assert_error, make_agent
from receiver import dead_url, receiver

SDK = {"X-SDK-Version": "0.1.0"}
OTHER = {"Authorization": "Bearer th_test_another_tenant"}
SCHEMA = {"type": "object", "properties": {"id": {"type": "string"}, "count": {"type": "integer"},
                                           "tags": {"type": "array", "items": {"type": "string"}}},
          "required": ["id"]}


def register(client, auth, name="lookup_order", url="https://example.com/tools", **extra) -> dict:
    body = {"name": name, "description": "Look an order up.", "parameters": SCHEMA,
            "handler": {"type": "webhook", "url": url}, **extra}
    response = client.post("/v1/tools", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_list_has_the_builtins_then_the_custom_tools_by_name(client, auth):
    register(client, auth, name="zeta")
    register(client, auth, name="alpha", requiresApproval=True)
    tools = client.get("/v1/tools", headers={**auth, **SDK}).json()  # a bare array for the SDK
    names = [t["name"] for t in tools]
    assert names == ["http_request", "read_file", "web_search", "write_file", "alpha", "zeta"]
    assert tools[2]["builtin"] is True and "handler" not in tools[2] and tools[2]["parameters"]["type"] == "object"
    assert tools[4] | {"createdAt": None, "updatedAt": None} == {
        "name": "alpha", "description": "Look an order up.", "builtin": False, "parameters": SCHEMA,
        "handler": {"type": "webhook", "url": "https://example.com/tools"}, "requiresApproval": True,
        "createdAt": None, "updatedAt": None}
    assert [t["name"] for t in client.get("/v1/tools", headers=auth).json()["data"]] == names


def test_a_taken_name_is_409(client, auth):
    register(client, auth)
    for name in ("lookup_order", "web_search"):
        body = {"name": name, "description": "d", "parameters": {}, "handler": {"type": "webhook",
                                                                                "url": "https://e.com"}}
        assert_error(client.post("/v1/tools", json=body, headers=auth), 409, "conflict")
    assert len(client.get("/v1/tools", headers=auth).json()["data"]) == 5


def test_a_builtin_answers_the_mock_engines_output(client, auth):
    response = client.post("/v1/tools/web_search/test", json={"query": "AI agents"}, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and "results for 'AI agents'" in body["output"]
    assert client.post("/v1/tools/web_search/test", json={"query": "AI agents"}, headers=auth).json() == body


def test_a_custom_tool_calls_its_handler_with_the_input(client, auth):
    with receiver(answer={"order": "42", "status": "shipped"}) as hook:
        register(client, auth, url=hook.url)
        response = client.post("/v1/tools/lookup_order/test", json={"id": "42"}, headers=auth)
        assert response.status_code == 200, response.text
        assert response.json() == {"output": {"order": "42", "status": "shipped"}, "success": True, "status": 200}
        (request,) = hook.requests
        assert request.json() == {"tool": "lookup_order", "input": {"id": "42"}}
    events = client.get("/_emu/requests", params={"kind": "tool"}).json()["data"]
    assert events[-1]["tool"] == "lookup_order" and events[-1]["success"] is True


def test_a_handler_answering_an_error_is_an_unsuccessful_result(client, auth):
    with receiver(statuses=[500], answer={"error": "db down"}) as hook:
        register(client, auth, url=hook.url)
        body = client.post("/v1/tools/lookup_order/test", json={"id": "1"}, headers=auth).json()
    assert body == {"output": {"error": "db down"}, "success": False, "status": 500}


def test_an_unreachable_handler_is_502(client, auth):
    register(client, auth, url=dead_url())
    body = assert_error(client.post("/v1/tools/lookup_order/test", json={"id": "1"}, headers=auth), 502,
                        "tool_handler_unreachable")
    assert body["error"]["details"]["reason"] == "webhook_unreachable"


@pytest.mark.parametrize(("tool_input", "field"), [
    ({}, "input.id"), ({"id": 5}, "input.id"), ({"id": "1", "count": 1.5}, "input.count"),
    ({"id": "1", "count": True}, "input.count"), ({"id": "1", "tags": ["a", 2]}, "input.tags.1"),
])
def test_an_input_that_does_not_fit_the_schema_is_422_and_calls_nothing(client, auth, tool_input, field):
    with receiver() as hook:
        register(client, auth, url=hook.url)
        response = client.post("/v1/tools/lookup_order/test", json=tool_input, headers=auth)
        error = assert_error(response, 422, "unprocessable_entity")["error"]
        assert field in {d["field"] for d in error["details"]["fields"]}
        assert hook.requests == []


def test_builtins_check_their_inputs_too(client, auth):
    assert_error(client.post("/v1/tools/web_search/test", json={}, headers=auth), 422, "unprocessable_entity")
    assert_error(client.post("/v1/tools/web_search/test", content=b"[1]", headers=auth), 422, "unprocessable_entity")


def test_an_empty_body_is_an_empty_input(client, auth):
    with receiver() as hook:
        register(client, auth, name="ping", url=hook.url, parameters={"type": "object"})
        response = client.post("/v1/tools/ping/test", content=b"", headers={**auth, "Content-Type": "application/json"})
        assert response.json()["success"] is True
        assert hook.requests[0].json() == {"tool": "ping", "input": {}}


def test_delete_and_unknown_tools(client, auth):
    register(client, auth)
    assert client.delete("/v1/tools/lookup_order", headers=auth).json() == {"name": "lookup_order", "deleted": True}
    assert_error(client.delete("/v1/tools/lookup_order", headers=auth), 404, "not_found")
    assert_error(client.post("/v1/tools/lookup_order/test", json={"id": "1"}, headers=auth), 404, "not_found")
    assert_error(client.delete("/v1/tools/web_search", headers=auth), 409, "conflict")


def test_another_tenants_tools_are_404(client, auth):
    register(client, auth)
    assert_error(client.post("/v1/tools/lookup_order/test", json={"id": "1"}, headers=OTHER), 404, "not_found")
    assert_error(client.delete("/v1/tools/lookup_order", headers=OTHER), 404, "not_found")
    assert [t["name"] for t in client.get("/v1/tools", headers=OTHER).json()["data"]] == [
        "http_request", "read_file", "web_search", "write_file"]


BAD = [
    ({"description": "d", "parameters": {}, "handler": {"type": "webhook", "url": "https://e.com"}}, "name"),
    ({"name": "has space", "description": "d", "parameters": {}, "handler": {"type": "webhook", "url": "https://e.com"}},
     "name"),
    ({"name": "t", "parameters": {}, "handler": {"type": "webhook", "url": "https://e.com"}}, "description"),
    ({"name": "t", "description": "d", "handler": {"type": "webhook", "url": "https://e.com"}}, "parameters"),
    ({"name": "t", "description": "d", "parameters": {"type": "string"},
      "handler": {"type": "webhook", "url": "https://e.com"}}, "parameters"),
    ({"name": "t", "description": "d", "parameters": {"required": "id"},
      "handler": {"type": "webhook", "url": "https://e.com"}}, "parameters"),
    ({"name": "t", "description": "d", "parameters": {}}, "handler"),
    ({"name": "t", "description": "d", "parameters": {}, "handler": {"type": "lambda", "url": "https://e.com"}},
     "handler.type"),
    ({"name": "t", "description": "d", "parameters": {}, "handler": {"type": "webhook", "url": "ftp://e.com"}},
     "handler.url"),
]


@pytest.mark.parametrize(("body", "field"), BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_bad_registrations_are_422_and_store_nothing(client, auth, body, field):
    error = assert_error(client.post("/v1/tools", json=body, headers=auth), 422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert len(client.get("/v1/tools", headers=auth).json()["data"]) == 4


def test_agents_may_name_custom_tools_and_runs_call_them(client, auth):
    register(client, auth)
    agent = make_agent(client, auth, tools=["lookup_order"])
    result = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "Where is order 42?"}, headers=auth).json()
    assert [call["tool"] for call in result["toolCalls"]] == ["lookup_order"]


@pytest.mark.parametrize("raw", [b'{"query": "\\ud800"}', b'{"query": "x", "n": 1e999}', b'{"query": "x", "n": NaN}'])
def test_an_input_json_cannot_carry_is_422(client, auth, raw):
    response = client.post("/v1/tools/web_search/test", content=raw, headers={**auth, "Content-Type": "application/json"})
    assert_error(response, 422, "unprocessable_entity")


def test_a_malformed_handler_url_is_422(client, auth):
    body = {"name": "t", "description": "d", "parameters": {}, "handler": {"type": "webhook", "url": "http://[::1"}}
    assert_error(client.post("/v1/tools", json=body, headers=auth), 422, "unprocessable_entity")
