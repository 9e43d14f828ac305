"""Session runs and session tasks over HTTP (sdk-compat §3 "Session instance": `session.run`,
`session.tasks`): a fresh agent per task from any agent reference, the settled RunResult at
once, the task's status following its run on the virtual clock, its agent released at the
end, cancel, the wait long poll, the list, webhooks, limits, and refusals that store nothing.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from conftest import START, advance, assert_error, make_session
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.settings import Settings

SDK = {"X-SDK-Version": "0.1.0"}
TASK_ID = "task_01JT4J97000000012Y7ZM38QJT"  # well-formed, never created


def _run(client, auth, session_id: str, **body) -> dict:
    response = client.post(f"/v1/sessions/{session_id}/run", json={"agent": "researcher", "task": "t", **body},
                           headers=auth)
    assert response.status_code == 202, response.text
    return response.json()


def _submit(client, auth, session_id: str, **body) -> dict:
    response = client.post(f"/v1/sessions/{session_id}/tasks",
                           json={"agent": "researcher", "input": {"company": "acme"}, **body}, headers=auth)
    assert response.status_code == 202, response.text
    return response.json()


def _agents(client, auth, session_id: str) -> list[dict]:
    return client.get(f"/v1/sessions/{session_id}/agents", headers=auth).json()["data"]


def _state(client, auth, session_id: str) -> list:
    return [client.get(path, headers=auth).json() for path in (
        "/v1/agents", f"/v1/sessions/{session_id}/tasks", "/v1/usage/summary", "/v1/guardrails/violations")]


# ---- session.run ----

def test_session_run_answers_the_settled_run_result_for_an_ad_hoc_agent(client, auth):
    session = make_session(client, auth)
    result = _run(client, auth, session["id"], task="analyze competitor pricing")
    assert result["taskId"].startswith("task_") and result["agentId"].startswith("agt_")
    assert "analyze competitor pricing" in result["output"]
    assert result["cost"]["amount"] > 0 and result["cost"]["currency"] == "usd"
    assert isinstance(result["toolCalls"], list) and result["artifacts"] == []
    assert result["duration"] and result["durationMs"] > 0 and result["provider"] == "mock"
    agent = client.get(f"/v1/agents/{result['agentId']}", headers=auth).json()
    assert "'researcher'" in agent["instructions"] and agent["sessionId"] == session["id"]


def test_session_run_uses_a_definition_by_id_or_by_name(client, auth):
    definition = client.post("/v1/agent-definitions", json={"name": "analyst", "instructions": "Analyse.",
                                                            "tools": ["web_search"]}, headers=auth).json()
    session = make_session(client, auth)
    for ref in (definition["id"], "analyst"):
        result = _run(client, auth, session["id"], agent=ref)
        agent = client.get(f"/v1/agents/{result['agentId']}", headers=auth).json()
        assert (agent["definitionId"], agent["tools"], agent["instructions"]) == (definition["id"], ["web_search"],
                                                                                   "Analyse.")


def test_session_run_takes_an_inline_config_timeout_and_browser(client, auth):
    session = make_session(client, auth)
    result = _run(client, auth, session["id"], agent={"instructions": "Be brief.", "tools": ["http_request"]},
                  timeout={"minutes": 2}, browser=True)
    agent = client.get(f"/v1/agents/{result['agentId']}", headers=auth).json()
    assert (agent["instructions"], agent["tools"], agent["timeout"], agent["browser"]) == (
        "Be brief.", ["http_request"], 120, True)


def test_a_session_run_agent_is_released_when_its_run_ends(client, auth):
    session = make_session(client, auth, limits={"maxAgents": 1})
    first = _run(client, auth, session["id"])
    assert [a["status"] for a in _agents(client, auth, session["id"])] == ["running"]
    assert_error(client.post(f"/v1/sessions/{session['id']}/run", json={"agent": "x", "task": "t"}, headers=auth),
                 402, "session_limit_exceeded")
    advance(client, first["durationMs"] / 1000)
    assert [a["status"] for a in _agents(client, auth, session["id"])] == ["terminated"]
    _run(client, auth, session["id"])  # the slot is free again


def test_session_run_books_to_the_ledger_and_streams_on_its_agent(client, auth):
    session = make_session(client, auth)
    result = _run(client, auth, session["id"])
    assert client.get("/v1/usage/summary", headers=auth).json()["total"] == result["cost"]
    with client.stream("GET", f"/v1/agents/{result['agentId']}/stream?taskId={result['taskId']}",
                       headers=auth) as stream:
        advance(client, 60)
        text = "".join(stream.iter_text())
    assert "event: output" in text and result["output"] in text


def test_under_instant_pace_a_session_run_has_ended_and_released_its_agent():
    app = create_app(Settings(clock=START, seed=0, pace="instant"))
    auth = {"Authorization": "Bearer th_test_instant"}
    with TestClient(app) as client:
        session = make_session(client, auth, limits={"maxAgents": 1})
        for _ in range(3):
            assert _run(client, auth, session["id"])["status"] == "completed"
        assert {a["status"] for a in _agents(client, auth, session["id"])} == {"terminated"}


@pytest.mark.parametrize(("body", "field"), [
    ({"task": "t"}, "agent"), ({"agent": "x"}, "task"), ({"agent": "", "task": "t"}, "agent"),
    ({"agent": "x", "task": ""}, "task"), ({"agent": 5, "task": "t"}, "agent"),
    ({"agent": "x", "task": "t", "timeout": {"hours": 25}}, "timeout"),
    ({"agent": "x", "task": "t", "timeout": "soon"}, "timeout"), ({"agent": "x", "task": "t", "browser": "maybe"}, "browser"),
    ({"agent": {"tools": [1]}, "task": "t"}, "tools.0"),
])
def test_bad_session_run_bodies_are_422_and_store_nothing(client, auth, body, field):
    session = make_session(client, auth)
    before = _state(client, auth, session["id"])
    error = assert_error(client.post(f"/v1/sessions/{session['id']}/run", json=body, headers=auth),
                         422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert _state(client, auth, session["id"]) == before


def test_refused_session_runs_store_nothing(client, auth):
    session = make_session(client, auth)
    before = _state(client, auth, session["id"])
    assert_error(client.post(f"/v1/sessions/{session['id']}/run", json={"agent": "adef_01JT4J97000000012Y7ZM38QJT",
                                                                      "task": "t"}, headers=auth), 404, "not_found")
    assert _state(client, auth, session["id"]) == before
    client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    before = _state(client, auth, session["id"])
    assert_error(client.post(f"/v1/sessions/{session['id']}/run", json={"agent": "x", "task": "t"}, headers=auth),
                 409, "conflict")
    assert _state(client, auth, session["id"]) == before


def test_a_run_over_the_cost_limit_is_402_and_takes_its_agent_with_it(client, auth):
    session = make_session(client, auth, limits={"maxCost": {"amount": 1, "currency": "usd", "period": "day"}})
    _run(client, auth, session["id"])
    before = _state(client, auth, session["id"])
    assert_error(client.post(f"/v1/sessions/{session['id']}/run", json={"agent": "x", "task": "t"}, headers=auth),
                 402, "session_limit_exceeded")
    assert _state(client, auth, session["id"]) == before


# ---- tasks ----

def test_a_task_is_running_then_completed_with_progress_message_and_output(client, auth):
    session = make_session(client, auth)
    task = _submit(client, auth, session["id"], priority="high")
    assert task["status"] == "running" and task["progress"] == 0 and "output" not in task
    assert (task["input"], task["priority"], task["agent"]) == ({"company": "acme"}, "high", "researcher")
    assert task["cost"]["amount"] > 0 and task["message"]
    path = f"/v1/sessions/{session['id']}/tasks/{task['taskId']}"
    advance(client, task["cost"]["amount"] and 0.5)
    mid = client.get(path, headers=auth).json()
    assert mid["status"] == "running" and 0 <= mid["progress"] < 100
    advance(client, 60)
    done = client.get(path, headers=auth).json()
    assert (done["status"], done["progress"]) == ("completed", 100)
    assert '{"company": "acme"}' in done["output"] and done["completedAt"] and done["message"] == "Completed."
    agent = client.get(f"/v1/agents/{task['agentId']}", headers=auth).json()
    assert agent["status"] == "terminated"


def test_a_string_input_is_the_task_itself(client, auth):
    session = make_session(client, auth)
    task = _submit(client, auth, session["id"], input="count the stars")
    advance(client, 60)
    done = client.get(f"/v1/sessions/{session['id']}/tasks/{task['taskId']}", headers=auth).json()
    assert "count the stars" in done["output"]


def test_a_failed_run_is_a_failed_task_with_its_error(client, auth, emu):
    client.post("/_emu/fixtures", json={"runs": [{"match": {"task": "doomed"}, "error": "provider_error",
                                                  "duration": "2s"}]})
    session = make_session(client, auth)
    task = _submit(client, auth, session["id"], input="doomed")
    advance(client, 5)
    done = client.get(f"/v1/sessions/{session['id']}/tasks/{task['taskId']}", headers=auth).json()
    assert done["status"] == "failed" and done["error"]["code"] == "provider_error" and "output" not in done


def test_cancel_stops_a_running_task_and_a_second_cancel_is_409(client, auth):
    session = make_session(client, auth)
    task = _submit(client, auth, session["id"])
    path = f"/v1/sessions/{session['id']}/tasks/{task['taskId']}"
    cancelled = client.post(f"{path}/cancel", headers=auth)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["error"]["code"] == "cancelled"
    assert client.get(f"/v1/agents/{task['agentId']}", headers=auth).json()["status"] == "terminated"
    assert_error(client.post(f"{path}/cancel", headers=auth), 409, "conflict")
    advance(client, 60)
    assert client.get(path, headers=auth).json()["status"] == "cancelled"


def test_cancelling_an_ended_task_is_409(client, auth):
    session = make_session(client, auth)
    task = _submit(client, auth, session["id"])
    advance(client, 60)
    error = assert_error(client.post(f"/v1/sessions/{session['id']}/tasks/{task['taskId']}/cancel", headers=auth),
                         409, "conflict")["error"]
    assert error["details"] == {"status": "completed"}


def test_the_list_is_newest_first_filtered_by_status_and_bare_for_the_sdk(client, auth):
    session = make_session(client, auth)
    first = _submit(client, auth, session["id"])
    advance(client, 60)
    second = _submit(client, auth, session["id"])
    run = _run(client, auth, session["id"])
    path = f"/v1/sessions/{session['id']}/tasks"
    body = client.get(path, headers=auth).json()
    assert [t["taskId"] for t in body["data"]] == [run["taskId"], second["taskId"], first["taskId"]]
    assert [t["kind"] for t in body["data"]] == ["run", "task", "task"]
    assert [t["taskId"] for t in client.get(f"{path}?status=completed", headers=auth).json()["data"]] == [
        first["taskId"]]
    assert len(client.get(f"{path}?status=running", headers=auth).json()["data"]) == 2
    bare = client.get(f"{path}?status=running", headers={**auth, **SDK}).json()
    assert isinstance(bare, list) and {t["taskId"] for t in bare} == {second["taskId"], run["taskId"]}
    page = client.get(f"{path}?limit=2", headers=auth).json()
    assert page["hasMore"] and page["nextCursor"] == page["cursor"]
    rest = client.get(f"{path}?limit=2&cursor={page['cursor']}", headers=auth).json()
    assert [t["taskId"] for t in rest["data"]] == [first["taskId"]] and not rest["hasMore"]
    assert_error(client.get(f"{path}?status=done", headers=auth), 422, "unprocessable_entity")
    assert_error(client.get(f"{path}?cursor=nope", headers=auth), 422, "unprocessable_entity")


def test_wait_answers_at_once_for_an_ended_task(client, auth):
    session = make_session(client, auth)
    task = _submit(client, auth, session["id"])
    advance(client, 60)
    started = time.monotonic()
    body = client.get(f"/v1/sessions/{session['id']}/tasks/{task['taskId']}/wait", headers=auth).json()
    assert body["status"] == "completed" and time.monotonic() - started < 2


def test_wait_on_a_frozen_clock_answers_the_running_task_when_its_timeout_passes(client, auth):
    session = make_session(client, auth)
    task = _submit(client, auth, session["id"])
    started = time.monotonic()
    response = client.get(f"/v1/sessions/{session['id']}/tasks/{task['taskId']}/wait?timeout=300ms", headers=auth)
    assert response.status_code == 200 and response.json()["status"] == "running"
    assert 0.25 <= time.monotonic() - started < 5


def test_wait_returns_when_the_clock_is_advanced_meanwhile(client, auth):
    session = make_session(client, auth)
    task = _submit(client, auth, session["id"])
    timer = threading.Timer(0.3, lambda: advance(client, 60))
    timer.start()
    started = time.monotonic()
    body = client.get(f"/v1/sessions/{session['id']}/tasks/{task['taskId']}/wait?timeout=20s", headers=auth).json()
    timer.join()
    assert body["status"] == "completed" and time.monotonic() - started < 10


@pytest.mark.parametrize("timeout", ["soon", "-1s", "2d"])
def test_a_bad_wait_timeout_is_422(client, auth, timeout):
    session = make_session(client, auth)
    task = _submit(client, auth, session["id"])
    error = assert_error(client.get(f"/v1/sessions/{session['id']}/tasks/{task['taskId']}/wait?timeout={timeout}",
                                    headers=auth), 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "timeout"


@pytest.mark.parametrize(("body", "field"), [
    ({"input": {}}, "agent"), ({"agent": "x"}, "input"), ({"agent": "x", "input": 5}, "input"),
    ({"agent": "x", "input": ""}, "input"), ({"agent": "x", "input": {}, "priority": "urgent"}, "priority"),
    ({"agent": "x", "input": {}, "webhook": "ftp://example.com"}, "webhook"),
    ({"agent": "x", "input": {}, "webhook": "not a url"}, "webhook"),
])
def test_bad_task_bodies_are_422_and_store_nothing(client, auth, body, field):
    session = make_session(client, auth)
    before = _state(client, auth, session["id"])
    error = assert_error(client.post(f"/v1/sessions/{session['id']}/tasks", json=body, headers=auth),
                         422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert _state(client, auth, session["id"]) == before


def test_unknown_and_other_sessions_tasks_are_404(client, auth):
    session, other_session = make_session(client, auth), make_session(client, auth, userId="u2")
    task = _submit(client, auth, session["id"])
    for path in (f"/v1/sessions/{other_session['id']}/tasks/{task['taskId']}",
                 f"/v1/sessions/{session['id']}/tasks/{TASK_ID}"):
        assert_error(client.get(path, headers=auth), 404, "not_found")
        assert_error(client.get(f"{path}/wait", headers=auth), 404, "not_found")
        assert_error(client.post(f"{path}/cancel", headers=auth), 404, "not_found")


def test_another_tenants_tasks_are_404_and_untouched(client, auth):
    session = make_session(client, auth)
    task = _submit(client, auth, session["id"])
    other = {"Authorization": "Bearer th_test_someone_else"}
    path = f"/v1/sessions/{session['id']}/tasks/{task['taskId']}"
    for method, suffix in (("GET", ""), ("GET", "/wait"), ("POST", "/cancel")):
        assert_error(client.request(method, path + suffix, headers=other), 404, "not_found")
    assert_error(client.get(f"/v1/sessions/{session['id']}/tasks", headers=other), 404, "not_found")
    assert client.get(path, headers=auth).json()["status"] == "running"


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        length = int(self.headers["content-length"])
        _Hook.received.append((self.headers.get("x-theazo-event"), self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_tasks_webhook_gets_the_finished_task_and_the_journal_says_so(client, auth):
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received = []
    try:
        session = make_session(client, auth)
        url = f"http://127.0.0.1:{server.server_port}/hook"
        task = _submit(client, auth, session["id"], webhook=url)
        assert task["webhook"] == url
        advance(client, 60)
        deadline = time.monotonic() + 10
        journal: list = []
        while time.monotonic() < deadline and not journal:
            journal = client.get("/_emu/requests?kind=webhook").json()["data"]
            time.sleep(0.05)
    finally:
        server.shutdown()
        server.server_close()
    assert [event for event, _ in _Hook.received] == ["task.completed"]
    assert task["taskId"].encode() in _Hook.received[0][1]
    assert journal[0]["taskId"] == task["taskId"] and journal[0]["ok"] and journal[0]["status"] == 204
