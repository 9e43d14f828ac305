"""Providers over HTTP: configure (POST, and the BYOI PUT by path), list, delete, the one
default, credentials encrypted and never returned, and how an agent's provider is chosen.
"""

from __future__ import annotations

import json

import pytest
from conftest import advance, assert_error, make_agent, make_session

from theazo_emu.core.crypto import associated_data

CREDS = {"apiKey": "e2b_live_9c1d7e"}
OTHER = {"Authorization": "Bearer th_test_provider_neighbour"}


def _configure(client, auth, provider: str = "e2b", credentials: dict | None = None, **extra):
    return client.post("/v1/providers", json={"provider": provider, "credentials": credentials or CREDS, **extra},
                       headers=auth)


def _listed(client, auth) -> list[tuple[str, bool]]:
    response = client.get("/v1/providers", headers=auth)
    assert response.status_code == 200, response.text
    return [(p["provider"], p["isDefault"]) for p in response.json()["data"]]


def _terminate(client, auth, agent_id: str) -> None:
    assert client.post(f"/v1/agents/{agent_id}/terminate", headers=auth).status_code == 200


# ---- GET and POST /v1/providers ----

def test_no_providers_at_first(client, auth):
    assert client.get("/v1/providers", headers=auth).json() == {"data": [], "nextCursor": None, "cursor": "",
                                                                "hasMore": False}


def test_configure_answers_the_provider_without_credentials(client, auth):
    response = _configure(client, auth)
    assert response.status_code == 201
    assert response.json() == {"provider": "e2b", "kind": "compute", "isDefault": True, "status": "active", "credentialRef": None,
                               "config": {}, "createdAt": "2025-05-01T00:00:00.000Z",
                               "updatedAt": "2025-05-01T00:00:00.000Z"}
    assert "e2b_live_9c1d7e" not in response.text and "credentials" not in response.json()


def test_the_first_provider_is_the_default_even_when_not_asked(client, auth):
    assert _configure(client, auth, isDefault=False).json()["isDefault"] is True


def test_a_later_provider_is_not_the_default_unless_asked(client, auth):
    _configure(client, auth, "e2b")
    assert _configure(client, auth, "fly").json()["isDefault"] is False
    assert _listed(client, auth) == [("e2b", True), ("fly", False)]


def test_a_new_default_clears_the_old_one(client, auth):
    _configure(client, auth, "e2b")
    _configure(client, auth, "fly", isDefault=True)
    assert _listed(client, auth) == [("e2b", False), ("fly", True)]


def test_reconfiguring_updates_in_place(client, auth, emu):
    _configure(client, auth, "e2b")
    before = emu.store.one("SELECT ciphertext FROM providers")["ciphertext"]
    advance(client, 30)
    response = _configure(client, auth, "e2b", {"apiKey": "rotated"})
    assert response.status_code == 200
    body = response.json()
    assert (body["createdAt"], body["updatedAt"]) == ("2025-05-01T00:00:00.000Z", "2025-05-01T00:00:30.000Z")
    assert body["isDefault"] is True
    assert _listed(client, auth) == [("e2b", True)]
    assert emu.store.one("SELECT ciphertext FROM providers")["ciphertext"] != before


def test_reconfiguring_without_is_default_keeps_the_default(client, auth):
    _configure(client, auth, "e2b")
    _configure(client, auth, "fly", isDefault=True)
    _configure(client, auth, "fly", {"token": "new"})
    assert _listed(client, auth) == [("e2b", False), ("fly", True)]


