"""State export and import (/_emu/state/export, /_emu/state/import, `theazo-emu state`).

The round trip is the contract: export -> import into a fresh emulator -> export gives
the identical document, and the fresh emulator then answers, and numbers new ids, as the
first one would. Secrets leave as ciphertext only. A one-tenant document touches only
that tenant. A bad document is a 422 and changes nothing.
"""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner
from conftest import START, advance, assert_error, make_agent, make_session, serve_process
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.app import api_routes
from theazo_emu.cli.main import main
from theazo_emu.core.auth import tenant_of
from theazo_emu.settings import Settings

MASTER_KEY = "7e" * 32
CANARY = "sk-snapshot-canary-41c9"


def _fresh(**settings) -> TestClient:
    return TestClient(create_app(Settings(clock=START, master_key=MASTER_KEY, **settings)))


def _scenario(client, auth) -> dict:
    """Sessions, agents, a finished and a running run, a secret, the ledger."""
    session = make_session(client, auth, limits={"maxAgents": 4}, metadata={"plan": "pro"})
    agent = make_agent(client, auth, session["id"], tools=["web_search"])
    client.post(f"/v1/agents/{agent['id']}/run", json={"task": "first"}, headers=auth)
    advance(client, 600)
    client.post(f"/v1/agents/{agent['id']}/run", json={"task": "second"}, headers=auth)
    response = client.post("/v1/secrets", json={"name": "OPENAI_API_KEY", "value": CANARY}, headers=auth)
    assert response.status_code == 201, response.text
    return {"session": session, "agent": agent}


def _export(client, **params) -> dict:
    response = client.get("/_emu/state/export", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _import(client, document: dict):
    return client.post("/_emu/state/import", json=document)


def test_export_import_export_round_trips_exactly(auth):
    with _fresh() as first:
        _scenario(first, auth)
        document = _export(first)
    with _fresh() as second:
        assert _import(second, document).status_code == 200
        assert _export(second) == document


def test_the_imported_emulator_answers_and_numbers_new_ids_like_the_original(auth):
    with _fresh() as first:
        world = _scenario(first, auth)
        document = _export(first)
        agent_then = first.get(f"/v1/agents/{world['agent']['id']}", headers=auth).json()
        usage_then = first.get("/v1/usage/summary", headers=auth).json()
        next_then = make_session(first, auth, userId="after")
    with _fresh() as second:
        _import(second, document)
        assert second.get(f"/v1/agents/{world['agent']['id']}", headers=auth).json() == agent_then
        assert second.get("/v1/usage/summary", headers=auth).json() == usage_then
        assert make_session(second, auth, userId="after") == next_then


def test_the_document_holds_every_table_the_clock_and_the_id_counters(client, auth, key, emu):
    make_session(client, auth)
    document = _export(client)
    tables = {r[0] for r in emu.store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(document["tables"]) == tables - {"_sqlite_migrations", "clock", "crypto_meta"}
    assert {"sessions", "agents", "runs", "run_events", "ledger", "counters", "secrets"} <= set(document["tables"])
    assert document["clock"] == {"now": "2025-05-01T00:00:00.000Z", "epochMs": 1746057600000, "frozen": True}
    assert document["tables"]["counters"] == [{"tenant": tenant_of(key), "seq": 1}]
    assert (document["format"], document["version"], document["tenant"]) == ("theazo-emu-state", 1, None)


def test_secrets_leave_as_ciphertext_never_plaintext(auth):
    with _fresh() as client:
        _scenario(client, auth)
        text = client.get("/_emu/state/export").text
        [secret] = json.loads(text)["tables"]["secrets"]
    assert CANARY not in text
    assert secret["name"] == "OPENAI_API_KEY" and secret["ciphertext"].startswith("v1:")


def test_a_secret_still_opens_after_import_under_the_same_master_key(auth):
    with _fresh() as first:
        world = _scenario(first, auth)
        document = _export(first)
    with _fresh(exec_mode="local") as second:
        _import(second, document)
        agent = make_agent(second, auth, world["session"]["id"], secrets=["OPENAI_API_KEY"])
        code = "import os; print(len(os.environ.get('OPENAI_API_KEY', '')))"
        response = second.post(f"/v1/agents/{agent['id']}/exec", json={"lang": "python", "code": code}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["stdout"] == f"{len(CANARY)}\n"


def test_one_tenants_export_holds_only_its_rows_and_their_children(client, auth, key):
    other = {"Authorization": "Bearer th_test_snapshot_other"}
    agent = make_agent(client, auth)
    client.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"}, headers=auth)
    make_agent(client, other)
    document = _export(client, key=key)
    assert document["tenant"] == tenant_of(key)
    rows = [row for table in document["tables"].values() for row in table]
    assert rows and all(row.get("tenant", tenant_of(key)) == tenant_of(key) for row in rows)
    assert document["tables"]["run_events"] and len(document["tables"]["agents"]) == 1


def test_importing_one_tenants_document_leaves_the_other_tenants_alone(client, auth, key):
    other = {"Authorization": "Bearer th_test_snapshot_bystander"}
    make_session(client, auth, userId="kept")
    document = _export(client, key=key)
    make_session(client, auth, userId="dropped")
    bystander = make_session(client, other)
    assert _import(client, document).json()["tenant"] == tenant_of(key)
    assert [s["userId"] for s in client.get("/v1/sessions", headers=auth).json()["data"]] == ["kept"]
    assert client.get("/v1/sessions", headers=other).json()["data"] == [bystander]


def test_import_restores_the_clock(client, auth):
    document = _export(client)
    advance(client, 7200)
    result = _import(client, document).json()
    assert result["clock"]["now"] == "2025-05-01T00:00:00.000Z"
    assert client.get("/_emu/clock").json() == {"now": "2025-05-01T00:00:00.000Z", "epochMs": 1746057600000,
                                                "frozen": True}


def test_import_replaces_the_whole_state(client, auth):
    document = _export(client)
    make_session(client, auth)
    assert _import(client, document).json()["ok"] is True
    assert client.get("/v1/sessions", headers=auth).json()["data"] == []


def test_a_document_larger_than_the_api_body_limit_imports(auth):
    with _fresh() as first:
        make_session(first, auth)
        document = _export(first)
    row = document["tables"]["sessions"][0]
    document["tables"]["sessions"] += [{**row, "id": f"ses_{n:026d}", "metadata": {"pad": "x" * 4096}}
                                       for n in range(400)]
    assert len(json.dumps(document)) > 1024 * 1024
    with _fresh() as second:
        assert _import(second, document).json()["tables"]["sessions"] == 401


def test_a_document_over_the_import_limit_is_413(client, app, monkeypatch):
    route = next(r for r in api_routes(app) if r.path == "/_emu/state/import")
    monkeypatch.setattr(route, "max_body", 1000)  # the real limit, 256 MiB, is too large to send in a test
    body = assert_error(client.post("/_emu/state/import", content=b"{" + b" " * 2000 + b"}",
                                    headers={"Content-Type": "application/json"}), 413, "payload_too_large")
    assert "exceeds 1000 bytes" in body["error"]["message"]


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.update(format="something-else"), "format"),
    (lambda d: d.update(version=2), "version"),
    (lambda d: d.pop("tables"), "tables"),
    (lambda d: d["tables"].update(no_such_table=[]), "tables.no_such_table"),
    (lambda d: d["tables"]["sessions"][0].update(colour="red"), "tables.sessions[0].colour"),
    (lambda d: d["tables"]["sessions"][0].update(user_id={"$base64": "%%%"}), "tables.sessions[0].user_id"),
])
def test_a_bad_document_is_422_and_changes_nothing(client, auth, change, field):
    make_session(client, auth)
    document, before = _export(client), _export(client)
    change(document)
    body = assert_error(_import(client, document), 422, "unprocessable_entity")
    assert any(d["field"] == field for d in body["error"]["details"]["fields"]), body
    assert _export(client) == before


