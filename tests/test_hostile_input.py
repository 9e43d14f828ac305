"""Hostile input: values JSON should not carry, rows that cannot be read, failures mid-request.

Every bad value is refused at the door (jsonio.loads, in http.read_json) with the surface's
validation error naming the field, and nothing is stored. A row stored before the door
refused such values (an older database) never makes a read fail: answers are encoded
with jsonio.dumps. A request whose endpoint raises commits nothing (store.atomic_call), and
a failure in the app-wide middleware is a 500 that keeps the connection open (front.Front).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from conftest import START, assert_error, make_agent, make_session, serve_process, stop_process
from pydantic import BaseModel
from starlette.testclient import TestClient

from theazo_emu import app as app_module
from theazo_emu import create_app
from theazo_emu.core import errors, front
from theazo_emu.core.auth import tenant_of
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.core.store import Store, atomic_call
from theazo_emu.record import tape
from theazo_emu.settings import Settings
from theazo_emu.surfaces import ADMIN, THEAZO, THEO
from theazo_emu.theazo.domain import ledger

# The values, as raw JSON text: none is acceptable JSON for the API.
HOSTILE = {"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity", "1e999": "1e999",
           "-1e999": "-1e999", "400 digits": "9" * 400, "past int64": "9223372036854775808",
           "lone high surrogate": '"\\ud800"', "lone low surrogate": '"x\\udc00y"'}
# Reads that must answer 200 whatever is stored.
READS = ("/v1/sessions", "/v1/agents", "/v1/schedules", "/v1/channels", "/v1/workflows", "/v1/workflow-runs",
         "/v1/agent-definitions", "/v1/triggers", "/v1/approvals", "/v1/usage/summary")
ADMIN_READS = ("/_emu/state/export", "/_emu/ui/state", "/_emu/requests")


def _raw(client, method: str, path: str, text: str, headers: dict) -> httpx.Response:
    return client.request(method, path, content=text.encode(), headers={**headers, "Content-Type": "application/json"})


def _tenant_state(client, auth) -> str:
    """Everything the tenant has, as one document (the state export of its key)."""
    key = auth["Authorization"].removeprefix("Bearer ")
    document = client.get(f"/_emu/state/export?key={key}").json()
    return json.dumps(document["tables"], sort_keys=True)


def _places(session_id: str, agent_id: str, workflow_id: str, channel_id: str) -> list[tuple[str, str, str, str]]:
    """(method, path, body template, field) for every write route taking free-form JSON;
    `@` in the template is where the hostile value goes."""
    return [
        ("POST", "/v1/sessions", '{"userId": "u", "metadata": {"a": @}}', "metadata.a"),
        ("POST", "/v1/sessions", '{"userId": "u", "metadata": {"deep": [1, {"x": @}]}}', "metadata.deep[1].x"),
        ("POST", "/v1/sessions", '{"userId": @}', "userId"),
        ("POST", "/v1/sessions/by-user/u9", '{"metadata": {"a": @}}', "metadata.a"),
        ("PATCH", f"/v1/sessions/{session_id}/limits", '{"maxAgents": @}', "maxAgents"),
        ("POST", f"/v1/sessions/{session_id}/agents", '{"metadata": {"a": @}}', "metadata.a"),
        ("POST", f"/v1/agents/{agent_id}/run", '{"task": "t", "input": {"n": @}}', "input.n"),
        ("POST", f"/v1/agents/{agent_id}/checkpoints", '{"metadata": {"a": @}}', "metadata.a"),
        ("POST", "/v1/agent-definitions", '{"name": "d", "metadata": {"a": @}}', "metadata.a"),
        ("POST", "/v1/schedules", '{"name": "s", "cron": "0 * * * *", "agent": "r", "userId": "u", '
                                  '"input": {"a": @}}', "input.a"),
        ("POST", "/v1/triggers", '{"name": "t", "agent": "r", "userId": "u", "metadata": {"a": @}}', "metadata.a"),
        ("POST", "/v1/channels", '{"type": "chat_embed", "agent": "r", "metadata": {"a": @}}', "metadata.a"),
        ("POST", "/v1/workflows", '{"name": "w", "steps": [{"id": "a", "type": "transform", '
                                  '"expression": {"x": @}}]}', "steps[0].expression.x"),
        ("POST", f"/v1/workflows/{workflow_id}/runs", '{"userId": "u", "input": {"a": @}}', "input.a"),
        ("POST", f"/v1/sessions/{session_id}/fleets", '{"agent": "r", "inputs": [{"a": @}]}', "inputs[0].a"),
        ("POST", "/v1/secrets", '{"name": "S", "value": @}', "value"),
        ("POST", f"/v1/sessions/{session_id}/secrets", '{"S": @}', "S"),
        ("POST", "/v1/providers", '{"provider": "e2b", "credentials": {"apiKey": @}}', "credentials.apiKey"),
        ("POST", f"/v1/channels/{channel_id}/messages", '{"content": "hi", "metadata": {"a": @}}', "metadata.a"),
        ("POST", f"/v1/workflows/{workflow_id}/estimate", '{"input": {"a": @}}', "input.a"),
        ("POST", "/_emu/state/import", '{"format": "theazo-emu-state", "tables": {"sessions": [{"x": @}]}}',
         "tables.sessions[0].x"),
        ("POST", "/_emu/fixtures", '{"runs": [{"match": {}, "output": @}]}', "runs[0].output"),
        ("POST", "/_emu/faults", '{"match": {"path": "/v1/x"}, "fault": "timeout", "latencyMs": @}', "latencyMs"),
    ]


@pytest.fixture
def places(client, auth) -> list[tuple[str, str, str, str]]:
    session = make_session(client, auth)
    agent = make_agent(client, auth, session["id"])
    workflow = client.post("/v1/workflows", headers=auth,
                           json={"name": "w", "steps": [{"id": "a", "type": "delay", "duration": "1s"}]}).json()
    channel = client.post("/v1/channels", headers=auth, json={"name": "c"}).json()
    return _places(session["id"], agent["id"], workflow["id"], channel["id"])


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_every_hostile_value_anywhere_is_422_naming_the_field_and_nothing_is_stored(client, auth, places, value):
    before = _tenant_state(client, auth)
    journal_before = client.get("/_emu/requests?count=true").json()["counts"]["total"]
    for method, path, template, field in places:
        response = _raw(client, method, path, template.replace("@", value), auth)
        body = assert_error(response, 422, "unprocessable_entity")
        problem = body["error"]["details"]["fields"][0]
        assert (problem["field"], problem["type"]) == (field, "json_invalid"), (path, body)
    assert _tenant_state(client, auth) == before
    assert client.get("/_emu/fixtures").json()["documents"] == []
    assert client.get("/_emu/faults").json()["data"] == []
    for path in READS:
        assert client.get(path, headers=auth).status_code == 200, path
    for path in ADMIN_READS:
        assert client.get(path).status_code == 200, path
    assert client.get("/_emu/requests?count=true").json()["counts"]["total"] > journal_before


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_signed_trigger_body_with_a_hostile_value_is_422_and_runs_nothing(client, auth, value):
    from theazo_emu.core.signing import sign

    trigger = client.post("/v1/triggers", headers=auth, json={"name": "t", "agent": "r", "userId": "u"}).json()
    raw = f'{{"order": {{"total": {value}}}}}'.encode()
    response = client.post(f"/v1/triggers/{trigger['id']}/fire", content=raw,
                           headers={"X-Theazo-Signature": sign(trigger["signingSecret"], raw),
                                    "Content-Type": "application/json"})
    body = assert_error(response, 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "order.total"
    assert client.get("/v1/agents", headers=auth).json()["data"] == []


def test_the_field_is_named_for_each_kind_of_value(client, auth):
    cases = {"NaN": "NaN is not a JSON number", "1e999": "out of range of a 64-bit float",
             "-9223372036854775809": "out of range (64-bit signed)", '"\\udfff"': "lone UTF-16 surrogate"}
    for value, words in cases.items():
        response = _raw(client, "POST", "/v1/sessions", f'{{"userId": "u", "metadata": {{"k": [0, {value}]}}}}', auth)
        error = assert_error(response, 422, "unprocessable_entity")["error"]
        assert error["message"].startswith("Invalid value for 'metadata.k[1]': "), error
        assert words in error["details"]["fields"][0]["message"]


def test_a_lone_surrogate_in_a_key_is_422(client, auth):
    response = _raw(client, "POST", "/v1/sessions", '{"userId": "u", "metadata": {"\\ud83d": 1}}', auth)
    assert "a key holds a lone UTF-16 surrogate" in assert_error(response, 422, "unprocessable_entity")["error"][
        "message"]


def test_the_largest_int64_values_and_escaped_pairs_are_accepted(client, auth):
    text = '{"userId": "u", "metadata": {"max": 9223372036854775807, "min": -9223372036854775808, ' \
           '"big": 1.7976931348623157e308, "emoji": "\\ud83d\\ude00"}}'
    response = _raw(client, "POST", "/v1/sessions", text, auth)
    assert response.status_code == 201, response.text
    assert response.json()["metadata"] == {"max": 2**63 - 1, "min": -(2**63), "big": 1.7976931348623157e308,
                                           "emoji": "\U0001F600"}


# ---- booleans are not numbers, null does not clear what is required ----

@pytest.mark.parametrize("flag", [False, True])
def test_a_boolean_is_not_a_number_or_a_duration(client, auth, flag):
    session = make_session(client, auth)
    steps = [{"id": "a", "type": "delay", "duration": "1s"}]
    cases = [(f"/v1/sessions/{session['id']}/agents", {"timeout": flag}, "timeout"),
             ("/v1/workflows", {"name": "w", "timeout": flag, "steps": steps}, "timeout"),
             ("/v1/agent-definitions", {"name": "d", "timeout": flag}, "timeout"),
             (f"/v1/sessions/{session['id']}/fleets", {"agent": "r", "inputs": [{}], "timeout": flag}, "timeout"),
             ("/v1/sessions", {"userId": "u2", "limits": {"maxAgents": flag}}, "limits.maxAgents"),
             ("/_emu/clock/advance", {"seconds": flag}, "seconds")]
    before = _tenant_state(client, auth)
    for path, body, field in cases:
        error = assert_error(client.post(path, json=body, headers=auth), 422, "unprocessable_entity")["error"]
        assert field in {f["field"] for f in error["details"]["fields"]}, (path, error)
    assert _tenant_state(client, auth) == before
    assert client.get("/_emu/clock").json()["now"] == "2025-05-01T00:00:00.000Z"


@pytest.mark.parametrize("field", ["steps", "name"])
def test_patching_a_workflow_with_null_steps_or_name_is_422_and_keeps_it(client, auth, field):
    created = client.post("/v1/workflows", headers=auth,
                          json={"name": "w", "steps": [{"id": "a", "type": "delay", "duration": "1s"}]}).json()
    response = client.patch(f"/v1/workflows/{created['id']}", json={field: None}, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == field
    assert "must not be null" in error["details"]["fields"][0]["message"]
    assert client.get(f"/v1/workflows/{created['id']}", headers=auth).json() == created


@pytest.mark.parametrize("path", ["/v1/agents/agt_1/files/a%0Ab", "/v1/sessions/by-user/a%0D%0Ab",
                                  "/v1/usage/users/u%0Ax%0Dy"])
def test_an_id_with_cr_or_lf_on_a_served_route_is_404_not_501(client, auth, path):
    method = "POST" if "by-user" in path else "GET"
    response = client.request(method, path, headers=auth, json={} if method == "POST" else None)
    assert response.status_code in (404, 422), response.text
    assert response.json()["error"]["code"] != "not_implemented"


def test_a_catalogued_route_that_is_not_served_is_still_501(client, auth, monkeypatch):
    # Every Theazo route is served now: a catalogue entry no route serves stands in.
    original = errors.known
    monkeypatch.setattr(errors, "known", lambda name, method, path: "/v1/widgets/:wid"
                        if re.fullmatch(r"/v1/widgets/[^/]+", path) else original(name, method, path))
    assert_error(client.get("/v1/widgets/w%0A1", headers=auth), 501, "not_implemented")


# ---- rows stored before the door refused such values ----

POISON = {"NaN": '{"a": NaN}', "Infinity": '{"a": [Infinity, -Infinity]}', "lone surrogate": '{"a": "\\ud800"}',
          "surrogate key": '{"\\udc00": 1}', "not JSON at all": "{oops", "huge int": '{"a": ' + "7" * 400 + "}"}


def _poison(store: Store, tenant: str) -> None:
    """Rows as an older emulator could have stored them (raw SQL: no door in the way)."""
    for i, text in enumerate(POISON.values()):
        store.db.execute("UPDATE sessions SET metadata = ? WHERE tenant = ? AND user_id = ?", [text, tenant, f"p{i}"])
        store.db.execute("UPDATE agents SET metadata = ?, tools = ? WHERE tenant = ? AND user_id = ?",
                         [text, '[NaN, "\\udfff"]', tenant, f"p{i}"])


def _poisoned_world(client, auth) -> list[str]:
    sessions = []
    for i in range(len(POISON)):
        session = make_session(client, auth, userId=f"p{i}")
        make_agent(client, auth, session["id"])
        sessions.append(session["id"])
    return sessions


def _strict(response: httpx.Response) -> object:
    """The body, which must be strict JSON (no NaN, no lone surrogate)."""
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in an answer")

    text = response.content.decode("utf-8")  # fails on an unpaired surrogate's bytes
    return json.loads(text, parse_constant=refuse)


def test_reads_never_fail_because_of_a_stored_row(client, auth, emu, key):
    sessions = _poisoned_world(client, auth)
    _poison(emu.store, tenant_of(key))
    paths = [*READS, *(f"/v1/sessions/{s}" for s in sessions), *(f"/v1/sessions/{s}/agents" for s in sessions)]
    for path in paths:
        response = client.get(path, headers=auth)
        assert response.status_code == 200, (path, response.text)
        _strict(response)
    for path in (*ADMIN_READS, f"/_emu/state/export?key={key}"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        _strict(response)
    metadata = {s["userId"]: s["metadata"] for s in client.get("/v1/sessions", headers=auth).json()["data"]}
    assert metadata["p0"] == {"a": None} and metadata["p2"] == {"a": "\ufffd"} and metadata["p4"] == {}


def test_a_poisoned_database_file_still_serves_every_read(tmp_path):
    db = tmp_path / "old.db"
    key = "th_test_poisoned"
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(Settings(clock=START, db=str(db), master_key="ab" * 32))) as client:
        _poisoned_world(client, auth)
        _poison(client.app.state.emu.store, tenant_of(key))
    with serve_process("--clock", START, "--db", str(db), "--master-key", "ab" * 32) as url:
        for path in READS:
            response = httpx.get(url + path, headers=auth, timeout=10)
            assert response.status_code == 200, (path, response.text)
            _strict(response)
        for path in ADMIN_READS:
            response = httpx.get(url + path, timeout=10)
            assert response.status_code == 200, (path, response.text)
            _strict(response)


# ---- a failing request commits nothing ----

@pytest.fixture
def lenient(app):
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_run_that_fails_unexpectedly_midway_is_500_and_commits_nothing(lenient, auth, monkeypatch):
    agent = make_agent(lenient, auth)
    before = _tenant_state(lenient, auth)

    def broken(*args, **kwargs):
        raise RuntimeError("the ledger broke after the run was written")

    monkeypatch.setattr(ledger, "book", broken)
    response = lenient.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"}, headers=auth)
    assert_error(response, 500, "internal_error")
    assert _tenant_state(lenient, auth) == before
    assert lenient.get(f"/v1/agents/{agent['id']}", headers=auth).json()["status"] == "idle"
    monkeypatch.undo()
    assert lenient.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"}, headers=auth).status_code == 202


def _store() -> Store:
    store = Store(":memory:")
    store.db.execute("CREATE TABLE t (n INTEGER)")
    return store


def test_atomic_call_rolls_back_an_endpoint_that_raises_before_it_waits():
    store = _store()

    async def endpoint():
        store.db.execute("INSERT INTO t VALUES (1)")
        raise ValueError("refused after writing")

    with pytest.raises(ValueError):
        asyncio.run(atomic_call(store, endpoint()))
    assert store.scalar("SELECT COUNT(*) FROM t") == 0


def test_atomic_call_commits_at_the_first_wait_and_resumes_the_endpoint():
    store = _store()
    seen = []

    async def other():
        seen.append(store.db.in_transaction)  # another task never runs inside the endpoint's transaction
        store.db.execute("INSERT INTO t VALUES (2)")

    async def endpoint():
        store.db.execute("INSERT INTO t VALUES (1)")
        await asyncio.sleep(0)
        store.db.execute("INSERT INTO t VALUES (3)")
        return "done"

    async def main():
        task = asyncio.ensure_future(atomic_call(store, endpoint()))
        await asyncio.sleep(0)
        await other()
        return await task

    assert asyncio.run(main()) == "done"
    assert seen == [False]
    assert [row["n"] for row in store.all("SELECT n FROM t ORDER BY n")] == [1, 2, 3]


def test_atomic_call_hands_a_cancellation_to_the_endpoint():
    store = _store()
    cleaned = []

    async def endpoint():
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.append(True)

    async def main():
        task = asyncio.ensure_future(atomic_call(store, endpoint()))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert cleaned == [True] and not store.db.in_transaction


# ---- a failure outside every surface keeps the connection ----

def test_a_failure_in_app_wide_middleware_is_a_500_envelope(monkeypatch, settings):
    monkeypatch.setattr(tape.TapeMiddleware, "__call__", _failing_layer)
    with TestClient(create_app(settings)) as client:  # re-raises anything that reached the server
        response = client.get("/v1/sessions", headers={"Authorization": "Bearer th_test_x"})
        assert_error(response, 500, "internal_error")
        theo = client.get("/api/v1/anything")
        assert theo.status_code == 500 and theo.json()["error"]["code"] == "server_error"


async def _failing_layer(self, scope, receive, send):
    if scope["type"] != "http":
        await self.app(scope, receive, send)
        return
    raise RuntimeError("the record/replay layer broke")


def test_a_failure_after_the_answer_is_logged_not_raised(monkeypatch, settings, caplog):
    monkeypatch.setattr(front, "_error_code", lambda raw: 1 / 0)
    with TestClient(create_app(settings)) as client:
        response = client.get("/v1/sessions/ses_x", headers={"Authorization": "Bearer th_test_x"})
        assert_error(response, 404, "not_found")
    assert "ZeroDivisionError" in caplog.text


_BROKEN_SERVE = """
import sys
from theazo_emu.core import front
from theazo_emu.record import tape
async def broken(self, scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/v1/boom":
        raise RuntimeError("middleware broke before answering")
    await original(self, scope, receive, send)
original = tape.TapeMiddleware.__call__
tape.TapeMiddleware.__call__ = broken
def after(raw):
    raise RuntimeError("middleware broke after answering")
front._error_code = after
from theazo_emu.cli.main import main
sys.argv = ["theazo-emu", *sys.argv[1:]]
main()
"""


@pytest.mark.server
def test_a_500_keeps_the_keep_alive_connection_of_a_real_server(tmp_path):
    script = tmp_path / "broken_serve.py"
    script.write_text(_BROKEN_SERVE)
    with _serve_script(script) as url:
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        answers = []
        for path in ("/v1/boom", "/v1/sessions/ses_missing", "/v1/sessions"):  # 500; 404 then a failure; 200
            connection.request("GET", path, headers={"Authorization": "Bearer th_test_ka"})
            response = connection.getresponse()
            answers.append((response.status, json.loads(response.read()), response.getheader("connection")))
            socket_used = connection.sock
            assert socket_used is not None, f"the server closed the connection after {path}"
            if len(answers) > 1:
                assert socket_used is first_socket
            first_socket = socket_used
        connection.close()
    assert [status for status, _, _ in answers] == [500, 404, 200]
    assert answers[0][1]["error"]["code"] == "internal_error"
    assert all(header != "close" for _, _, header in answers)


@contextmanager
def _serve_script(script: Path) -> Iterator[str]:
    """Run `script serve --port 0` (the CLI with a failure patched in); yield its URL."""
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sys.executable, str(script), "serve", "--port", "0", "--clock", START],
                            stdout=subprocess.PIPE, stderr=log, text=True, cwd=script.parent)
    try:
        match = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline())
        assert match, log.read()
        deadline = time.monotonic() + 10
        while True:
            try:
                if httpx.get(f"{match.group(0)}/_emu/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.02)
        yield match.group(0)
    finally:
        stop_process(proc)
        proc.stdout.close()
        log.close()


# ---- the Theo surface refuses the same values in its own envelope ----

class _Echo(BaseModel):
    value: object = None


async def _echo(ctx: Ctx) -> dict:
    """Echo the body."""
    return {"value": ctx.body.value}


def test_theo_answers_hostile_json_with_its_own_400(monkeypatch, settings):
    theo = THEO._replace(core=lambda: [api_route("/api/v1/echo", _echo, "POST", body=_Echo, public=True)])
    monkeypatch.setattr(app_module, "SURFACES", (THEAZO, ADMIN, theo))
    with TestClient(create_app(settings)) as client:
        good = client.post("/api/v1/echo", json={"value": [1, "x"]})
        assert good.status_code == 200 and good.json() == {"value": [1, "x"]}
        for value in HOSTILE.values():
            response = client.post("/api/v1/echo", content=f'{{"value": {{"x": {value}}}}}'.encode(),
                                   headers={"Content-Type": "application/json"})
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert (error["type"], error["code"]) == ("invalid_request_error", "validation_error")
            assert "'value.x'" in error["message"]
