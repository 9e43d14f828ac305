"""Theo API keys: created, listed, scoped, restricted by origin, revoked (theo-api.md §1.1, §3.8)."""

from __future__ import annotations

import hashlib

import pytest
from theo_support import bearer, complete, held, theo_error, theo_key


def _create(client, owner, status=201, **body):  # noqa: ANN001, ANN202
    response = client.post("/api/v1/keys", headers=bearer(owner), json=body)
    assert response.status_code == status, response.text
    return response.json()


def test_a_created_key_shows_its_secret_once_and_stores_only_its_hash(client, emu):
    owner = theo_key()
    made = _create(client, owner, name="CI pipeline", scopes=["completions", "billing"])
    assert made["id"].startswith("key_") and made["object"] == "api_key" and made["name"] == "CI pipeline"
    assert made["secret"].startswith("theo_sk_test_") and made["secret"].startswith(made["key_prefix"])
    assert made["scopes"] == ["completions", "billing"] and made["scope"] == "personal" and made["org_id"] is None
    assert made["status"] == "active" and made["revoked_at"] is None and "_note" in made
    listed = client.get("/api/v1/keys", headers=bearer(owner)).json()
    assert listed["has_more"] is False and listed["next_cursor"] is None
    assert [k["id"] for k in listed["keys"]] == [made["id"]] and "secret" not in listed["keys"][0]
    stored = emu.store.one("SELECT * FROM theo_keys WHERE id = ?", [made["id"]])
    assert stored["key_hash"] == hashlib.sha256(made["secret"].encode()).hexdigest()
    assert made["secret"] not in str(stored)
    assert made["secret"] not in client.get("/_emu/requests").text  # the journal never holds it
    assert made["secret"] not in client.get("/_emu/state/export").text


def test_a_created_key_acts_for_its_creators_tenant(client):
    owner = theo_key()
    made = _create(client, owner)
    assert made["scopes"] == ["completions", "skills", "tools", "connectors", "browser", "memory", "billing"]
    body = complete(client, made["secret"], "from the new key")
    listed = client.get("/api/v1/conversations", headers=bearer(owner)).json()["conversations"]
    assert [c["id"] for c in listed] == [body["conversation_id"]]
    entry = client.get("/api/v1/audit?action=completion.created", headers=bearer(owner)).json()["events"][0]
    assert entry["keyId"] == made["id"]