def test_a_document_the_database_refuses_is_422_and_changes_nothing(client, auth):
    make_session(client, auth)
    document = _export(client)
    before = _export(client)
    document["tables"]["sessions"].append({**document["tables"]["sessions"][0]})  # the same primary key twice
    body = assert_error(_import(client, document), 422, "unprocessable_entity")
    assert "UNIQUE constraint failed" in body["error"]["message"]
    assert _export(client) == before


def test_a_one_tenant_document_cannot_carry_another_tenants_rows(client, auth, key):
    make_session(client, auth)
    document = _export(client, key=key)
    document["tables"]["sessions"][0]["tenant"] = tenant_of("th_test_intruder")
    body = assert_error(_import(client, document), 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "tables.sessions[0].tenant"


@pytest.mark.server
def test_state_commands_move_the_state_between_two_servers(tmp_path):
    auth = {"Authorization": "Bearer th_test_state_cli"}
    path = tmp_path / "state.json"
    runner = CliRunner()
    with serve_process("--clock", START, "--master-key", MASTER_KEY) as url:
        session = httpx.post(f"{url}/v1/sessions", json={"userId": "moved"}, headers=auth).json()
        exported = runner.invoke(main, ["state", "export", str(path), "--url", url])
        printed = runner.invoke(main, ["state", "export", "--url", url, "--key", "th_test_state_cli"])
    assert exported.exit_code == 0, exported.output
    assert json.loads(printed.stdout)["tenant"] == tenant_of("th_test_state_cli")
    with serve_process("--clock", START, "--master-key", MASTER_KEY) as url:
        imported = runner.invoke(main, ["state", "import", str(path), "--url", url])
        assert imported.exit_code == 0, imported.output
        assert json.loads(imported.stdout)["tables"]["sessions"] == 1
        assert httpx.get(f"{url}/v1/sessions/{session['id']}", headers=auth).json() == session
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    failed = runner.invoke(main, ["state", "import", str(broken), "--url", "http://127.0.0.1:9"])
    assert failed.exit_code == 1 and "is not a JSON document" in failed.output


def test_a_document_exported_before_the_delivery_columns_were_renamed_still_imports(auth):
    """Rows of webhook_deliveries and theo_deliveries under their old column names (migrations
    m091 and m126) import under the new ones, and export as the new ones."""
    theo = {"Authorization": "Bearer theo_sk_test_snapshot"}
    with _fresh() as first:
        hook = first.post("/v1/webhooks", json={"url": "https://hooks.example.com/a", "events": ["*"]},
                          headers=auth).json()
        first.post(f"/v1/webhooks/{hook['id']}/test", headers=auth)
        theo_hook = first.post("/api/v1/webhooks", headers=theo, json={
            "url": "https://hooks.example.com/b", "event_types": ["completion.created"]}).json()
        first.post(f"/api/v1/webhooks/{theo_hook['id']}/test", headers=theo)
        document = _export(first)
    tables = document["tables"]
    assert tables["webhook_deliveries"] and tables["theo_deliveries"]
    old = json.loads(json.dumps(document))
    for table, renames in (("webhook_deliveries", {"http_status": "response_status", "event_type": "event"}),
                           ("theo_deliveries", {"attempts": "attempt", "error": "error_message"})):
        old["tables"][table] = [{renames.get(k, k): v for k, v in row.items()} for row in tables[table]]
    assert old != document
    with _fresh() as second:
        response = _import(second, old)
        assert response.status_code == 200, response.text
        assert _export(second) == document
