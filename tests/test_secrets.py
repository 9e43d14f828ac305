"""Secrets over HTTP: the reference's /v1/secrets routes and the SDK's session routes,
validation and tenancy, agents that name secrets (and see them under --exec local),
encryption at rest, the master key and its key file, and determinism of the answers.

A value never appears in an answer: every test that sets one reads answers as metadata
only. Leaks through logs, the database file and the journal are in test_secret_leaks.py.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import START, advance, assert_error, make_agent, make_session
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.cli.main import main
from theazo_emu.core.crypto import DecryptError, MasterKeyError, associated_data, parse_key
from theazo_emu.settings import Settings

VALUE = "sk-live-4b1d0c2e9f"
OTHER = {"Authorization": "Bearer th_test_someone_else"}
SDK = {"X-SDK-Version": "0.1.0"}
MISSING_SESSION = "ses_01JT4J97000000012Y7ZM38QJT"
KEY_HEX = "0f" * 32


def _set(client, auth, name: str = "OPENAI_API_KEY", value: str = VALUE, **extra):
    return client.post("/v1/secrets", json={"name": name, "value": value, **extra}, headers=auth)


def _names(client, auth, query: str = "") -> list[tuple[str, str]]:
    response = client.get(f"/v1/secrets{query}", headers=auth)
    assert response.status_code == 200, response.text
    return [(item["name"], item["scope"]) for item in response.json()["data"]]


def _stored(emu) -> list[dict]:
    return emu.store.all("SELECT * FROM secrets ORDER BY id")


# ---- POST /v1/secrets ----

def test_set_org_secret_answers_metadata_without_the_value(client, auth):
    response = _set(client, auth)
    assert response.status_code == 201
    assert response.json() == {"name": "OPENAI_API_KEY", "scope": "org", "createdAt": "2025-05-01T00:00:00.000Z",
                               "updatedAt": "2025-05-01T00:00:00.000Z"}
    assert VALUE not in response.text


def test_set_session_secret_has_the_session_as_scope(client, auth):
    session = make_session(client, auth)
    response = _set(client, auth, "DB_PASSWORD", sessionId=session["id"])
    assert response.status_code == 201
    assert response.json()["scope"] == session["id"]


def test_same_name_and_scope_overwrites_keeping_created_at(client, auth):
    _set(client, auth, value="first")
    advance(client, 60)
    response = _set(client, auth, value="second")
    assert response.status_code == 200
    body = response.json()
    assert (body["createdAt"], body["updatedAt"]) == ("2025-05-01T00:00:00.000Z", "2025-05-01T00:01:00.000Z")
    assert _names(client, auth) == [("OPENAI_API_KEY", "org")]


def test_same_name_in_org_and_session_scope_are_two_secrets(client, auth):
    session = make_session(client, auth)
    _set(client, auth, "TOKEN")
    _set(client, auth, "TOKEN", sessionId=session["id"])
    assert sorted(_names(client, auth)) == sorted([("TOKEN", "org"), ("TOKEN", session["id"])])


@pytest.mark.parametrize("name", ["bad name!", "../x", "", "a" * 300, "a/b", "naïve", "x.y", " KEY"],
                         ids=["space-bang", "dotdot", "empty", "300-chars", "slash", "non-ascii", "dot", "lead-space"])
def test_invalid_names_are_422_and_store_nothing(client, auth, emu, name):
    error = assert_error(_set(client, auth, name), 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "name"
    assert "letters, digits, '_' or '-'" in error["details"]["fields"][0]["message"]
    assert VALUE not in json.dumps(error)
    assert _stored(emu) == []


def test_name_of_128_characters_is_accepted(client, auth):
    assert _set(client, auth, "N" * 128).status_code == 201


@pytest.mark.parametrize(("value", "message"), [
    ("", "must not be empty"),
    (123, "valid string"),
    (None, "valid string"),
    ("nul\x00inside", "NUL"),
    ("x" * (64 * 1024 + 1), "at most 65536 bytes"),
], ids=["empty", "number", "null", "nul-char", "over-64KiB"])
def test_invalid_values_are_422_and_store_nothing(client, auth, emu, value, message):
    error = assert_error(_set(client, auth, value=value), 422, "unprocessable_entity")["error"]
    assert [d["field"] for d in error["details"]["fields"]] == ["value"]
    assert message in error["details"]["fields"][0]["message"]
    assert _stored(emu) == []


def test_a_lone_surrogate_in_the_value_is_422(client, auth, emu):
    raw = b'{"name": "K", "value": "abc\\ud800"}'
    response = client.post("/v1/secrets", content=raw, headers={**auth, "Content-Type": "application/json"})
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0] == {"field": "value", "type": "json_invalid",
                                             "message": "the string holds a lone UTF-16 surrogate (not encodable as UTF-8)"}
    assert _stored(emu) == []


def test_a_value_of_exactly_64_kib_is_accepted(client, auth):
    assert _set(client, auth, value="v" * (64 * 1024)).status_code == 201


def test_a_one_mib_value_is_413_before_the_body_is_read(client, auth, emu):
    # The body (value plus JSON around it) is over the 1 MiB body limit: refused unread.
    body = assert_error(_set(client, auth, value="v" * (1024 * 1024)), 413, "payload_too_large")
    assert "exceeds 1048576 bytes" in body["error"]["message"]
    assert _stored(emu) == []


def test_missing_name_and_value_are_named(client, auth):
    error = assert_error(client.post("/v1/secrets", json={}, headers=auth), 422, "unprocessable_entity")["error"]
    assert {d["field"] for d in error["details"]["fields"]} == {"name", "value"}
    assert error["message"] == "Request body failed validation: name, value."


def test_unknown_session_is_404_and_stores_nothing(client, auth, emu):
    body = assert_error(_set(client, auth, sessionId=MISSING_SESSION), 404, "not_found")
    assert MISSING_SESSION in body["error"]["message"]
    assert _stored(emu) == []


def test_another_tenants_session_is_404(client, auth, emu):
    theirs = make_session(client, OTHER)
    assert_error(_set(client, auth, sessionId=theirs["id"]), 404, "not_found")
    assert _stored(emu) == []


def test_empty_session_id_is_422(client, auth):
    error = assert_error(_set(client, auth, sessionId=""), 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "sessionId"


# ---- GET /v1/secrets ----

def test_list_without_session_id_shows_every_scope_newest_first(client, auth):
    session = make_session(client, auth)
    _set(client, auth, "A")
    _set(client, auth, "B", sessionId=session["id"])
    response = client.get("/v1/secrets", headers=auth)
    assert response.json() == {
        "data": [
            {"name": "B", "scope": session["id"], "createdAt": START.replace("Z", ".000Z"),
             "updatedAt": START.replace("Z", ".000Z")},
            {"name": "A", "scope": "org", "createdAt": START.replace("Z", ".000Z"),
             "updatedAt": START.replace("Z", ".000Z")},
        ],
        "nextCursor": None, "cursor": "", "hasMore": False}


def test_list_with_session_id_shows_only_that_session(client, auth):
    one, two = make_session(client, auth), make_session(client, auth, userId="user_2")
    _set(client, auth, "ORG_ONLY")
    _set(client, auth, "ONE", sessionId=one["id"])
    _set(client, auth, "TWO", sessionId=two["id"])
    assert _names(client, auth, f"?sessionId={one['id']}") == [("ONE", one["id"])]


def test_list_pages_with_a_cursor(client, auth):
    for name in ("A", "B", "C"):
        _set(client, auth, name)
    first = client.get("/v1/secrets?limit=2", headers=auth).json()
    assert [s["name"] for s in first["data"]] == ["C", "B"] and first["hasMore"] is True
    assert first["nextCursor"] == first["cursor"]
    second = client.get(f"/v1/secrets?limit=2&cursor={first['nextCursor']}", headers=auth).json()
    assert [s["name"] for s in second["data"]] == ["A"] and second["hasMore"] is False


def test_list_for_unknown_session_is_404(client, auth):
    assert_error(client.get(f"/v1/secrets?sessionId={MISSING_SESSION}", headers=auth), 404, "not_found")


def test_another_tenant_sees_none_of_your_secrets(client, auth):
    _set(client, auth)
    assert client.get("/v1/secrets", headers=OTHER).json()["data"] == []


# ---- DELETE /v1/secrets/:name ----

def test_delete_org_secret(client, auth):
    _set(client, auth)
    response = client.delete("/v1/secrets/OPENAI_API_KEY", headers=auth)
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert _names(client, auth) == []


def test_delete_unknown_secret_is_404(client, auth):
    body = assert_error(client.delete("/v1/secrets/NOPE", headers=auth), 404, "not_found")
    assert body["error"]["message"] == "No secret named 'NOPE' in scope 'org'."


def test_delete_session_secret_needs_its_session_id(client, auth):
    session = make_session(client, auth)
    _set(client, auth, "DB_PASSWORD", sessionId=session["id"])
    body = assert_error(client.delete("/v1/secrets/DB_PASSWORD", headers=auth), 404, "not_found")
    assert "pass its sessionId" in body["error"]["message"]
    response = client.delete(f"/v1/secrets/DB_PASSWORD?sessionId={session['id']}", headers=auth)
    assert response.json() == {"ok": True}
    assert _names(client, auth) == []


def test_delete_with_an_invalid_name_is_422(client, auth):
    error = assert_error(client.delete("/v1/secrets/bad%20name!", headers=auth), 422, "unprocessable_entity")
    assert error["error"]["details"]["fields"][0]["field"] == "name"


def test_another_tenant_cannot_delete_your_secret(client, auth):
    _set(client, auth)
    assert_error(client.delete("/v1/secrets/OPENAI_API_KEY", headers=OTHER), 404, "not_found")
    assert _names(client, auth) == [("OPENAI_API_KEY", "org")]


# ---- the SDK README's map form of POST /v1/secrets ----

def test_a_map_body_sets_org_secrets(client, auth, emu):
    response = client.post("/v1/secrets", json={"e2b_key": "e2b_sk_1", "openrouter_key": "sk-or-2"}, headers=auth)
    assert response.status_code == 201, response.text
    assert [(s["name"], s["scope"]) for s in response.json()["data"]] == [("e2b_key", "org"), ("openrouter_key", "org")]
    assert "e2b_sk_1" not in response.text and "sk-or-2" not in response.text
    assert sorted(_names(client, auth)) == [("e2b_key", "org"), ("openrouter_key", "org")]
    again = client.post("/v1/secrets", json={"e2b_key": "e2b_sk_3"}, headers=auth)
    assert again.status_code == 200 and len(_stored(emu)) == 2


def test_a_map_body_with_session_id_is_scoped_to_that_session(client, auth):
    session = make_session(client, auth)
    response = client.post("/v1/secrets", json={"K": "v", "sessionId": session["id"]}, headers=auth)
    assert response.status_code == 201 and response.json()["data"][0]["scope"] == session["id"]


def test_a_map_body_with_a_bad_entry_names_it_and_stores_none(client, auth, emu):
    response = client.post("/v1/secrets", json={"GOOD": "fine", "bad name!": VALUE, "NUM": 5}, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert error["message"] == "Request body failed validation: NUM, bad name!."
    assert VALUE not in response.text and _stored(emu) == []


def test_a_body_with_name_or_value_is_the_reference_form(client, auth, emu):
    error = assert_error(client.post("/v1/secrets", json={"name": "K", "OTHER": "x"}, headers=auth), 422,
                         "unprocessable_entity")["error"]
    assert [d["field"] for d in error["details"]["fields"]] == ["value"]
    assert _set(client, auth, "name", "value").json()["name"] == "name"
    assert _names(client, auth) == [("name", "org")]


# ---- the SDK's /v1/sessions/:id/secrets ----

def test_sdk_set_takes_a_map_and_scopes_it_to_the_session(client, auth):
    session = make_session(client, auth)
    response = client.post(f"/v1/sessions/{session['id']}/secrets", json={"API_KEY": "a1", "db-pass": "b2"},
                           headers={**auth, **SDK})
    assert response.status_code == 201
    body = response.json()
    assert body["ok"] is True
    assert [(s["name"], s["scope"]) for s in body["data"]] == [("API_KEY", session["id"]), ("db-pass", session["id"])]
    assert sorted(_names(client, auth, f"?sessionId={session['id']}")) == [("API_KEY", session["id"]),
                                                                           ("db-pass", session["id"])]


def test_sdk_set_overwrites_existing_names(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/secrets", json={"K": "one"}, headers=auth)
    response = client.post(f"/v1/sessions/{session['id']}/secrets", json={"K": "two"}, headers=auth)
    assert response.status_code == 200
    assert _names(client, auth) == [("K", session["id"])]


def test_sdk_set_with_an_empty_map_stores_nothing(client, auth, emu):
    session = make_session(client, auth)
    response = client.post(f"/v1/sessions/{session['id']}/secrets", json={}, headers=auth)
    assert response.status_code == 200 and response.json() == {"ok": True, "data": []}
    assert _stored(emu) == []


def test_sdk_set_with_bad_entries_names_each_and_stores_none(client, auth, emu):
    session = make_session(client, auth)
    response = client.post(f"/v1/sessions/{session['id']}/secrets",
                           json={"GOOD": "fine", "bad name!": VALUE, "EMPTY": "", "NUM": 5}, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert error["message"] == "Request body failed validation: EMPTY, NUM, bad name!."
    assert {(d["field"], d["message"]) for d in error["details"]["fields"]} == {
        ("bad name!", "secret name must be 1 to 128 letters, digits, '_' or '-'"),
        ("EMPTY", "value must not be empty"), ("NUM", "value must be a string")}
    assert VALUE not in response.text
    assert _stored(emu) == []


def test_sdk_list_is_a_bare_array_for_the_sdk(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/secrets", json={"K": "v"}, headers=auth)
    response = client.get(f"/v1/sessions/{session['id']}/secrets", headers={**auth, **SDK})
    assert response.json() == [{"name": "K", "scope": session["id"], "createdAt": "2025-05-01T00:00:00.000Z",
                                "updatedAt": "2025-05-01T00:00:00.000Z"}]


def test_sdk_list_is_the_envelope_for_other_clients(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/secrets", json={"K": "v"}, headers=auth)
    _set(client, auth, "ORG")
    body = client.get(f"/v1/sessions/{session['id']}/secrets", headers=auth).json()
    assert [s["name"] for s in body["data"]] == ["K"]
    assert body["hasMore"] is False


def test_sdk_list_follows_the_dialect_option(auth):
    with TestClient(create_app(Settings(clock=START, dialect="sdk"))) as client:
        session = make_session(client, auth)
        assert client.get(f"/v1/sessions/{session['id']}/secrets", headers=auth).json() == []


def test_sdk_delete(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/secrets", json={"K-1": "v"}, headers=auth)
    response = client.delete(f"/v1/sessions/{session['id']}/secrets/K-1", headers=auth)
    assert response.json() == {"ok": True}
    assert _names(client, auth) == []
    assert_error(client.delete(f"/v1/sessions/{session['id']}/secrets/K-1", headers=auth), 404, "not_found")


def test_sdk_delete_leaves_the_org_secret_of_the_same_name(client, auth):
    session = make_session(client, auth)
    _set(client, auth, "K")
    assert_error(client.delete(f"/v1/sessions/{session['id']}/secrets/K", headers=auth), 404, "not_found")
    assert _names(client, auth) == [("K", "org")]


@pytest.mark.parametrize(("method", "suffix"), [("POST", ""), ("GET", ""), ("DELETE", "/K")])
def test_sdk_routes_on_another_tenants_session_are_404(client, auth, method, suffix):
    theirs = make_session(client, OTHER)
    client.post(f"/v1/sessions/{theirs['id']}/secrets", json={"K": "v"}, headers=OTHER)
    response = client.request(method, f"/v1/sessions/{theirs['id']}/secrets{suffix}",
                              json={"K": "mine"} if method == "POST" else None, headers=auth)
    body = assert_error(response, 404, "not_found")
    assert theirs["id"] in body["error"]["message"]
    assert [s["name"] for s in client.get("/v1/secrets", headers=OTHER).json()["data"]] == ["K"]


# ---- agents ----

def test_agent_created_with_known_secrets_lists_their_names(client, auth):
    session = make_session(client, auth)
    _set(client, auth, "ORG_KEY")
    _set(client, auth, "SESSION_KEY", sessionId=session["id"])
    agent = make_agent(client, auth, session["id"], secrets=["ORG_KEY", "SESSION_KEY"])
    assert agent["secrets"] == ["ORG_KEY", "SESSION_KEY"]


def test_agent_with_an_unknown_secret_is_422_naming_it(client, auth):
    session = make_session(client, auth)
    _set(client, auth, "KNOWN")
    response = client.post(f"/v1/sessions/{session['id']}/agents", json={"secrets": ["KNOWN", "MISSING"]},
                           headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert "Unknown secret 'MISSING'" in error["message"]
    assert error["details"]["fields"] == [{"field": "secrets", "message": "unknown secret 'MISSING'", "type": "value_error"}]
    assert client.get(f"/v1/sessions/{session['id']}/agents", headers=auth).json()["data"] == []


def test_another_sessions_secret_is_unknown_to_an_agent(client, auth):
    mine, other = make_session(client, auth), make_session(client, auth, userId="user_2")
    _set(client, auth, "ELSEWHERE", sessionId=other["id"])
    response = client.post(f"/v1/sessions/{mine['id']}/agents", json={"secrets": ["ELSEWHERE"]}, headers=auth)
    assert_error(response, 422, "unprocessable_entity")


@pytest.fixture
def local(tmp_path: Path):
    """An in-process emulator that runs exec for real."""
    with TestClient(create_app(Settings(clock=START, exec_mode="local", workdir=tmp_path))) as client:
        yield client


def _exec(client, auth, agent_id: str, code: str, lang: str = "python") -> dict:
    response = client.post(f"/v1/agents/{agent_id}/exec", json={"lang": lang, "code": code}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_local_exec_sees_secrets_as_environment_variables(local, auth):
    session = make_session(local, auth)
    _set(local, auth, "ORG_KEY", "org-value")
    _set(local, auth, "SESSION_KEY", "session-value", sessionId=session["id"])
    agent = make_agent(local, auth, session["id"], secrets=["ORG_KEY", "SESSION_KEY"])
    code = 'import os; print(os.environ["ORG_KEY"] == "org-value", os.environ["SESSION_KEY"] == "session-value")'
    assert _exec(local, auth, agent["id"], code)["stdout"] == "True True\n"


def test_session_secret_wins_over_org_secret_of_the_same_name(local, auth):
    session = make_session(local, auth)
    _set(local, auth, "TOKEN", "from-org")
    _set(local, auth, "TOKEN", "from-session", sessionId=session["id"])
    agent = make_agent(local, auth, session["id"], secrets=["TOKEN"])
    code = 'import os; print(os.environ["TOKEN"] == "from-session")'
    assert _exec(local, auth, agent["id"], code)["stdout"] == "True\n"


def test_only_named_secrets_are_in_the_environment(local, auth):
    session = make_session(local, auth)
    _set(local, auth, "WANTED", "w-value")
    _set(local, auth, "UNWANTED", "u-value")
    agent = make_agent(local, auth, session["id"], secrets=["WANTED"])
    code = 'import os; print("WANTED" in os.environ, "UNWANTED" in os.environ)'
    assert _exec(local, auth, agent["id"], code)["stdout"] == "True False\n"


def test_printed_secret_values_are_masked_in_exec_output(local, auth):
    session = make_session(local, auth)
    _set(local, auth, "TOKEN", "hunter2-long-value")
    agent = make_agent(local, auth, session["id"], secrets=["TOKEN"])
    body = _exec(local, auth, agent["id"], 'echo "t=$TOKEN"; echo "$TOKEN" >&2', lang="bash")
    assert (body["stdout"], body["stderr"]) == ("t=***\n", "***\n")


def test_overwritten_secret_is_seen_with_its_new_value(local, auth):
    session = make_session(local, auth)
    _set(local, auth, "TOKEN", "old")
    agent = make_agent(local, auth, session["id"], secrets=["TOKEN"])
    _set(local, auth, "TOKEN", "new")
    assert _exec(local, auth, agent["id"], 'import os; print(os.environ["TOKEN"] == "new")')["stdout"] == "True\n"


def test_secret_deleted_after_agent_creation_is_absent(local, auth):
    session = make_session(local, auth)
    _set(local, auth, "TOKEN", "value")
    agent = make_agent(local, auth, session["id"], secrets=["TOKEN"])
    local.delete("/v1/secrets/TOKEN", headers=auth)
    assert _exec(local, auth, agent["id"], 'import os; print("TOKEN" in os.environ)')["stdout"] == "False\n"


def test_mock_exec_is_unchanged_by_secrets(client, auth):
    session = make_session(client, auth)
    _set(client, auth, "TOKEN")
    agent = make_agent(client, auth, session["id"], secrets=["TOKEN"])
    assert _exec(client, auth, agent["id"], "print(2 + 2)")["stdout"] == "4\n"


# ---- encryption at rest ----

def test_the_store_holds_a_ciphertext_bound_to_tenant_scope_and_name(client, auth, emu):
    _set(client, auth, "K")
    row = _stored(emu)[0]
    assert VALUE not in json.dumps(row) and row["ciphertext"].startswith("v1:")
    aad = associated_data("secret", row["tenant"], "org", "K")
    assert emu.cipher.open(row["ciphertext"], aad) == VALUE.encode()
    for wrong in (associated_data("secret", row["tenant"], "org", "K2"),
                  associated_data("secret", "tn_other", "org", "K"),
                  associated_data("secret", row["tenant"], "ses_x", "K")):
        with pytest.raises(DecryptError):
            emu.cipher.open(row["ciphertext"], wrong)


def test_every_write_uses_a_fresh_nonce(client, auth, emu):
    _set(client, auth, "K")
    first = _stored(emu)[0]["ciphertext"]
    _set(client, auth, "K")
    assert _stored(emu)[0]["ciphertext"] != first


def test_reset_forgets_secrets(client, auth, key):
    _set(client, auth)
    assert client.post("/_emu/reset", json={"tenant": key}).status_code == 200
    assert _names(client, auth) == []


@pytest.mark.parametrize("text", [KEY_HEX, KEY_HEX.upper(), base64.b64encode(bytes(range(32))).decode(),
                                  base64.urlsafe_b64encode(b"\xfb" * 32).decode(), f"  {KEY_HEX}\n"],
                         ids=["hex", "HEX", "base64", "urlsafe-base64", "padded-hex"])
def test_master_key_formats(text):
    assert len(parse_key(text)) == 32


@pytest.mark.parametrize("text", ["0f" * 31, "0f" * 33, "zz" * 32, base64.b64encode(b"k" * 31).decode(),
                                  "correct horse battery staple"],
                         ids=["short-hex", "long-hex", "not-hex", "base64-31-bytes", "passphrase"])
def test_bad_master_keys_are_refused_without_echoing_them(text):
    with pytest.raises(MasterKeyError) as caught:
        parse_key(text)
    assert "64 hex characters, or base64 of 32 bytes" in str(caught.value)
    assert text not in str(caught.value)


def _file_app(db: Path, master_key: str | None = None):
    return create_app(Settings(clock=START, db=str(db), master_key=master_key))


def test_a_file_database_gets_a_0600_key_file_that_the_next_start_reuses(tmp_path, auth):
    db = tmp_path / "emu.db"
    app = _file_app(db)
    with TestClient(app) as client:
        _set(client, auth, "K")
    app.state.emu.close()
    key_file = tmp_path / "emu.db.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert len(parse_key(key_file.read_text())) == 32
    again = _file_app(db)
    row = again.state.emu.store.one("SELECT * FROM secrets")
    assert again.state.emu.cipher.open(row["ciphertext"], associated_data("secret", row["tenant"], "org", "K")) \
        == VALUE.encode()
    again.state.emu.close()


def test_a_given_master_key_creates_no_key_file(tmp_path):
    _file_app(tmp_path / "emu.db", KEY_HEX).state.emu.close()
    assert not (tmp_path / "emu.db.key").exists()


def test_starting_with_the_wrong_master_key_is_refused(tmp_path):
    _file_app(tmp_path / "emu.db", KEY_HEX).state.emu.close()
    with pytest.raises(MasterKeyError, match="wrong master key for the database"):
        _file_app(tmp_path / "emu.db", "1e" * 32)


def test_starting_without_the_key_it_was_created_with_is_refused(tmp_path):
    _file_app(tmp_path / "emu.db", KEY_HEX).state.emu.close()
    with pytest.raises(MasterKeyError, match="key file .* is missing"):
        _file_app(tmp_path / "emu.db")
    assert not (tmp_path / "emu.db.key").exists()


def test_a_corrupt_key_file_is_a_clear_error(tmp_path):
    (tmp_path / "emu.db.key").write_text("not a key\n")
    with pytest.raises(MasterKeyError, match="does not hold a key"):
        _file_app(tmp_path / "emu.db")


def test_cli_refuses_a_malformed_master_key_without_echoing_it():
    result = CliRunner().invoke(main, ["call", "--in-process", "GET", "/v1/secrets", "--master-key", "hunter2-is-my-key"])
    assert result.exit_code == 2
    assert "--master-key" in result.output and "64 hex characters" in result.output
    assert "hunter2-is-my-key" not in result.output


def test_cli_refuses_the_wrong_master_key_with_a_message(tmp_path):
    db = str(tmp_path / "emu.db")
    assert CliRunner().invoke(main, ["call", "--in-process", "GET", "/v1/secrets", "--db", db, "--master-key", KEY_HEX]).exit_code == 0
    runner = CliRunner(env={"THEAZO_EMU_MASTER_KEY": "2d" * 32})
    result = runner.invoke(main, ["call", "--in-process", "GET", "/v1/secrets", "--db", db])
    assert result.exit_code == 1
    assert "wrong master key" in result.output and "Traceback" not in result.output
    assert "2d" * 32 not in result.output and KEY_HEX not in result.output


# ---- determinism ----

def _scenario(client) -> list[bytes]:
    auth = {"Authorization": "Bearer th_test_determinism"}
    session = client.post("/v1/sessions", json={"userId": "u"}, headers=auth).json()
    answers = [
        _set(client, auth, "A", "one"), _set(client, auth, "A", "two"),
        _set(client, auth, "B", "three", sessionId=session["id"]),
        client.post(f"/v1/sessions/{session['id']}/secrets", json={"C": "four"}, headers=auth),
        client.get("/v1/secrets", headers=auth), client.get(f"/v1/sessions/{session['id']}/secrets", headers=auth),
        client.post(f"/v1/sessions/{session['id']}/agents", json={"secrets": ["A", "B"]}, headers=auth),
        client.delete("/v1/secrets/A", headers=auth), _set(client, auth, "bad name", "x"),
    ]
    return [r.content + r.headers["x-request-id"].encode() for r in answers]


def test_answers_are_byte_identical_across_emulators():
    runs = []
    for _ in range(2):
        with TestClient(create_app(Settings(clock=START, seed=3))) as client:
            runs.append(_scenario(client))
    assert runs[0] == runs[1]
