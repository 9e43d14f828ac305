"""Agent definitions over HTTP: create (both body shapes), list, get, update, archive,
versions and rollback; agents created from a definition; and the bad inputs, each a 4xx
envelope that stores nothing. SDK-dialect requests carry `X-SDK-Version`.
"""

from __future__ import annotations

import pytest
from conftest import assert_error, make_agent, make_session

ADEF_ID = "adef_01JT4J97000000024DT7WQJ49N"  # well-formed, never created by these tests' tenants
SDK = {"X-SDK-Version": "0.1.0"}
REFERENCE_BODY = {
    "name": "Research Assistant", "instructions": "You are a research assistant. Be thorough and cite sources.",
    "tools": ["web_search", "write_file"], "metadata": {"team": "research"},
    "model": {"id": "claude-sonnet-4-20250514", "maxTokens": 4096, "temperature": 0.2},
    "compute": {"provider": "e2b", "timeout": 600},
}
SDK_BODY = {
    "name": "Support bot", "description": "Answers tickets", "compute": "node", "model": "gpt-4o",
    "instructions": "Be kind.", "tools": ["http_request"], "browser": True, "timeout": "120s",
    "config": {"temperature": 0.7, "maxTokens": 1000},
}


def _create(client, auth, body=None, headers=None) -> dict:
    response = client.post("/v1/agent-definitions", json=body or REFERENCE_BODY, headers={**auth, **(headers or {})})
    assert response.status_code == 201, response.text
    return response.json()


def _get(client, auth, definition_id: str) -> dict:
    response = client.get(f"/v1/agent-definitions/{definition_id}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def _put(client, auth, definition_id: str, body: dict, headers=None) -> dict:
    response = client.put(f"/v1/agent-definitions/{definition_id}", json=body, headers={**auth, **(headers or {})})
    assert response.status_code == 200, response.text
    return response.json()


def _versions(client, auth, definition_id: str, headers=None):
    response = client.get(f"/v1/agent-definitions/{definition_id}/versions", headers={**auth, **(headers or {})})
    assert response.status_code == 200, response.text
    return response.json()


def _list(client, auth, headers=None, **query):
    response = client.get("/v1/agent-definitions", params=query, headers={**auth, **(headers or {})})
    assert response.status_code == 200, response.text
    return response.json()


def _new_agent(client, auth, session_id: str, **body):
    return client.post(f"/v1/sessions/{session_id}/agents", json=body, headers=auth)


# ---- create ----

def test_create_with_the_reference_body_answers_version_1(client, auth):
    body = _create(client, auth)
    assert body["id"].startswith("adef_")
    assert (body["name"], body["version"], body["archived"]) == ("Research Assistant", 1, False)
    assert body["model"] == "claude-sonnet-4-20250514"
    assert body["config"] == {"temperature": 0.2, "maxTokens": 4096}
    assert (body["provider"], body["timeout"], body["timeoutSeconds"]) == ("e2b", "600s", 600)
    assert body["tools"] == ["web_search", "write_file"]
    assert body["metadata"] == {"team": "research"}
    assert body["createdAt"] == body["updatedAt"] == "2025-05-01T00:00:00.000Z"


def test_create_with_the_sdk_body(client, auth):
    body = _create(client, auth, SDK_BODY, SDK)
    assert (body["compute"], body["model"], body["timeout"]) == ("node", "gpt-4o", "120s")
    assert body["config"] == {"temperature": 0.7, "maxTokens": 1000}
    assert body["description"] == "Answers tickets"
    assert body["browser"] is True


def test_create_with_only_a_name_uses_the_defaults(client, auth):
    body = _create(client, auth, {"name": "Bare"})
    assert (body["model"], body["compute"], body["timeout"], body["provider"]) == (
        "claude-sonnet-4-20250514", "python", "300s", None)
    assert (body["tools"], body["metadata"], body["instructions"]) == ([], {}, None)
    assert body["config"] == {"temperature": None, "maxTokens": None}


@pytest.mark.parametrize(("body", "field"), [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "bad\nname"}, "name"),
    ({"name": 42}, "name"),
    ({"name": "ok", "tools": ["bad tool!"]}, "tools"),
    ({"name": "ok", "model": {"id": "m", "temperature": 3}}, "model.temperature"),
    ({"name": "ok", "config": {"maxTokens": 0}}, "config.maxTokens"),
    ({"name": "ok", "compute": "ruby"}, "compute"),
    ({"name": "ok", "compute": {"provider": "aws"}}, "compute.provider"),
    ({"name": "ok", "compute": {"timeout": "soon"}}, "compute.timeout"),
    ({"name": "ok", "timeout": "2d"}, "timeout"),
    ({"name": "ok", "model": ""}, "model"),
])
def test_create_rejects_invalid_fields_and_stores_nothing(client, auth, body, field):
    body = assert_error(client.post("/v1/agent-definitions", json=body, headers=auth), 422, "unprocessable_entity")
    assert field in {d["field"] for d in body["error"]["details"]["fields"]}
    assert _list(client, auth, includeArchived="true")["data"] == []


