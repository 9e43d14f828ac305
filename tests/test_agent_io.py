"""Input to a running agent and exposed ports over HTTP (sdk-compat "Agent instance":
`agent.send`, `agent.ports.expose`): input lands in the stream of the run in flight at the
current instant, or opens the agent's next run when it is idle; a port answers an
emulator-local URL that the admin surface serves while the agent lives.
"""

from __future__ import annotations

import pytest
from conftest import advance, assert_error, make_agent
from sse_client import events

INPUT = {"type": "new_failure", "content": "Build #4521 failed", "metadata": {"buildId": "4521"}}


def _send(client, auth, agent_id: str, body: dict | None = None) -> dict:
    response = client.post(f"/v1/agents/{agent_id}/send", json=body or INPUT, headers=auth)
    assert response.status_code == 202, response.text
    return response.json()


def _stream(client, auth, agent_id: str, task_id: str) -> list[dict]:
    with client.stream("GET", f"/v1/agents/{agent_id}/stream?taskId={task_id}", headers=auth) as stream:
        advance(client, 120)
        return events(stream.iter_lines())


def test_input_to_a_running_agent_is_the_next_event_of_its_stream(client, auth):
    agent = make_agent(client, auth, tools=["web_search"])
    run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "scan builds"}, headers=auth).json()
    advance(client, 0.5)
    sent = _send(client, auth, agent["id"])
    assert (sent["status"], sent["taskId"], sent["type"]) == ("delivered", run["taskId"], "new_failure")
    assert sent["id"].startswith("inp_") and sent["metadata"] == {"buildId": "4521"}
    frames = _stream(client, auth, agent["id"], run["taskId"])
    names = [f["event"] for f in frames]
    assert names[0] == "thinking" and names[1] == "input" and names[-1] == "output"
    data = frames[1]["data"]
    assert (data["type"], data["inputId"], data["inputType"], data["content"]) == (
        "input", sent["id"], "new_failure", "Build #4521 failed")
    assert [int(f["id"].rpartition(":")[2]) for f in frames] == list(range(1, len(frames) + 1))


def test_a_stream_already_following_the_run_gets_the_input(client, auth):
    agent = make_agent(client, auth)
    run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "work"}, headers=auth).json()
    with client.stream("GET", f"/v1/agents/{agent['id']}/stream?taskId={run['taskId']}", headers=auth) as stream:
        lines = stream.iter_lines()
        first = next(line for line in lines if line.startswith("event:"))
        sent = _send(client, auth, agent["id"])
        advance(client, 120)
        rest = events(lines)
    assert first == "event: thinking"
    assert rest[1]["event"] == "input" and rest[1]["data"]["inputId"] == sent["id"]


def test_input_to_an_idle_agent_waits_for_and_opens_its_next_run(client, auth):
    agent = make_agent(client, auth)
    first, second = _send(client, auth, agent["id"]), _send(client, auth, agent["id"], {"type": "t", "content": "c"})
    assert (first["status"], first["taskId"]) == ("queued", None)
    run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "work"}, headers=auth).json()
    frames = _stream(client, auth, agent["id"], run["taskId"])
    assert [f["event"] for f in frames[:3]] == ["input", "input", "thinking"]
    assert [f["data"]["inputId"] for f in frames[:2]] == [first["id"], second["id"]]
    again = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "more"}, headers=auth).json()
    assert "input" not in [f["event"] for f in _stream(client, auth, agent["id"], again["taskId"])]


def test_input_to_a_paused_agent_goes_into_its_paused_run(client, auth):
    agent = make_agent(client, auth)
    run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "work"}, headers=auth).json()
    client.post(f"/v1/agents/{agent['id']}/pause", headers=auth)
    assert _send(client, auth, agent["id"])["status"] == "delivered"
    client.post(f"/v1/agents/{agent['id']}/resume", headers=auth)
    assert [f["event"] for f in _stream(client, auth, agent["id"], run["taskId"])][:2] == ["thinking", "input"]


def test_send_to_a_terminated_agent_is_409_and_stores_nothing(client, auth):
    agent = make_agent(client, auth)
    client.post(f"/v1/agents/{agent['id']}/terminate", headers=auth)
    assert_error(client.post(f"/v1/agents/{agent['id']}/send", json=INPUT, headers=auth), 409, "conflict")
    assert_error(client.post(f"/v1/agents/{agent['id']}/ports", json={"port": 80}, headers=auth), 409, "conflict")


@pytest.mark.parametrize(("body", "field"), [
    ({"content": "x"}, "type"), ({"type": "x"}, "content"), ({"type": "", "content": "x"}, "type"),
    ({"type": "x", "content": ""}, "content"), ({"type": "x", "content": "y", "metadata": [1]}, "metadata"),
])
def test_bad_input_bodies_are_422_and_nothing_reaches_the_agent(client, auth, body, field):
    agent = make_agent(client, auth)
    error = assert_error(client.post(f"/v1/agents/{agent['id']}/send", json=body, headers=auth), 422,
                         "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    run = client.post(f"/v1/agents/{agent['id']}/run", json={"task": "work"}, headers=auth).json()
    assert "input" not in [f["event"] for f in _stream(client, auth, agent["id"], run["taskId"])]


def test_an_exposed_port_has_an_emulator_local_url_that_answers(client, auth):
    agent = make_agent(client, auth)
    response = client.post(f"/v1/agents/{agent['id']}/ports", json={"port": 8080}, headers=auth)
    assert response.status_code == 201
    body = response.json()
    assert body["url"] == f"http://testserver/_emu/agents/{agent['id']}/ports/8080" and body["port"] == 8080
    again = client.post(f"/v1/agents/{agent['id']}/ports", json={"port": 8080}, headers=auth)
    assert again.status_code == 200 and again.json() == body
    served = client.get(body["url"].removeprefix("http://testserver"))
    assert served.status_code == 200 and served.json()["agentId"] == agent["id"]
    client.post(f"/v1/agents/{agent['id']}/terminate", headers=auth)
    assert_error(client.get(body["url"].removeprefix("http://testserver")), 404, "not_found")


@pytest.mark.parametrize("path", ["/ports/8081", "/ports/99999999", "/ports/http"])
def test_a_port_never_exposed_is_404(client, auth, path):
    agent = make_agent(client, auth)
    client.post(f"/v1/agents/{agent['id']}/ports", json={"port": 8080}, headers=auth)
    assert_error(client.get(f"/_emu/agents/{agent['id']}{path}"), 404, "not_found")


@pytest.mark.parametrize("body", [{}, {"port": 0}, {"port": 65536}, {"port": "web"}, {"port": 80.5}, {"port": True},
                                  {"port": "8080"}])
def test_bad_ports_are_422(client, auth, body):
    agent = make_agent(client, auth)
    error = assert_error(client.post(f"/v1/agents/{agent['id']}/ports", json=body, headers=auth), 422,
                         "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "port"
    assert_error(client.get(f"/_emu/agents/{agent['id']}/ports/0"), 404, "not_found")


def test_another_tenants_agent_is_404(client, auth):
    agent = make_agent(client, auth)
    other = {"Authorization": "Bearer th_test_io_other"}
    assert_error(client.post(f"/v1/agents/{agent['id']}/send", json=INPUT, headers=other), 404, "not_found")
    assert_error(client.post(f"/v1/agents/{agent['id']}/ports", json={"port": 80}, headers=other), 404, "not_found")