@pytest.mark.parametrize("provider", ["docker", "mock", "heroku", "", "E2B"])
def test_unknown_or_unconfigurable_provider_is_422(client, auth, provider):
    error = assert_error(_configure(client, auth, provider), 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "provider"
    assert "'e2b', 'fly', 'webhook', 'anthropic' or 'openai'" in error["details"]["fields"][0]["message"]
    assert _listed(client, auth) == []


@pytest.mark.parametrize(("credentials", "message"), [({}, "at least 1 item"), ("key", "valid dictionary"),
                                                      (["k"], "valid dictionary"), (None, "valid dictionary")])
def test_credentials_must_be_a_non_empty_object(client, auth, credentials, message):
    response = client.post("/v1/providers", json={"provider": "fly", "credentials": credentials}, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "credentials" and message in error["details"]["fields"][0]["message"]
    assert _listed(client, auth) == []


def test_missing_credentials_is_422(client, auth):
    error = assert_error(client.post("/v1/providers", json={"provider": "fly"}, headers=auth), 422,
                         "unprocessable_entity")["error"]
    assert error["message"] == "Request body failed validation: credentials."


def test_credentials_are_encrypted_at_rest_and_bound_to_tenant_and_provider(client, auth, emu):
    _configure(client, auth, "webhook", {"url": "https://hooks.example", "secret": "whsec_abc"})
    row = emu.store.one("SELECT * FROM providers")
    assert "whsec_abc" not in json.dumps(row)
    plaintext = emu.cipher.open(row["ciphertext"], associated_data("provider", row["tenant"], "webhook"))
    assert json.loads(plaintext) == {"secret": "whsec_abc", "url": "https://hooks.example"}


def test_another_tenant_does_not_see_your_providers(client, auth):
    _configure(client, auth)
    assert _listed(client, OTHER) == []
    assert _configure(client, OTHER, "fly").json()["isDefault"] is True


# ---- PUT /v1/providers/:provider ----

def test_put_configures_with_credentials(client, auth):
    response = client.put("/v1/providers/fly", json={"credentials": {"token": "fo1_x"}, "config": {"region": "iad"}},
                          headers=auth)
    assert response.status_code == 201
    assert response.json()["config"] == {"region": "iad"} and response.json()["isDefault"] is True


def test_put_configures_with_a_credential_ref_to_an_org_secret(client, auth):
    client.post("/v1/secrets", json={"name": "e2b_key", "value": "e2b_123"}, headers=auth)
    response = client.put("/v1/providers/e2b", json={"credentialRef": "e2b_key", "config": {"template": "base"}},
                          headers=auth)
    assert response.status_code == 201
    assert response.json()["credentialRef"] == "e2b_key"


def test_put_with_an_unknown_credential_ref_is_422(client, auth):
    response = client.put("/v1/providers/e2b", json={"credentialRef": "nope"}, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "credentialRef" and "no org-wide secret named 'nope'" in error["message"]
    assert _listed(client, auth) == []


def test_put_a_session_secret_is_not_a_credential_ref(client, auth):
    session = make_session(client, auth)
    client.post("/v1/secrets", json={"name": "k", "value": "v", "sessionId": session["id"]}, headers=auth)
    assert_error(client.put("/v1/providers/e2b", json={"credentialRef": "k"}, headers=auth), 422,
                 "unprocessable_entity")


def test_put_config_alone_on_an_unconfigured_provider_is_422(client, auth):
    response = client.put("/v1/providers/fly", json={"config": {"region": "iad"}}, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert "give 'credentials' or 'credentialRef'" in error["message"]


def test_put_updates_config_of_a_configured_provider(client, auth):
    _configure(client, auth, "fly")
    response = client.put("/v1/providers/fly", json={"config": {"region": "cdg"}}, headers=auth)
    assert response.status_code == 200 and response.json()["config"] == {"region": "cdg"}


def test_put_is_default_moves_the_default(client, auth):
    _configure(client, auth, "e2b")
    _configure(client, auth, "fly")
    assert client.put("/v1/providers/fly", json={"isDefault": True}, headers=auth).json()["isDefault"] is True
    assert _listed(client, auth) == [("e2b", False), ("fly", True)]


def test_unsetting_the_default_is_409(client, auth):
    _configure(client, auth, "e2b")
    _configure(client, auth, "fly")
    body = assert_error(client.put("/v1/providers/e2b", json={"isDefault": False}, headers=auth), 409, "conflict")
    assert "make another provider the default" in body["error"]["message"]
    assert _listed(client, auth) == [("e2b", True), ("fly", False)]


def test_put_with_an_empty_body_is_422(client, auth):
    error = assert_error(client.put("/v1/providers/e2b", json={}, headers=auth), 422, "unprocessable_entity")["error"]
    assert "give at least one of" in error["details"]["fields"][0]["message"]


def test_put_on_an_unknown_provider_is_422(client, auth):
    response = client.put("/v1/providers/heroku", json={"credentials": CREDS}, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert "unknown provider 'heroku'" in error["message"]


# ---- bring your own models (the SDK README's PUT /v1/providers/anthropic|openai) ----

def test_put_a_model_provider_with_a_credential_ref(client, auth):
    client.post("/v1/secrets", json={"anthropic_key": "sk-ant-1"}, headers=auth)
    response = client.put("/v1/providers/anthropic", json={"credentialRef": "anthropic_key"}, headers=auth)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["provider"], body["kind"], body["isDefault"], body["credentialRef"]) == \
        ("anthropic", "model", False, "anthropic_key")
    assert "sk-ant-1" not in response.text


def test_put_an_openai_gateway_with_a_base_url(client, auth):
    client.post("/v1/secrets", json={"gateway_key": "sk-or-1"}, headers=auth)
    response = client.put("/v1/providers/openai", json={"credentialRef": "gateway_key",
                                                        "config": {"baseUrl": "https://openrouter.ai/api/v1"}},
                          headers=auth)
    assert response.status_code == 201 and response.json()["config"] == {"baseUrl": "https://openrouter.ai/api/v1"}


@pytest.mark.parametrize("url", ["openrouter.ai", "ftp://x", 5, "http://"])
def test_a_base_url_that_is_not_an_http_url_is_422(client, auth, url):
    response = client.put("/v1/providers/openai", json={"credentials": CREDS, "config": {"baseUrl": url}},
                          headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert "baseUrl must be an absolute http(s) URL" in error["details"]["fields"][0]["message"]


def test_a_model_provider_is_never_the_compute_default(client, auth):
    client.put("/v1/providers/anthropic", json={"credentials": CREDS}, headers=auth)
    assert make_agent(client, auth)["provider"] == "mock"
    _configure(client, auth, "fly")
    assert _listed(client, auth) == [("anthropic", False), ("fly", True)]
    error = assert_error(client.put("/v1/providers/openai", json={"credentials": CREDS, "isDefault": True},
                                    headers=auth), 422, "unprocessable_entity")["error"]
    assert "only compute providers" in error["message"]
    assert client.delete("/v1/providers/fly", headers=auth).status_code == 200
    assert _listed(client, auth) == [("anthropic", False)]
    assert make_agent(client, auth)["provider"] == "mock"


# ---- DELETE /v1/providers/:provider ----

def test_delete_a_provider(client, auth):
    _configure(client, auth, "e2b")
    _configure(client, auth, "fly")
    assert client.delete("/v1/providers/fly", headers=auth).json() == {"ok": True}
    assert _listed(client, auth) == [("e2b", True)]


def test_deleting_the_default_promotes_the_oldest_remaining(client, auth):
    for name in ("e2b", "fly", "webhook"):
        _configure(client, auth, name)
    client.put("/v1/providers/webhook", json={"isDefault": True}, headers=auth)
    client.delete("/v1/providers/webhook", headers=auth)
    assert _listed(client, auth) == [("e2b", True), ("fly", False)]


def test_delete_an_unconfigured_provider_is_404(client, auth):
    body = assert_error(client.delete("/v1/providers/fly", headers=auth), 404, "not_found")
    assert body["error"]["message"] == "Provider 'fly' is not configured."


def test_delete_an_unknown_provider_is_422(client, auth):
    assert_error(client.delete("/v1/providers/heroku", headers=auth), 422, "unprocessable_entity")


def test_delete_while_an_agent_uses_it_is_409_until_it_is_terminated(client, auth):
    _configure(client, auth, "fly")
    agent = make_agent(client, auth, provider="fly")
    body = assert_error(client.delete("/v1/providers/fly", headers=auth), 409, "conflict")
    assert body["error"]["details"] == {"provider": "fly", "activeAgents": 1}
    _terminate(client, auth, agent["id"])
    assert client.delete("/v1/providers/fly", headers=auth).json() == {"ok": True}


def test_another_tenants_agents_do_not_block_a_delete(client, auth):
    _configure(client, auth, "fly")
    make_agent(client, OTHER, provider="fly")
    assert client.delete("/v1/providers/fly", headers=auth).status_code == 200


def test_another_tenant_cannot_delete_your_provider(client, auth):
    _configure(client, auth, "fly")
    assert_error(client.delete("/v1/providers/fly", headers=OTHER), 404, "not_found")
    assert _listed(client, auth) == [("fly", True)]


# ---- an agent's provider ----

def test_agent_without_providers_runs_on_mock(client, auth):
    assert make_agent(client, auth)["provider"] == "mock"


def test_agent_without_a_provider_takes_the_default(client, auth):
    _configure(client, auth, "e2b")
    _configure(client, auth, "fly", isDefault=True)
    assert make_agent(client, auth)["provider"] == "fly"


@pytest.mark.parametrize(("body", "provider"), [({"provider": "e2b"}, "e2b"),
                                                ({"compute": {"provider": "docker"}}, "docker"),
                                                ({"compute": "node", "provider": "webhook"}, "webhook")])
def test_agent_asking_for_a_provider_gets_it(client, auth, body, provider):
    _configure(client, auth, "fly")
    assert make_agent(client, auth, **body)["provider"] == provider


def test_agent_with_an_unknown_provider_is_422(client, auth):
    session = make_session(client, auth)
    response = client.post(f"/v1/sessions/{session['id']}/agents", json={"provider": "heroku"}, headers=auth)
    assert "provider" in assert_error(response, 422, "unprocessable_entity")["error"]["message"]


def test_agents_filter_by_resolved_provider(client, auth):
    _configure(client, auth, "fly")
    session = make_session(client, auth)
    make_agent(client, auth, session["id"])
    make_agent(client, auth, session["id"], provider="e2b")
    listed = client.get("/v1/agents?provider=fly", headers=auth).json()["data"]
    assert [a["provider"] for a in listed] == ["fly"]