def test_create_rejects_a_non_object_body(client, auth):
    assert_error(client.post("/v1/agent-definitions", json=["name"], headers=auth), 422, "unprocessable_entity")


# ---- list and get ----

def test_list_is_an_envelope_for_the_reference_and_newest_first(client, auth):
    first, second = _create(client, auth, {"name": "a"}), _create(client, auth, {"name": "b"})
    body = _list(client, auth)
    assert [d["id"] for d in body["data"]] == [second["id"], first["id"]]
    assert body["hasMore"] is False and body["nextCursor"] is None


def test_list_is_a_bare_array_for_the_sdk(client, auth):
    created = _create(client, auth, SDK_BODY, SDK)
    assert _list(client, auth, SDK) == [created]


def test_list_pages_with_a_cursor(client, auth):
    ids = [_create(client, auth, {"name": f"d{i}"})["id"] for i in range(3)]
    first = _list(client, auth, limit=2)
    second = _list(client, auth, limit=2, cursor=first["nextCursor"])
    assert [d["id"] for d in first["data"] + second["data"]] == ids[::-1]


def test_list_leaves_out_archived_unless_asked(client, auth):
    kept, gone = _create(client, auth, {"name": "kept"}), _create(client, auth, {"name": "gone"})
    client.delete(f"/v1/agent-definitions/{gone['id']}", headers=auth)
    assert [d["id"] for d in _list(client, auth)["data"]] == [kept["id"]]
    everything = _list(client, auth, includeArchived="true")["data"]
    assert [(d["id"], d["archived"]) for d in everything] == [(gone["id"], True), (kept["id"], False)]


