"""The request journal, /_emu/requests: what it records, filters, paging, counts, clearing.

Driven over HTTP in process, except the CLI test, which needs a real server. Entries
carry the tenant digest, never the key, and bodies with secrets blanked; SSE frames and
events other families record (`journal.record_event`) sit beside the requests.
"""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner
from conftest import START, advance, assert_error, make_agent, make_session, serve_process
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.cli.main import main
from theazo_emu.core.auth import tenant_of
from theazo_emu.core.journal import record_event
from theazo_emu.settings import Settings


def _journal(client, **params) -> dict:
    response = client.get("/_emu/requests", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _paths(body: dict) -> list[str]:
    return [e["path"] for e in body["data"]]


def test_a_request_is_journaled_with_its_tenant_status_and_request_id(client, auth, key):
    response = client.post("/v1/sessions?trace=1", json={"userId": "u1"}, headers=auth)
    [entry] = _journal(client, key=key)["data"]
    assert entry["kind"] == "request"
    assert (entry["method"], entry["path"], entry["query"]) == ("POST", "/v1/sessions", {"trace": "1"})
    assert (entry["status"], entry["requestId"]) == (201, response.headers["x-request-id"])
    assert entry["tenant"] == tenant_of(key) and entry["tenant"].startswith("tn_")
    assert (entry["at"], entry["durationMs"]) == ("2025-05-01T00:00:00.000Z", 0)
    assert entry["body"] == {"userId": "u1"}


def test_the_journal_never_holds_the_key(client, auth, key):
    make_session(client, auth)
    client.get("/v1/sessions/ses_missing", headers=auth)
    text = client.get("/_emu/requests").text
    assert tenant_of(key) in text and key not in text


def test_secret_values_in_bodies_are_redacted(client, auth, key):
    response = client.post("/v1/secrets", json={"name": "OPENAI_API_KEY", "value": "sk-journal-canary"}, headers=auth)
    assert response.status_code == 201, response.text
    [entry] = _journal(client, key=key)["data"]
    assert entry["body"] == {"name": "OPENAI_API_KEY", "value": "[REDACTED]"}
    assert "sk-journal-canary" not in client.get("/_emu/requests").text


def test_every_value_of_a_secret_map_is_redacted_but_the_scope(client, auth, key):
    session = client.post("/v1/sessions", json={"userId": "u1"}, headers=auth).json()["id"]
    body = {"e2b_key": "e2b-map-canary", "nested": {"x": "deep-map-canary"}, "sessionId": session}
    client.post("/v1/secrets", json=body, headers=auth)
    entry = next(e for e in _journal(client, key=key)["data"] if e["path"] == "/v1/secrets")
    assert entry["body"] == {"e2b_key": "[REDACTED]", "nested": {"x": "[REDACTED]"}, "sessionId": session}
    assert "map-canary" not in client.get("/_emu/requests").text


def test_an_error_answer_keeps_its_code(client, auth, key):
    client.get("/v1/sessions/ses_missing", headers=auth)
    [entry] = _journal(client, key=key)["data"]
    assert (entry["status"], entry["errorCode"]) == (404, "not_found")


def test_sse_frames_are_journaled_with_their_stream_request(client, auth, key):
    agent = make_agent(client, auth)
    client.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"}, headers=auth)
    advance(client, 600)
    stream = client.get(f"/v1/agents/{agent['id']}/stream", headers=auth)
    frames = _journal(client, kind="sse", key=key)["data"]
    assert frames and {f["requestId"] for f in frames} == {stream.headers["x-request-id"]}
    assert frames[-1]["event"] == "output" and frames[-1]["id"].startswith("task_")
    assert {f["path"] for f in frames} == {f"/v1/agents/{agent['id']}/stream"}


def test_events_recorded_by_other_families_are_listed_and_redacted(client, emu):
    record_event(emu, "webhook", url="https://example.test/hook", status=200, secret="whsec_canary")
    [entry] = _journal(client, kind="webhook")["data"]
    assert entry["url"] == "https://example.test/hook" and entry["secret"] == "[REDACTED]"
    assert entry["at"] == "2025-05-01T00:00:00.000Z" and "requestId" not in entry


def test_filter_by_method_and_path_prefix_or_glob(client, auth, key):
    agent = make_agent(client, auth)
    client.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"}, headers=auth)
    client.get(f"/v1/agents/{agent['id']}", headers=auth)
    assert _paths(_journal(client, key=key, method="post", path="/v1/agents")) == [f"/v1/agents/{agent['id']}/run"]
    assert _paths(_journal(client, key=key, path="/v1/agents/*/run")) == [f"/v1/agents/{agent['id']}/run"]
    assert len(_journal(client, key=key, path="/v1/sessions")["data"]) == 2  # session, agent


def test_filter_by_key_shows_one_tenant_only(client, auth, key):
    make_session(client, auth)
    make_session(client, {"Authorization": "Bearer th_test_someone_else"})
    assert [e["tenant"] for e in _journal(client, key=key)["data"]] == [tenant_of(key)]
    assert len(_journal(client, tenant=tenant_of("th_test_someone_else"))["data"]) == 1


def test_filter_by_status_exact_or_class(client, auth, key):
    make_session(client, auth)
    client.get("/v1/sessions/ses_missing", headers=auth)
    client.post("/v1/sessions", json={"userId": 42}, headers=auth)
    assert [e["status"] for e in _journal(client, key=key, status="4xx")["data"]] == [404, 422]
    assert [e["status"] for e in _journal(client, key=key, status="201,422")["data"]] == [201, 422]


def test_filter_by_virtual_time(client, auth, key):
    make_session(client, auth)
    advance(client, 3600)
    make_session(client, auth, userId="later")
    later = _journal(client, key=key, since="2025-05-01T00:30:00Z")["data"]
    assert [e["body"]["userId"] for e in later] == ["later"]
    earlier = _journal(client, key=key, until="2025-05-01T00:30:00Z")["data"]
    assert [e["body"]["userId"] for e in earlier] == ["user_1"]
    assert len(_journal(client, key=key, since=str(1746057600000 + 3600_000))["data"]) == 1


def test_filter_by_request_id(client, auth):
    response = client.post("/v1/sessions", json={"userId": "u1"}, headers=auth)
    client.post("/v1/sessions", json={"userId": "u2"}, headers=auth)
    [entry] = _journal(client, requestId=response.headers["x-request-id"])["data"]
    assert entry["body"] == {"userId": "u1"}


def test_pages_follow_the_cursor_oldest_first_or_newest_first(client, auth, key):
    for n in range(5):
        make_session(client, auth, userId=f"u{n}")
    first = _journal(client, key=key, limit=2)
    assert [e["body"]["userId"] for e in first["data"]] == ["u0", "u1"] and first["hasMore"]
    second = _journal(client, key=key, limit=2, cursor=first["nextCursor"])
    assert [e["body"]["userId"] for e in second["data"]] == ["u2", "u3"]
    last = _journal(client, key=key, limit=2, cursor=second["nextCursor"])
    assert [e["body"]["userId"] for e in last["data"]] == ["u4"] and not last["hasMore"] and last["nextCursor"] is None
    newest = _journal(client, key=key, limit=2, order="desc")
    assert [e["body"]["userId"] for e in newest["data"]] == ["u4", "u3"]


def test_counts_by_kind_status_and_method(client, auth, key):
    make_session(client, auth)
    make_session(client, auth)
    client.get("/v1/sessions/ses_missing", headers=auth)
    counts = _journal(client, key=key, count="true")
    assert "data" not in counts
    assert counts["counts"] == {"total": 3, "byKind": {"request": 3}, "byStatus": {"201": 2, "404": 1},
                                "byMethod": {"GET": 1, "POST": 2}}


def test_the_journal_routes_and_health_are_not_journaled(client):
    client.get("/_emu/health")
    client.get("/_emu/requests")
    assert _journal(client)["data"] == []


def test_admin_requests_are_journaled_without_a_tenant(client):
    advance(client, 1)
    [entry] = _journal(client)["data"]
    assert (entry["path"], entry["tenant"], entry["body"]) == ("/_emu/clock/advance", None, {"seconds": 1})


def test_delete_clears_everything_or_one_tenant(client, auth, key):
    other = {"Authorization": "Bearer th_test_keeps_its_entries"}
    make_session(client, auth)
    make_session(client, other)
    assert client.delete("/_emu/requests", params={"key": key}).json() == {"ok": True, "cleared": 1}
    assert _journal(client, key=key)["data"] == []
    assert len(_journal(client)["data"]) == 1
    assert client.delete("/_emu/requests").json() == {"ok": True, "cleared": 1}
    assert _journal(client)["data"] == []


def test_the_ring_keeps_the_newest_entries_and_counts_the_dropped():
    with TestClient(create_app(Settings(clock=START, journal_size=3))) as client:
        for n in range(5):
            make_session(client, {"Authorization": "Bearer th_test_ring"}, userId=f"u{n}")
        body = _journal(client)
    assert [e["body"]["userId"] for e in body["data"]] == ["u2", "u3", "u4"]
    assert [e["seq"] for e in body["data"]] == [3, 4, 5] and body["dropped"] == 2


@pytest.mark.parametrize(("params", "field"), [({"status": "abc"}, "status"), ({"cursor": "x1"}, "cursor"),
                                               ({"since": "yesterday"}, "since"), ({"limit": "0"}, "limit"),
                                               ({"order": "random"}, "order")])
def test_bad_filters_are_422(client, params, field):
    body = assert_error(client.get("/_emu/requests", params=params), 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == field


@pytest.mark.server
def test_requests_command_lists_a_running_servers_journal():
    with serve_process("--clock", START) as url:
        runner = CliRunner()
        httpx.post(f"{url}/v1/sessions", json={"userId": "cli"}, headers={"Authorization": "Bearer th_test_cli_j"})
        httpx.get(f"{url}/v1/sessions/ses_missing", headers={"Authorization": "Bearer th_test_cli_j"})
        listed = runner.invoke(main, ["requests", "--url", url, "--key", "th_test_cli_j"])
        as_json = runner.invoke(main, ["requests", "--url", url, "--status", "4xx", "--json"])
    assert listed.exit_code == 0, listed.output
    assert "POST   /v1/sessions -> 201 req_" in listed.output
    assert "GET    /v1/sessions/ses_missing -> 404 not_found" in listed.output
    assert [e["status"] for e in json.loads(as_json.stdout)["data"]] == [404]


# ---- secrets in bodies the API refuses, in nested requests, in query strings ----

def test_a_fixture_documents_nested_secret_map_is_blanked(client):
    document = {"key": "th_test_nested", "requests": [
        {"path": "/v1/sessions/ses_01JT4J97000000012Y7ZM38QJT/secrets", "body": {"NESTED_NAME": "nested-plain"}},
        {"method": "POST", "path": "/v1/sessions", "body": {"userId": "kept-visible"}}]}
    client.post("/_emu/fixtures", json=document)
    [entry] = _journal(client, path="/_emu/fixtures")["data"]
    assert entry["body"]["requests"][0]["body"] == {"NESTED_NAME": "[REDACTED]"}
    assert entry["body"]["requests"][1]["body"] == {"userId": "kept-visible"}


def test_a_redactor_keeps_an_unparseable_body_of_a_secret_route_only_as_redacted(app):
    from theazo_emu.core.redaction import encode_body

    redactor = app.state.emu.journal.redactor
    secret_route = {"method": "POST", "path": "/v1/providers"}
    plain_route = {"method": "POST", "path": "/v1/sessions"}
    for raw in (b'{"credentials": {"k": "plain', b'{"credentials": "x\xff"}', b'{"a": NaN, "credentials": 1}'):
        assert encode_body(raw, redactor, secret_route) == {"text": "[REDACTED]"}
    assert encode_body(b'{"userId": "u", "password": "p",', redactor, plain_route) == {
        "text": '{"userId": "u", "password": "[REDACTED]",'}
    assert encode_body(b'{"credentials": {"k": "v"}}', redactor, secret_route) == {
        "body": {"credentials": {"k": "[REDACTED]"}}}


def test_secret_query_values_are_blanked_in_log_lines(app):
    import logging

    from theazo_emu.core.redaction import LogFilter

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/v1/secrets?sessionId=ses_1&value=s3cret&Token=t0k", "1.1", 200),
                               None)
    assert LogFilter(app.state.emu.journal.redactor).filter(record)
    assert record.getMessage() == ('127.0.0.1:5 - "GET /v1/secrets?sessionId=ses_1&value=[REDACTED]&Token=[REDACTED] '
                                   'HTTP/1.1" 200')