def test_a_key_lacking_a_scope_gets_403_on_routes_that_need_it(client):
    owner = theo_key()
    billing = _create(client, owner, scopes=["billing"])["secret"]
    chat_only = _create(client, owner, scopes=["completions"])["secret"]
    before = held(client, owner)
    for method, path, body in (("POST", "/api/v1/completions", {"prompt": "hi"}), ("GET", "/api/v1/models", None),
                               ("POST", "/api/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]}),
                               ("GET", "/api/v1/conversations", None)):
        error = theo_error(client.request(method, path, headers=bearer(billing), json=body), 403, "insufficient_scope")
        assert "'completions'" in error["message"]
    assert held(client, owner) == before
    assert client.get("/api/v1/usage", headers=bearer(billing)).status_code == 200
    assert client.get("/api/v1/audit/export", headers=bearer(billing)).status_code == 200
    theo_error(client.get("/api/v1/usage", headers=bearer(chat_only)), 403, "insufficient_scope")
    theo_error(client.get("/api/v1/audit/export", headers=bearer(chat_only)), 403, "insufficient_scope")
    assert client.get("/api/v1/audit", headers=bearer(chat_only)).status_code == 200  # any key reads the log
    assert client.get("/api/v1/models", headers=bearer(chat_only)).status_code == 200
    memory = _create(client, owner, scopes=["memory"])["secret"]
    assert client.get("/api/v1/conversations", headers=bearer(memory)).status_code == 200


def test_only_an_unrestricted_key_manages_keys(client):
    owner = theo_key()
    full = _create(client, owner)
    limited = _create(client, owner, scopes=["completions", "skills", "tools", "connectors", "browser", "memory"])
    before = held(client, owner)
    for method, path, body in (("POST", "/api/v1/keys", {"scopes": ["completions"]}), ("GET", "/api/v1/keys", None),
                               ("PUT", f"/api/v1/keys/{full['id']}", {"name": "taken over"}),
                               ("DELETE", f"/api/v1/keys/{full['id']}", None),
                               ("DELETE", "/api/v1/keys", {"id": full["id"]})):
        error = theo_error(client.request(method, path, headers=bearer(limited["secret"]), json=body), 403,
                           "insufficient_scope")
        assert "unrestricted key" in error["message"] and "billing" in error["message"]
    assert held(client, owner) == before
    assert client.get("/api/v1/models", headers=bearer(full["secret"])).status_code == 200  # not revoked
    assert _create(client, full["secret"], scopes=["billing"])["scopes"] == ["billing"]


def test_a_revoked_key_is_401_from_its_next_request_and_revoking_twice_answers_the_same(client):
    owner = theo_key()
    made = _create(client, owner)
    assert client.get("/api/v1/models", headers=bearer(made["secret"])).status_code == 200
    revoked = client.delete(f"/api/v1/keys/{made['id']}", headers=bearer(owner))
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    error = theo_error(client.get("/api/v1/models", headers=bearer(made["secret"])), 401, "invalid_api_key")
    assert "revoked" in error["message"]
    again = client.delete(f"/api/v1/keys/{made['id']}", headers=bearer(owner))
    assert again.json() == revoked.json()
    listed = client.get("/api/v1/keys", headers=bearer(owner)).json()["keys"][0]
    assert listed["status"] == "revoked" and listed["revoked_at"] == revoked.json()["revoked_at"]


def test_revoking_through_the_collection_by_body_or_query(client):
    owner = theo_key()
    one, two = _create(client, owner), _create(client, owner)
    assert client.request("DELETE", "/api/v1/keys", headers=bearer(owner), json={"id": one["id"]}).status_code == 200
    assert client.delete(f"/api/v1/keys?id={two['id']}", headers=bearer(owner)).status_code == 200
    for made in (one, two):
        theo_error(client.get("/api/v1/models", headers=bearer(made["secret"])), 401, "invalid_api_key")
    theo_error(client.delete("/api/v1/keys", headers=bearer(owner)), 400, "validation_error")


def test_keys_are_per_tenant_and_their_changes_are_audited_and_emitted(client):
    owner, stranger = theo_key(), theo_key()
    made = _create(client, owner, name="a")
    theo_error(client.delete(f"/api/v1/keys/{made['id']}", headers=bearer(stranger)), 404, "not_found")
    theo_error(client.put(f"/api/v1/keys/{made['id']}", headers=bearer(stranger), json={"name": "x"}), 404, "not_found")
    assert client.get("/api/v1/keys", headers=bearer(stranger)).json()["keys"] == []
    client.put(f"/api/v1/keys/{made['id']}", headers=bearer(owner), json={"name": "b"})
    client.delete(f"/api/v1/keys/{made['id']}", headers=bearer(owner))
    events = client.get("/api/v1/audit", headers=bearer(owner)).json()["events"]
    assert [(e["action"], e["entityId"]) for e in events] == [
        ("key.revoked", made["id"]), ("key.updated", made["id"]), ("key.created", made["id"])]
    assert events[2]["inputSummary"] == {"name": "a", "scopes": made["scopes"], "scope": "personal",
                                         "allowedOrigins": []}
    assert made["secret"] not in str(events)
    types = [e["type"] for e in client.get("/_emu/theo/events", params={"key": owner}).json()["data"]]
    assert types == ["key.created", "key.revoked"]


def test_org_keys_need_an_org_id_and_personal_keys_refuse_one(client):
    owner = theo_key()
    org_id = client.post("/api/v1/orgs", headers=bearer(owner), json={"name": "Acme"}).json()["id"]
    assert _create(client, owner, org_id=org_id)["scope"] == "org"
    assert _create(client, owner, scope="org", org_id=org_id)["org_id"] == org_id
    before = held(client, owner)
    theo_error(client.post("/api/v1/keys", headers=bearer(owner), json={"org_id": "org_1"}), 404, "not_found")
    other = client.post("/api/v1/orgs", headers=bearer(theo_key()), json={"name": "Other"}).json()["id"]
    theo_error(client.post("/api/v1/keys", headers=bearer(owner), json={"org_id": other}), 404, "not_found")
    theo_error(client.post("/api/v1/keys", headers=bearer(owner), json={"scope": "org"}), 400, "validation_error")
    theo_error(client.post("/api/v1/keys", headers=bearer(owner), json={"scope": "personal", "org_id": "o"}), 400,
               "validation_error")
    assert held(client, owner) == before


@pytest.mark.parametrize("body", [{"scopes": ["everything"]}, {"scopes": "completions"}, {"name": 5},
                                  {"allowed_origins": ["localhost:3000"]}, {"allowed_origins": ["https://a.b/path"]},
                                  {"allowed_origins": ["https://a.b\n"]}, {"allowed_origins": ["https://a.b:70000"]},
                                  {"allowed_origins": ["https://.."]}, {"allowed_origins": ["https://-a.b"]},
                                  {"scope": "team"}])
def test_bad_key_bodies_are_400_and_create_nothing(client, body):
    owner = theo_key()
    before = held(client, owner)
    theo_error(client.post("/api/v1/keys", headers=bearer(owner), json=body), 400, "validation_error")
    assert held(client, owner) == before


def test_a_declared_key_can_be_scoped_or_revoked_by_the_admin_api(client):
    key = theo_key()
    put = client.put("/_emu/theo/account", json={"key": key, "scopes": ["billing"]})
    assert put.status_code == 200 and put.json()["registered"] is True and put.json()["scopes"] == ["billing"]
    theo_error(client.post("/api/v1/completions", headers=bearer(key), json={"prompt": "x"}), 403, "insufficient_scope")
    client.put("/_emu/theo/account", json={"key": key, "revoked": True})
    theo_error(client.get("/api/v1/usage", headers=bearer(key)), 401, "invalid_api_key")
    client.put("/_emu/theo/account", json={"key": key})  # what it leaves out is reset
    assert complete(client, key)["object"] == "completion"