def test_list_rejects_a_bad_include_archived(client, auth):
    body = assert_error(client.get("/v1/agent-definitions?includeArchived=maybe", headers=auth),
                        422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "includeArchived"


@pytest.mark.parametrize("limit", ["-1", "0", "1000000000000", "ten"])
def test_list_rejects_a_bad_limit(client, auth, limit):
    body = assert_error(client.get(f"/v1/agent-definitions?limit={limit}", headers=auth), 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "limit"


def test_get_returns_what_create_returned(client, auth):
    created = _create(client, auth)
    assert _get(client, auth, created["id"]) == created


def test_get_unknown_is_404(client, auth):
    body = assert_error(client.get(f"/v1/agent-definitions/{ADEF_ID}", headers=auth), 404, "not_found")
    assert ADEF_ID in body["error"]["message"]


def test_another_tenants_definition_is_404(client, auth):
    created = _create(client, auth)
    other = {"Authorization": "Bearer th_test_someone_else"}
    assert_error(client.get(f"/v1/agent-definitions/{created['id']}", headers=other), 404, "not_found")


# ---- update ----

def test_put_makes_a_new_version_keeping_what_it_does_not_name(client, auth):
    created = _create(client, auth)
    body = _put(client, auth, created["id"], {"model": {"id": "gpt-4o"}, "tools": ["web_search", "http_request"]})
    assert body["version"] == 2
    assert body["model"] == "gpt-4o"
    assert body["tools"] == ["web_search", "http_request"]
    assert (body["instructions"], body["provider"], body["name"]) == (
        created["instructions"], "e2b", "Research Assistant")
    assert _get(client, auth, created["id"]) == body


def test_put_with_the_sdk_body_and_changelog(client, auth):
    created = _create(client, auth, SDK_BODY, SDK)
    body = _put(client, auth, created["id"], {"model": "claude-opus-4-20250514", "config": {"temperature": 0.1},
                                              "changelog": "Stronger model"}, SDK)
    assert (body["version"], body["model"]) == (2, "claude-opus-4-20250514")
    assert body["config"] == {"temperature": 0.1, "maxTokens": 1000}
    assert _versions(client, auth, created["id"], SDK)[0]["changelog"] == "Stronger model"


def test_put_on_unknown_is_404(client, auth):
    assert_error(client.put(f"/v1/agent-definitions/{ADEF_ID}", json={}, headers=auth), 404, "not_found")


def test_put_on_archived_is_409(client, auth):
    created = _create(client, auth)
    client.delete(f"/v1/agent-definitions/{created['id']}", headers=auth)
    body = assert_error(client.put(f"/v1/agent-definitions/{created['id']}", json={"tools": []}, headers=auth),
                        409, "conflict")
    assert "archived" in body["error"]["message"]


@pytest.mark.parametrize(("body", "field"), [({"name": ""}, "name"), ({"tools": "web_search"}, "tools"),
                                             ({"model": 7}, "model"), ({"timeout": 0}, "timeout")])
def test_put_rejects_invalid_fields_and_makes_no_version(client, auth, body, field):
    created = _create(client, auth)
    error = assert_error(client.put(f"/v1/agent-definitions/{created['id']}", json=body, headers=auth),
                         422, "unprocessable_entity")
    assert field in {d["field"] for d in error["error"]["details"]["fields"]}
    assert _get(client, auth, created["id"]) == created


# ---- archive ----

def test_delete_archives_and_answers_ok(client, auth):
    created = _create(client, auth)
    response = client.delete(f"/v1/agent-definitions/{created['id']}", headers=auth)
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert _get(client, auth, created["id"])["archived"] is True


def test_delete_twice_is_still_ok(client, auth):
    created = _create(client, auth)
    client.delete(f"/v1/agent-definitions/{created['id']}", headers=auth)
    assert client.delete(f"/v1/agent-definitions/{created['id']}", headers=auth).json()["ok"] is True


def test_delete_unknown_is_404(client, auth):
    assert_error(client.delete(f"/v1/agent-definitions/{ADEF_ID}", headers=auth), 404, "not_found")


# ---- versions and rollback ----

def test_versions_is_a_bare_array_for_the_sdk_newest_first(client, auth):
    created = _create(client, auth, SDK_BODY, SDK)
    _put(client, auth, created["id"], {"instructions": "v2", "changelog": "second"}, SDK)
    versions = _versions(client, auth, created["id"], SDK)
    assert [(v["version"], v["changelog"]) for v in versions] == [(2, "second"), (1, "Initial version")]
    assert all(v["createdAt"] == "2025-05-01T00:00:00.000Z" for v in versions)
    assert [v["instructions"] for v in versions] == ["v2", "Be kind."]


def test_versions_is_an_envelope_for_the_reference(client, auth):
    created = _create(client, auth)
    body = _versions(client, auth, created["id"])
    assert [v["version"] for v in body["data"]] == [1]
    assert body["hasMore"] is False


def test_versions_of_unknown_is_404(client, auth):
    assert_error(client.get(f"/v1/agent-definitions/{ADEF_ID}/versions", headers=auth), 404, "not_found")


def test_rollback_makes_a_new_version_equal_to_the_old_one(client, auth):
    created = _create(client, auth)
    _put(client, auth, created["id"], {"instructions": "changed", "model": "gpt-4o"})
    response = client.post(f"/v1/agent-definitions/{created['id']}/rollback", json={"version": 1}, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 3
    same = ("instructions", "model", "tools", "config", "provider", "timeout", "compute", "metadata", "name")
    assert {k: body[k] for k in same} == {k: created[k] for k in same}
    assert _versions(client, auth, created["id"])["data"][0]["changelog"] == "Rollback to version 1"


@pytest.mark.parametrize("version", [0, 99, -1, "1", 1.5, None])
def test_rollback_to_a_bad_version_is_422_and_adds_no_version(client, auth, version):
    created = _create(client, auth)
    response = client.post(f"/v1/agent-definitions/{created['id']}/rollback", json={"version": version}, headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "version"
    assert [v["version"] for v in _versions(client, auth, created["id"])["data"]] == [1]


def test_rollback_to_a_missing_version_names_the_latest(client, auth):
    created = _create(client, auth)
    response = client.post(f"/v1/agent-definitions/{created['id']}/rollback", json={"version": 99}, headers=auth)
    assert "no version 99; the latest is 1" in assert_error(response, 422, "unprocessable_entity")["error"]["message"]


def test_rollback_of_unknown_is_404(client, auth):
    response = client.post(f"/v1/agent-definitions/{ADEF_ID}/rollback", json={"version": 1}, headers=auth)
    assert_error(response, 404, "not_found")


# ---- agents from definitions ----

def test_agent_from_a_definition_takes_its_settings(client, auth):
    definition = _create(client, auth)
    agent = make_agent(client, auth, definition=definition["id"])
    assert (agent["definitionId"], agent["definitionVersion"]) == (definition["id"], 1)
    assert agent["instructions"] == definition["instructions"]
    assert agent["tools"] == definition["tools"]
    assert (agent["model"], agent["provider"], agent["timeout"]) == ("claude-sonnet-4-20250514", "e2b", 600)


def test_agent_request_fields_override_the_definition(client, auth):
    definition = _create(client, auth, SDK_BODY, SDK)
    agent = make_agent(client, auth, definition=definition["id"], instructions="Mine.", tools=[], model="gpt-4o-mini",
                       compute="go", timeout=30, browser=False, provider="fly")
    assert (agent["instructions"], agent["tools"], agent["model"]) == ("Mine.", [], "gpt-4o-mini")
    assert (agent["compute"], agent["timeout"], agent["browser"], agent["provider"]) == ("go", 30, False, "fly")


def test_agents_keep_the_version_they_were_made_from(client, auth):
    definition = _create(client, auth)
    session = make_session(client, auth)
    old = make_agent(client, auth, session["id"], definition=definition["id"])
    _put(client, auth, definition["id"], {"instructions": "Version two."})
    new = make_agent(client, auth, session["id"], definition=definition["id"])
    old_now = client.get(f"/v1/agents/{old['id']}", headers=auth).json()
    assert (old_now["definitionVersion"], old_now["instructions"]) == (1, definition["instructions"])
    assert (new["definitionVersion"], new["instructions"]) == (2, "Version two.")


def test_agent_from_an_archived_definition_is_409_and_not_created(client, auth):
    definition = _create(client, auth)
    client.delete(f"/v1/agent-definitions/{definition['id']}", headers=auth)
    session = make_session(client, auth)
    body = assert_error(_new_agent(client, auth, session["id"], definition=definition["id"]), 409, "conflict")
    assert "archived" in body["error"]["message"]
    assert client.get(f"/v1/sessions/{session['id']}/agents", headers=auth).json()["data"] == []


@pytest.mark.parametrize("definition", [ADEF_ID, "not-an-id"])
def test_agent_from_an_unknown_definition_is_404_and_not_created(client, auth, definition):
    session = make_session(client, auth)
    body = assert_error(_new_agent(client, auth, session["id"], definition=definition), 404, "not_found")
    assert definition in body["error"]["message"]
    assert client.get(f"/v1/sessions/{session['id']}/agents", headers=auth).json()["data"] == []


def test_existing_agents_survive_archiving(client, auth):
    definition = _create(client, auth)
    agent = make_agent(client, auth, definition=definition["id"])
    client.delete(f"/v1/agent-definitions/{definition['id']}", headers=auth)
    response = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "still works"}, headers=auth)
    assert response.status_code == 202
