"""Agents over HTTP: create (both body shapes), read, list, run, exec, stream, lifecycle;
and GET /v1/usage/summary, whose numbers come from the same runs.

Runs are released on the frozen virtual clock: a test moves it with `advance()` to see a
run finish, and never sleeps. The stream test connects only after the run's timeline
has ended, so the in-process client gets a finite body.
"""

from __future__ import annotations

import json

import pytest
from conftest import advance, assert_error, make_agent, make_session

from theazo_emu.theazo.bodies import Body, CreateAgent
from theazo_emu.theazo.domain.agent_config import ComputeObject, ModelObject

AGT_ID = "agt_01JT4J97000000024DT7WQJ49N"  # well-formed, never created by these tests' tenants


def _run(client, auth, agent_id: str, task: str = "Summarize the top 5 AI research papers") -> dict:
    response = client.post(f"/v1/agents/{agent_id}/run", json={"task": task}, headers=auth)
    assert response.status_code == 202, response.text
    return response.json()


def _agent(client, auth, agent_id: str) -> dict:
    response = client.get(f"/v1/agents/{agent_id}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def _post(client, auth, agent_id: str, action: str, **kwargs):
    return client.post(f"/v1/agents/{agent_id}/{action}", headers=auth, **kwargs)


def _exec(client, auth, agent_id: str, **body):
    return client.post(f"/v1/agents/{agent_id}/exec", json=body, headers=auth)


def _sse_events(text: str) -> list[dict]:
    """Parse an SSE body into [{id, event, data}], skipping comment-only blocks."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        if fields:
            events.append(fields)
    return events


# ---- create ----

def test_create_agent_with_the_reference_body(client, auth):
    session = make_session(client, auth)
    response = client.post(f"/v1/sessions/{session['id']}/agents", headers=auth, json={
        "compute": {"provider": "e2b"}, "model": {"id": "claude-3-5-sonnet-20241022"}, "timeout": 120,
        "browser": True, "tools": ["web_search", "write_file"], "instructions": "Be concise."})
    assert response.status_code == 201
    agent = response.json()
    assert agent["id"].startswith("agt_")
    assert agent["sessionId"] == session["id"] and agent["userId"] == session["userId"]
    assert agent["status"] == "idle"
    assert (agent["provider"], agent["model"], agent["timeout"]) == ("e2b", "claude-3-5-sonnet-20241022", 120)
    assert agent["browser"] is True
    assert agent["tools"] == ["web_search", "write_file"]
    assert agent["instructions"] == "Be concise."


def test_create_agent_with_the_sdk_body(client, auth):
    assert client.post("/v1/secrets", json={"name": "OPENAI_API_KEY", "value": "sk-test"}, headers=auth).status_code == 201
    agent = make_agent(client, auth, compute="node", model="anthropic/claude-sonnet-4-20250514", timeout="120s",
                       provider="fly", secrets=["OPENAI_API_KEY"], region="iad")
    assert agent["compute"] == "node"
    assert agent["model"] == "anthropic/claude-sonnet-4-20250514"
    assert agent["timeout"] == 120
    assert agent["provider"] == "fly"
    assert agent["secrets"] == ["OPENAI_API_KEY"]
    assert agent["region"] == "iad"


@pytest.mark.parametrize(("timeout", "seconds"), [("2m", 120), ("1h", 3600), ("90", 90), (45, 45)])
def test_create_agent_reads_timeout_strings_and_numbers(client, auth, timeout, seconds):
    assert make_agent(client, auth, timeout=timeout)["timeout"] == seconds


def test_create_agent_defaults(client, auth):
    agent = make_agent(client, auth)
    assert agent["timeout"] == 300
    assert agent["browser"] is False
    assert agent["tools"] == [] and agent["secrets"] == []
    assert agent["compute"] == "python"
    assert agent["currentTaskId"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"compute": "ruby"}, "compute"),
    ({"compute": {"provider": "aws"}}, "compute.provider"),
    ({"timeout": "soon"}, "timeout"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": "2d"}, "timeout"),
    ({"tools": "web_search"}, "tools"),
    ({"tools": ["bad tool!"]}, "tools"),
    ({"browser": "sometimes"}, "browser"),
    ({"provider": "heroku"}, "provider"),
])
def test_create_agent_rejects_invalid_fields(client, auth, body, field):
    session = make_session(client, auth)
    response = client.post(f"/v1/sessions/{session['id']}/agents", json=body, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert field in error["message"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert client.get(f"/v1/sessions/{session['id']}/agents", headers=auth).json()["data"] == []


def test_create_agent_in_unknown_session_is_404(client, auth):
    response = client.post("/v1/sessions/ses_01JT4J97000000012Y7ZM38QJT/agents", json={}, headers=auth)
    body = assert_error(response, 404, "not_found")
    assert "session" in body["error"]["message"]


def test_create_agent_in_terminated_session_is_409(client, auth):
    session = make_session(client, auth)
    client.post(f"/v1/sessions/{session['id']}/terminate", headers=auth)
    response = client.post(f"/v1/sessions/{session['id']}/agents", json={}, headers=auth)
    body = assert_error(response, 409, "conflict")
    assert "terminated" in body["error"]["message"]


def test_the_agent_config_reads_a_body_as_every_body_does():
    # The create-agent body is the domain's AgentConfig, which cannot inherit bodies.Body.
    for model in (CreateAgent, ComputeObject, ModelObject):
        assert model.model_config == Body.model_config, model


# ---- read and list ----

def test_get_agent_returns_what_create_returned(client, auth):
    agent = make_agent(client, auth, tools=["web_search"])
    assert _agent(client, auth, agent["id"]) == agent


def test_get_unknown_agent_is_404(client, auth):
    body = assert_error(client.get(f"/v1/agents/{AGT_ID}", headers=auth), 404, "not_found")
    assert AGT_ID in body["error"]["message"]


def test_list_agents_filters_by_provider_and_compute(client, auth):
    session = make_session(client, auth)
    fly = make_agent(client, auth, session["id"], provider="fly", compute="node")
    e2b = make_agent(client, auth, session["id"], compute={"provider": "e2b"})
    by_provider = client.get("/v1/agents", params={"provider": "fly"}, headers=auth).json()["data"]
    by_compute = client.get("/v1/agents", params={"compute": "python"}, headers=auth).json()["data"]
    assert [a["id"] for a in by_provider] == [fly["id"]]
    assert [a["id"] for a in by_compute] == [e2b["id"]]


def test_list_agents_filters_by_effective_status(client, auth):
    session = make_session(client, auth)
    busy = make_agent(client, auth, session["id"])
    idle = make_agent(client, auth, session["id"])
    run = _run(client, auth, busy["id"])
    running = client.get("/v1/agents?status=running", headers=auth).json()["data"]
    assert [a["id"] for a in running] == [busy["id"]]
    advance(client, run["durationMs"] / 1000)
    idle_now = client.get("/v1/agents?status=idle", headers=auth).json()["data"]
    assert {a["id"] for a in idle_now} == {busy["id"], idle["id"]}


def test_list_agents_rejects_an_unknown_status(client, auth):
    body = assert_error(client.get("/v1/agents?status=booting", headers=auth), 422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "status"


def test_list_agents_pages_with_cursor(client, auth):
    session = make_session(client, auth)
    created = [make_agent(client, auth, session["id"])["id"] for _ in range(5)]
    first = client.get("/v1/agents?limit=2", headers=auth).json()
    second = client.get("/v1/agents", params={"limit": 2, "cursor": first["cursor"]}, headers=auth).json()
    third = client.get("/v1/agents", params={"limit": 2, "cursor": second["nextCursor"]}, headers=auth).json()
    ids = [a["id"] for page in (first, second, third) for a in page["data"]]
    assert ids == list(reversed(created))
    assert (first["hasMore"], second["hasMore"], third["hasMore"]) == (True, True, False)
    assert third["nextCursor"] is None


def test_list_agents_rejects_a_session_cursor(client, auth):
    body = assert_error(client.get("/v1/agents?cursor=cur_ses_01JT4J97000000012Y7ZM38QJT", headers=auth),
                        422, "unprocessable_entity")
    assert body["error"]["details"]["fields"][0]["field"] == "cursor"


def test_list_session_agents_shows_only_that_sessions_agents(client, auth):
    mine = make_session(client, auth, userId="a")
    other = make_session(client, auth, userId="b")
    agent = make_agent(client, auth, mine["id"])
    make_agent(client, auth, other["id"])
    response = client.get(f"/v1/sessions/{mine['id']}/agents", headers=auth)
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["data"]] == [agent["id"]]


def test_list_session_agents_of_unknown_session_is_404(client, auth):
    assert_error(client.get("/v1/sessions/ses_01JT4J97000000012Y7ZM38QJT/agents", headers=auth), 404, "not_found")


def test_agent_status_of_an_idle_agent(client, auth):
    agent = make_agent(client, auth, provider="fly", region="iad")
    body = client.get(f"/v1/agents/{agent['id']}/status", headers=auth).json()
    assert body["status"] == "idle"
    assert body["task"] is None
    assert body["cost"] == {"amount": 0, "currency": "usd"}
    assert (body["provider"], body["region"]) == ("fly", "iad")


def test_agent_status_tracks_elapsed_time_of_the_current_run(client, auth):
    agent = make_agent(client, auth)
    run = _run(client, auth, agent["id"], "count the stars")
    advance(client, 1)
    body = client.get(f"/v1/agents/{agent['id']}/status", headers=auth).json()
    assert body["status"] == "running"
    assert body["task"] == "count the stars" and body["taskId"] == run["taskId"]
    assert body["durationMs"] == 1000 and body["duration"] == "1s"
    assert body["cost"] == run["cost"]


# ---- run ----

def test_run_answers_202_with_task_id_and_the_sdk_run_result(client, auth):
    agent = make_agent(client, auth, tools=["web_search"], provider="e2b")
    response = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "find papers"}, headers=auth)
    assert response.status_code == 202
    body = response.json()
    assert body["taskId"].startswith("task_") and body["agentId"] == agent["id"]
    assert isinstance(body["output"], str) and body["output"]
    assert body["artifacts"] == []
    assert set(body["cost"]) == {"amount", "currency"} and isinstance(body["cost"]["amount"], int)
    assert isinstance(body["duration"], str) and isinstance(body["durationMs"], int) and body["durationMs"] > 0
    assert body["provider"] == "e2b"
    assert [set(call) for call in body["toolCalls"]] == [{"tool", "input", "output"}]
    assert body["toolCalls"][0]["tool"] == "web_search"


def test_run_is_deterministic_for_the_same_inputs(client, auth):
    first = _run(client, auth, make_agent(client, auth, tools=["web_search"])["id"], "same task")
    second = _run(client, auth, make_agent(client, auth, tools=["web_search"])["id"], "same task")
    keep = ("output", "cost", "durationMs", "toolCalls", "usage")
    assert {k: first[k] for k in keep} == {k: second[k] for k in keep}


def test_agent_runs_until_the_clock_passes_the_runs_duration(client, auth):
    agent = make_agent(client, auth)
    run = _run(client, auth, agent["id"])
    assert _agent(client, auth, agent["id"])["status"] == "running"
    assert _agent(client, auth, agent["id"])["currentTaskId"] == run["taskId"]
    advance(client, (run["durationMs"] - 1) / 1000)
    assert _agent(client, auth, agent["id"])["status"] == "running"
    advance(client, 0.001)
    assert _agent(client, auth, agent["id"])["status"] == "idle"


def _timeline(emu, task_id: str) -> list[int | None]:
    return [row["at_ms"] for row in emu.store.all("SELECT at_ms FROM run_events WHERE run_id = ? ORDER BY seq",
                                                  [task_id])]


def test_a_second_run_while_running_queues_behind_the_first_and_answers_202(client, auth, emu):
    agent = make_agent(client, auth)
    first = _run(client, auth, agent["id"])
    second = _run(client, auth, agent["id"], "another")  # the SDK's run() resolved: it runs the next at once
    third = _run(client, auth, agent["id"], "a third")
    start = emu.clock.now_ms()
    first_end, second_end = start + first["durationMs"], start + first["durationMs"] + second["durationMs"]
    assert _timeline(emu, first["taskId"])[-1] == first_end
    assert min(_timeline(emu, second["taskId"])) >= first_end and _timeline(emu, second["taskId"])[-1] == second_end
    assert min(_timeline(emu, third["taskId"])) >= second_end
    assert second["status"] == "running" and _agent(client, auth, agent["id"])["currentTaskId"] == third["taskId"]
    status = client.get(f"/v1/agents/{agent['id']}/status", headers=auth).json()
    assert (status["status"], status["taskId"]) == ("running", first["taskId"])  # the one on the timeline now
    advance(client, first["durationMs"] / 1000)
    status = client.get(f"/v1/agents/{agent['id']}/status", headers=auth).json()
    assert (status["status"], status["taskId"], status["durationMs"]) == ("running", second["taskId"], 0)
    advance(client, (second["durationMs"] + third["durationMs"]) / 1000)
    assert _agent(client, auth, agent["id"])["status"] == "idle"
    costs = client.get("/v1/usage/summary", headers=auth).json()
    assert costs["totalCost"]["amount"] == sum(r["cost"]["amount"] for r in (first, second, third))


def test_pausing_holds_the_queued_runs_and_resuming_keeps_their_order(client, auth, emu):
    agent = make_agent(client, auth)
    first = _run(client, auth, agent["id"])
    second = _run(client, auth, agent["id"], "another")
    advance(client, 1)
    assert client.post(f"/v1/agents/{agent['id']}/pause", headers=auth).status_code == 200
    assert all(at is None or at <= emu.clock.now_ms() for at in _timeline(emu, second["taskId"]))
    advance(client, 3600)
    assert _agent(client, auth, agent["id"])["status"] == "paused"
    assert_error(client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth), 409, "conflict")
    assert client.post(f"/v1/agents/{agent['id']}/resume", headers=auth).status_code == 200
    now = emu.clock.now_ms()
    first_end = _timeline(emu, first["taskId"])[-1]
    assert first_end == now + first["durationMs"] - 1000
    assert min(_timeline(emu, second["taskId"])) >= first_end
    assert _timeline(emu, second["taskId"])[-1] == first_end + second["durationMs"]
    advance(client, (first["durationMs"] + second["durationMs"]) / 1000)
    assert _agent(client, auth, agent["id"])["status"] == "idle"


def test_terminating_ends_the_queued_runs_too(client, auth, emu):
    agent = make_agent(client, auth)
    first = _run(client, auth, agent["id"])
    second = _run(client, auth, agent["id"], "another")
    assert client.post(f"/v1/agents/{agent['id']}/terminate", headers=auth).status_code == 200
    for run in (first, second):
        last = emu.store.one("SELECT event, data FROM run_events WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
                             [run["taskId"]])
        assert (last["event"], last["data"]["code"]) == ("error", "terminated")
    assert_error(client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth), 409, "conflict")


def test_run_again_after_the_first_run_ended(client, auth):
    agent = make_agent(client, auth)
    first = _run(client, auth, agent["id"])
    advance(client, first["durationMs"] / 1000)
    second = _run(client, auth, agent["id"], "a second task")
    assert second["taskId"] != first["taskId"]


def test_run_on_terminated_agent_is_409(client, auth):
    agent = make_agent(client, auth)
    _post(client, auth, agent["id"], "terminate")
    body = assert_error(client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth), 409, "conflict")
    assert "terminated" in body["error"]["message"]


def test_run_on_agent_in_paused_session_is_409(client, auth):
    session = make_session(client, auth)
    agent = make_agent(client, auth, session["id"])
    client.post(f"/v1/sessions/{session['id']}/pause", headers=auth)
    body = assert_error(client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth), 409, "conflict")
    assert "paused" in body["error"]["message"]


def test_run_on_paused_agent_is_409(client, auth):
    agent = make_agent(client, auth)
    _post(client, auth, agent["id"], "pause")
    body = assert_error(client.post(f"/v1/agents/{agent['id']}/run", json={"task": "x"}, headers=auth), 409, "conflict")
    assert "paused" in body["error"]["message"]


@pytest.mark.parametrize(("body", "field"), [({}, "task"), ({"task": ""}, "task"), ({"task": 7}, "task")])
def test_run_rejects_a_missing_or_invalid_task(client, auth, body, field):
    agent = make_agent(client, auth)
    response = client.post(f"/v1/agents/{agent['id']}/run", json=body, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert [d["field"] for d in error["details"]["fields"]] == [field]
    assert _agent(client, auth, agent["id"])["status"] == "idle"


def test_run_on_unknown_agent_is_404(client, auth):
    assert_error(client.post(f"/v1/agents/{AGT_ID}/run", json={"task": "x"}, headers=auth), 404, "not_found")


# ---- exec ----

@pytest.mark.parametrize("field", ["lang", "language"])
def test_exec_python_prints_four(client, auth, field):
    agent = make_agent(client, auth)
    response = _exec(client, auth, agent["id"], **{field: "python", "code": "print(2 + 2)"})
    assert response.status_code == 200
    body = response.json()
    assert (body["stdout"], body["stderr"], body["exitCode"]) == ("4\n", "", 0)
    assert isinstance(body["durationMs"], int)


def test_exec_node_console_log(client, auth):
    agent = make_agent(client, auth, compute="node")
    body = _exec(client, auth, agent["id"], language="node", code='console.log("hello from node")').json()
    assert body["stdout"] == "hello from node\n"
    assert body["exitCode"] == 0


def test_exec_bash_echo(client, auth):
    body = _exec(client, auth, make_agent(client, auth)["id"], lang="bash", code="echo hi there").json()
    assert body["stdout"] == "hi there\n"
    assert body["exitCode"] == 0


def test_exec_without_language_is_422(client, auth):
    response = _exec(client, auth, make_agent(client, auth)["id"], code="print(1)")
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert "'lang' or 'language' is required" in error["details"]["fields"][0]["message"]


def test_exec_with_unknown_language_is_422(client, auth):
    response = _exec(client, auth, make_agent(client, auth)["id"], lang="cobol", code="DISPLAY 'HI'.")
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert [d["field"] for d in error["details"]["fields"]] == ["lang"]


def test_exec_without_code_is_422(client, auth):
    response = _exec(client, auth, make_agent(client, auth)["id"], lang="python")
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert [d["field"] for d in error["details"]["fields"]] == ["code"]


def test_exec_on_terminated_agent_is_409(client, auth):
    agent = make_agent(client, auth)
    _post(client, auth, agent["id"], "terminate")
    assert_error(_exec(client, auth, agent["id"], lang="python", code="print(1)"), 409, "conflict")


def test_exec_on_paused_agent_is_409(client, auth):
    agent = make_agent(client, auth)
    _post(client, auth, agent["id"], "pause")
    body = assert_error(_exec(client, auth, agent["id"], lang="python", code="print(1)"), 409, "conflict")
    assert "paused" in body["error"]["message"]


# ---- pause / resume / terminate ----

def test_pause_idle_agent_answers_agent_and_snapshot(client, auth):
    agent = make_agent(client, auth, provider="fly")
    response = _post(client, auth, agent["id"], "pause")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == agent["id"] and body["status"] == "paused"
    assert body["snapshot"]["id"].startswith("snap_")
    assert isinstance(body["snapshot"]["size"], int) and body["snapshot"]["size"] > 0
    assert body["snapshot"]["provider"] == "fly"
    assert body["snapshotId"] == body["snapshot"]["id"]


def test_pause_running_agent_snapshots_its_task(client, auth):
    agent = make_agent(client, auth)
    run = _run(client, auth, agent["id"])
    advance(client, 0.5)
    body = _post(client, auth, agent["id"], "pause").json()
    assert body["status"] == "paused"
    assert body["snapshot"]["taskId"] == run["taskId"]
    assert body["snapshot"]["offsetMs"] == 500


def test_pause_paused_agent_is_409(client, auth):
    agent = make_agent(client, auth)
    _post(client, auth, agent["id"], "pause")
    body = assert_error(_post(client, auth, agent["id"], "pause"), 409, "conflict")
    assert "paused" in body["error"]["message"]


def test_pause_terminated_agent_is_409(client, auth):
    agent = make_agent(client, auth)
    _post(client, auth, agent["id"], "terminate")
    assert_error(_post(client, auth, agent["id"], "pause"), 409, "conflict")


def test_resume_paused_idle_agent_makes_it_idle(client, auth):
    agent = make_agent(client, auth)
    _post(client, auth, agent["id"], "pause")
    response = _post(client, auth, agent["id"], "resume")
    assert response.status_code == 200
    assert response.json()["status"] == "idle"


def test_resume_accepts_the_sdk_options_body(client, auth):
    agent = make_agent(client, auth)
    _post(client, auth, agent["id"], "pause")
    response = _post(client, auth, agent["id"], "resume", json={"provider": "fly", "region": "iad"})
    assert response.status_code == 200


@pytest.mark.parametrize("setup", ["idle", "running", "terminated"])
def test_resume_of_an_agent_that_is_not_paused_is_409(client, auth, setup):
    agent = make_agent(client, auth)
    if setup == "running":
        _run(client, auth, agent["id"])
    if setup == "terminated":
        _post(client, auth, agent["id"], "terminate")
    body = assert_error(_post(client, auth, agent["id"], "resume"), 409, "conflict")
    assert setup in body["error"]["message"]


def test_terminate_agent_answers_ok_then_second_terminate_is_409(client, auth):
    agent = make_agent(client, auth)
    response = _post(client, auth, agent["id"], "terminate")
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert _agent(client, auth, agent["id"])["status"] == "terminated"
    body = assert_error(_post(client, auth, agent["id"], "terminate"), 409, "conflict")
    assert "already terminated" in body["error"]["message"]


def test_pause_mid_run_holds_the_run_until_resume(client, auth):
    agent = make_agent(client, auth, tools=["web_search"])
    run = _run(client, auth, agent["id"])
    advance(client, 0.1)
    _post(client, auth, agent["id"], "pause")
    advance(client, 3600)
    assert _agent(client, auth, agent["id"])["status"] == "paused"
    assert client.get(f"/v1/agents/{agent['id']}/status", headers=auth).json()["durationMs"] == 100
    _post(client, auth, agent["id"], "resume")
    assert _agent(client, auth, agent["id"])["status"] == "running"
    advance(client, run["durationMs"] / 1000)
    assert _agent(client, auth, agent["id"])["status"] == "idle"


def test_resumed_run_streams_all_its_events_ending_with_done(client, auth):
    agent = make_agent(client, auth, tools=["web_search"])
    run = _run(client, auth, agent["id"])
    advance(client, 0.1)
    _post(client, auth, agent["id"], "pause")
    advance(client, 3600)
    _post(client, auth, agent["id"], "resume")
    advance(client, run["durationMs"] / 1000)
    events = _sse_events(client.get(f"/v1/agents/{agent['id']}/stream", headers=auth).text)
    assert [e["event"] for e in events] == ["thinking", "tool_call", "tool_result", "thinking", "output"]
    assert json.loads(events[-1]["data"])["output"] == run["output"]


# ---- stream ----

def test_stream_after_the_run_replays_every_event_and_closes(client, auth):
    agent = make_agent(client, auth, tools=["web_search"])
    run = _run(client, auth, agent["id"])
    advance(client, run["durationMs"] / 1000 + 1)
    response = client.get(f"/v1/agents/{agent['id']}/stream", headers={**auth, "Accept": "text/event-stream"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _sse_events(response.text)
    assert len(events) >= 3
    for event in events:
        assert set(event) >= {"id", "event", "data"}, event
        data = json.loads(event["data"])
        assert isinstance(data, dict) and isinstance(data["type"], str)
    assert len({e["id"] for e in events}) == len(events)
    assert all(e["id"].startswith(f"{run['taskId']}:") for e in events)
    assert events[-1]["event"] == "output"
    final = json.loads(events[-1]["data"])
    assert final["type"] == "done"
    assert (final["output"], final["cost"], final["durationMs"]) == (run["output"], run["cost"], run["durationMs"])


def test_stream_tool_events_match_the_run_tool_calls(client, auth):
    agent = make_agent(client, auth, tools=["web_search"])
    run = _run(client, auth, agent["id"])
    advance(client, run["durationMs"] / 1000)
    events = _sse_events(client.get(f"/v1/agents/{agent['id']}/stream", headers=auth).text)
    call = next(json.loads(e["data"]) for e in events if e["event"] == "tool_call")
    result = next(json.loads(e["data"]) for e in events if e["event"] == "tool_result")
    assert {"tool": call["tool"], "input": call["input"], "output": result["output"]} == run["toolCalls"][0]


def test_stream_of_a_run_terminated_mid_flight_ends_with_an_error_event(client, auth):
    agent = make_agent(client, auth)
    _run(client, auth, agent["id"])
    _post(client, auth, agent["id"], "terminate")
    events = _sse_events(client.get(f"/v1/agents/{agent['id']}/stream", headers=auth).text)
    assert events[-1]["event"] == "error"
    assert json.loads(events[-1]["data"])["type"] == "error"


def test_stream_of_terminated_agent_without_runs_is_409(client, auth):
    agent = make_agent(client, auth)
    _post(client, auth, agent["id"], "terminate")
    assert_error(client.get(f"/v1/agents/{agent['id']}/stream", headers=auth), 409, "conflict")


def test_stream_of_unknown_agent_is_404(client, auth):
    assert_error(client.get(f"/v1/agents/{AGT_ID}/stream", headers=auth), 404, "not_found")


# ---- GET /v1/usage/summary ----

def _summary(client, auth, **query) -> dict:
    response = client.get("/v1/usage/summary", params=query, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_usage_summary_has_reference_and_sdk_fields_in_one_body(client, auth):
    body = _summary(client, auth)
    assert set(body) >= {"period", "compute", "models", "storage", "total",
                         "totalCost", "activeSessions", "runningAgents", "topUser"}
    assert body["period"] == {"from": "2025-05-01T00:00:00.000Z", "until": "2025-05-01T00:00:00.000Z"}
    assert body["total"] == body["totalCost"] == {"amount": 0, "currency": "usd"}
    assert body["topUser"] is None


def test_usage_summary_totals_add_up(client, auth):
    run = _run(client, auth, make_agent(client, auth)["id"])
    body = _summary(client, auth)
    parts = body["compute"]["cost"]["amount"] + body["models"]["cost"]["amount"] + body["storage"]["cost"]["amount"]
    assert parts == body["total"]["amount"] == run["cost"]["amount"]
    assert body["models"]["inputTokens"] == run["usage"]["inputTokens"]
    assert body["models"]["outputTokens"] == run["usage"]["outputTokens"]


def test_usage_summary_agrees_with_session_usage(client, auth):
    sessions = [make_session(client, auth, userId=f"user_{i}") for i in range(2)]
    for session in sessions:
        _run(client, auth, make_agent(client, auth, session["id"])["id"], f"work for {session['userId']}")
    usages = [client.get(f"/v1/sessions/{s['id']}/usage", headers=auth).json() for s in sessions]
    body = _summary(client, auth)
    assert body["total"]["amount"] == sum(u["cost"]["amount"] for u in usages)
    assert body["compute"]["minutes"] == sum(u["computeMinutes"] for u in usages)
    costs = sorted((-u["cost"]["amount"], s["userId"]) for u, s in zip(usages, sessions))
    assert body["topUser"] == {"userId": costs[0][1], "cost": {"amount": -costs[0][0], "currency": "usd"}}


def test_usage_summary_counts_active_sessions_and_running_agents(client, auth):
    session = make_session(client, auth, userId="a")
    paused = make_session(client, auth, userId="b")
    client.post(f"/v1/sessions/{paused['id']}/pause", headers=auth)
    run = _run(client, auth, make_agent(client, auth, session["id"])["id"])
    assert (_summary(client, auth)["activeSessions"], _summary(client, auth)["runningAgents"]) == (1, 1)
    advance(client, run["durationMs"] / 1000)
    assert _summary(client, auth)["runningAgents"] == 0


def test_usage_summary_from_and_until_bound_the_window(client, auth):
    agent = make_agent(client, auth)
    first = _run(client, auth, agent["id"], "first")
    advance(client, 3600)
    _run(client, auth, agent["id"], "second")
    early = _summary(client, auth, until="2025-05-01T00:30:00Z")
    late = _summary(client, auth, **{"from": "2025-05-01T00:30:00Z"})
    everything = _summary(client, auth)
    assert early["total"] == first["cost"]
    assert early["period"]["until"] == "2025-05-01T00:30:00.000Z"
    assert late["total"]["amount"] + early["total"]["amount"] == everything["total"]["amount"]


def test_usage_summary_accepts_a_plain_date(client, auth):
    body = _summary(client, auth, **{"from": "2025-04-01"})
    assert body["period"]["from"] == "2025-04-01T00:00:00.000Z"


def test_usage_summary_period_today_excludes_yesterday(client, auth):
    _run(client, auth, make_agent(client, auth)["id"])
    advance(client, 86_400)
    assert _summary(client, auth, period="today")["totalCost"]["amount"] == 0
    assert _summary(client, auth, period="month")["totalCost"]["amount"] > 0
    assert _summary(client, auth, period="today")["period"]["from"] == "2025-05-02T00:00:00.000Z"


def test_usage_summary_period_week_covers_seven_days(client, auth):
    _run(client, auth, make_agent(client, auth)["id"])
    advance(client, 6 * 86_400)
    assert _summary(client, auth, period="week")["totalCost"]["amount"] > 0
    advance(client, 2 * 86_400)
    assert _summary(client, auth, period="week")["totalCost"]["amount"] == 0
    assert _summary(client, auth, period="month")["totalCost"]["amount"] > 0


def test_usage_summary_from_after_until_is_422(client, auth):
    response = client.get("/v1/usage/summary", params={"from": "2025-05-02", "until": "2025-05-01"}, headers=auth)
    body = assert_error(response, 422, "unprocessable_entity")
    assert "after" in body["error"]["message"]


@pytest.mark.parametrize("query", [{"from": "May 1st"}, {"until": "2025-13-01"}, {"period": "year"}])
def test_usage_summary_rejects_malformed_values(client, auth, query):
    body = assert_error(client.get("/v1/usage/summary", params=query, headers=auth), 422, "unprocessable_entity")
    assert [d["field"] for d in body["error"]["details"]["fields"]] == list(query)


def test_retry_runs_the_last_task_again_once_it_failed(client, auth) -> None:
    agent = make_agent(client, auth, timeout=1, tools=["web_search"])["id"]  # every run outlasts 1 s
    assert_error(client.post(f"/v1/agents/{agent}/retry", headers=auth), 409, "conflict")  # nothing ran yet
    first = client.post(f"/v1/agents/{agent}/run", json={"task": "too slow"}, headers=auth).json()
    running = assert_error(client.post(f"/v1/agents/{agent}/retry", headers=auth), 409, "conflict")
    assert running["error"]["details"] == {"taskStatus": "running"}
    advance(client, 2)
    assert client.get(f"/v1/agents/{agent}", headers=auth).json()["status"] == "idle"
    retried = client.post(f"/v1/agents/{agent}/retry", headers=auth)
    assert retried.status_code == 202
    body = retried.json()
    assert body["taskId"] != first["taskId"] and body["task"] == "too slow" and body["status"] == "running"
    assert client.get(f"/v1/agents/{agent}/status", headers=auth).json()["taskId"] == body["taskId"]


def test_retry_refuses_a_task_that_did_not_fail(client, auth) -> None:
    agent = make_agent(client, auth)["id"]
    run = client.post(f"/v1/agents/{agent}/run", json={"task": "fine"}, headers=auth).json()
    advance(client, run["durationMs"] / 1000)
    done = assert_error(client.post(f"/v1/agents/{agent}/retry", headers=auth), 409, "conflict")
    assert done["error"]["details"] == {"taskStatus": "completed"}
    client.post(f"/v1/agents/{agent}/terminate", headers=auth)
    assert_error(client.post(f"/v1/agents/{agent}/retry", headers=auth), 409, "conflict")
    other = {"Authorization": "Bearer th_test_retry_other"}
    assert_error(client.post(f"/v1/agents/{agent}/retry", headers=other), 404, "not_found")
