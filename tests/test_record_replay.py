"""Record and replay: cassettes, `serve --record [--upstream]`, `serve --replay`, `replay --verify`.

In-process recordings use TestClient over `create_app(Settings(record=...))`; what needs
sockets runs real processes: flushing while the server runs, SSE replayed over a socket,
and recording through a proxy whose upstream is a second emulator process, with a stream
open while a run starts. `replay --verify` must be green on a scenario touching every
API family and red, naming the request and the field, once one answer is altered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import START, advance, assert_error, serve_process
from sse_client import frames
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.cli.main import main
from theazo_emu.core.redaction import Redactor, encode_body
from theazo_emu.record.cassette import CassetteError, SseParser
from theazo_emu.settings import Settings

KEY, OTHER = "th_test_recorder_main", "th_test_recorder_other"
AUTH, OTHER_AUTH = {"Authorization": f"Bearer {KEY}"}, {"Authorization": f"Bearer {OTHER}"}
SDK = {**AUTH, "X-SDK-Version": "0.1.0"}
SECRET = "sk-cassette-canary-5e1d"
CREDENTIAL = "e2b-cassette-canary-77ab"


def _lines(path: Path) -> list[dict]:
    """The interactions of a cassette (its first line is the header)."""
    return [item for item in map(json.loads, path.read_text().splitlines()) if "request" in item]


def _header(path: Path) -> dict:
    return json.loads(path.read_text().splitlines()[0])


def _rewrite(path: Path, header: dict, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps({k: v for k, v in item.items() if k != "line"}) + "\n"
                            for item in [header, *lines]))


def _recorder(path: Path, **settings) -> TestClient:
    return TestClient(create_app(Settings(**{"clock": START, "record": path, **settings})))


def _replayer(path: Path, **settings) -> TestClient:
    return TestClient(create_app(Settings(**{"clock": START, "replay": path, **settings})))


def _ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def every_family(client) -> None:
    """One scenario over every API family the emulator serves, two tenants, both dialects."""
    session = _ok(client.post("/v1/sessions", json={"userId": "u1", "limits": {"maxAgents": 5}}, headers=AUTH), 201)
    sid = session["id"]
    _ok(client.post("/v1/sessions/by-user/u2", json={}, headers=SDK), 201)
    _ok(client.post("/v1/sessions", json={"userId": "u1"}, headers=OTHER_AUTH), 201)
    _ok(client.get(f"/v1/sessions/{sid}", headers=AUTH))
    _ok(client.post(f"/v1/sessions/{sid}/pause", headers=AUTH))
    _ok(client.post(f"/v1/sessions/{sid}/resume", headers=AUTH))
    _ok(client.patch(f"/v1/sessions/{sid}/limits", json={"maxAgents": 6}, headers=AUTH))
    # secrets and providers (their values must never reach the cassette)
    _ok(client.post("/v1/secrets", json={"name": "OPENAI_API_KEY", "value": SECRET}, headers=AUTH), 201)
    _ok(client.post(f"/v1/sessions/{sid}/secrets", json={"DB_PASSWORD": SECRET + "-map"}, headers=SDK), 201)
    _ok(client.get("/v1/secrets", headers=AUTH))
    _ok(client.post("/v1/providers", json={"provider": "e2b", "credentials": {"apiKey": CREDENTIAL}}, headers=AUTH), 201)
    _ok(client.get("/v1/providers", headers=AUTH))
    # definitions, agents, runs, streams, exec
    definition = _ok(client.post("/v1/agent-definitions", json={"name": "Reporter", "instructions": "Write reports.",
                                                                "tools": ["web_search"]}, headers=AUTH), 201)
    _ok(client.put(f"/v1/agent-definitions/{definition['id']}", json={"instructions": "Write short reports."},
                   headers=AUTH))
    _ok(client.get(f"/v1/agent-definitions/{definition['id']}/versions", headers=SDK))
    agent = _ok(client.post(f"/v1/sessions/{sid}/agents", json={"tools": ["web_search", "write_file"],
                                                                "secrets": ["OPENAI_API_KEY"]}, headers=AUTH), 201)
    sdk_agent = _ok(client.post(f"/v1/sessions/{sid}/agents", json={"compute": "node", "model": "openai/gpt-4o",
                                                                    "timeout": "90s"}, headers=SDK), 201)
    run = _ok(client.post(f"/v1/agents/{agent['id']}/run", json={"task": "Summarize the papers"}, headers=AUTH), 202)
    _ok(client.get(f"/v1/agents/{agent['id']}/status", headers=AUTH))
    advance(client, 2)
    _ok(client.post(f"/v1/agents/{agent['id']}/pause", headers=AUTH))
    _ok(client.post(f"/v1/agents/{agent['id']}/resume", headers=AUTH))
    advance(client, 600)
    stream = client.get(f"/v1/agents/{agent['id']}/stream", params={"taskId": run["taskId"]}, headers=AUTH)
    assert stream.status_code == 200 and "event: output" in stream.text
    _ok(client.post(f"/v1/agents/{sdk_agent['id']}/exec", json={"language": "python", "code": "print(6 * 7)"},
                    headers=SDK))
    _ok(client.get("/v1/agents", params={"limit": 1}, headers=AUTH))
    page = _ok(client.get(f"/v1/sessions/{sid}/agents", params={"limit": 1}, headers=AUTH))
    _ok(client.get(f"/v1/sessions/{sid}/agents", params={"limit": 1, "cursor": page["nextCursor"]}, headers=AUTH))
    # schedules and triggers, fired on the clock and by a signed webhook
    schedule = _ok(client.post("/v1/schedules", json={"name": "Hourly", "cron": "0 * * * *", "action": {
        "type": "agent-run", "config": {"task": "Hourly report"}}}, headers=AUTH), 201)
    advance(client, 3600)
    _ok(client.get(f"/v1/schedules/{schedule['id']}/history", headers=AUTH))
    _ok(client.post(f"/v1/schedules/{schedule['id']}/pause", headers=AUTH))
    trigger = _ok(client.post("/v1/triggers", json={"name": "push", "action": {
        "type": "agent-run", "config": {"task": "Review the push"}}}, headers=AUTH), 201)
    body = b'{"ref": "refs/heads/main"}'
    _ok(client.post(f"/v1/triggers/{trigger['id']}/fire", content=body,
                    headers={"Content-Type": "application/json", "X-Theazo-Signature": _sign(trigger["secret"], body)}),
        202)
    assert client.post(f"/v1/triggers/{trigger['id']}/fire", content=body,
                       headers={"X-Theazo-Signature": "sha256=" + "0" * 64}).status_code == 401
    _ok(client.get("/v1/triggers", headers=SDK))
    # channels (public messages)
    channel = _ok(client.post("/v1/channels", json={"name": "Support", "instructions": "Help."}, headers=AUTH), 201)
    _ok(client.post(f"/v1/channels/{channel['id']}/messages", json={"content": "Hello?"}))
    _ok(client.get(f"/v1/channels/{channel['id']}/conversations", headers=AUTH))
    # workflows with an approval gate, then a fleet; their streams once they have ended
    workflow = _ok(client.post("/v1/workflows", json={"name": "pipeline", "steps": [
        {"id": "research", "type": "agent", "agent": "researcher", "inputMap": {"topic": "$.input.topic"}},
        {"id": "gate", "type": "approval", "action": "publish", "dependsOn": ["research"]},
        {"id": "shape", "type": "transform", "expression": {"done": "$.research.status"}, "dependsOn": ["gate"]}]},
        headers=AUTH), 201)
    wf_run = _ok(client.post(f"/v1/workflows/{workflow['id']}/runs", json={"userId": "u1", "sessionId": sid,
                                                                            "input": {"topic": "ai"}}, headers=AUTH), 201)
    advance(client, 600)
    [approval] = _ok(client.get("/v1/approvals", params={"runId": wf_run["id"], "status": "pending"}, headers=SDK))
    _ok(client.post(f"/v1/approvals/{approval['id']}/approve", json={}, headers=AUTH))
    advance(client, 60)
    _ok(client.get(f"/v1/workflow-runs/{wf_run['id']}", headers=AUTH))
    wf_stream = client.get(f"/v1/workflow-runs/{wf_run['id']}/stream", headers=AUTH)
    assert wf_stream.status_code == 200 and "workflow:complete" in wf_stream.text
    _ok(client.post(f"/v1/workflows/{workflow['id']}/estimate", json={"input": {"topic": "ai"}}, headers=AUTH))
    fleet = _ok(client.post(f"/v1/sessions/{sid}/fleets", json={"agent": "researcher", "inputs": [
        {"company": "a"}, {"company": "b"}, {"company": "c"}], "concurrency": 2}, headers=AUTH), 201)
    advance(client, 600)
    _ok(client.get(f"/v1/fleets/{fleet['id']}", headers=AUTH))
    _ok(client.get(f"/v1/fleets/{fleet['id']}/results", headers=AUTH))
    fleet_stream = client.get(f"/v1/fleets/{fleet['id']}/stream", headers=AUTH)
    assert fleet_stream.status_code == 200 and "fleet:complete" in fleet_stream.text
    # usage and billing, from the same ledger
    advance(client, 600)
    for path in ("/v1/usage/summary", "/v1/usage/daily", "/v1/usage/by-provider", "/v1/usage/users/u1",
                 "/v1/billing/usage", "/v1/billing/usage/daily", "/v1/billing/usage/models", "/v1/billing/usage/users",
                 f"/v1/sessions/{sid}/usage", f"/v1/sessions/{sid}/limits"):
        _ok(client.get(path, headers=AUTH))
    # errors are part of the contract too
    assert client.get("/v1/agents/agt_01JT4J97000000024DT7WQJ49N", headers=AUTH).status_code == 404
    assert client.get(f"/v1/agents/{agent['id']}", headers=OTHER_AUTH).status_code == 404
    assert client.post("/v1/sessions", json={"userId": 42}, headers=AUTH).status_code == 422
    assert client.post("/v1/sessions", json={}, headers={"Authorization": "Bearer th_live_nope"}).status_code == 403
    _ok(client.post(f"/v1/agents/{sdk_agent['id']}/terminate", headers=AUTH))
    _ok(client.post(f"/v1/sessions/{sid}/terminate", headers=AUTH))


@pytest.fixture(scope="module")
def scenario_cassette(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cassettes") / "every-family.jsonl"
    with _recorder(path) as client:
        every_family(client)
    return path


def _is_agent_stream(line: dict) -> bool:
    path = line["request"]["path"]
    return path.startswith("/v1/agents/") and path.endswith("/stream")


def _replay(*args: str):
    return CliRunner().invoke(main, ["replay", *args])


# ---- the cassette ----

def test_one_line_per_interaction_with_request_and_response(tmp_path):
    path = tmp_path / "c.jsonl"
    with _recorder(path) as client:
        client.post("/v1/sessions?x=1", json={"userId": "u1"}, headers=SDK)
    [line] = _lines(path)
    assert line["request"] == {"method": "POST", "path": "/v1/sessions", "query": {"x": "1"}, "auth": "key1",
                               "headers": {"accept": "*/*", "content-type": "application/json",
                                           "x-sdk-version": "0.1.0", "user-agent": "testclient"},
                               "body": {"userId": "u1"}}
    assert line["response"]["status"] == 201 and line["response"]["headers"]["content-type"] == "application/json"
    assert line["response"]["body"]["id"].startswith("ses_")
    assert (line["seq"], line["at"], line["endAt"]) == ({"start": 1, "end": 2}, START.replace("Z", ".000Z"),
                                                        START.replace("Z", ".000Z"))


def test_keys_become_aliases_and_secret_values_never_reach_the_cassette(scenario_cassette):
    text = scenario_cassette.read_text()
    assert "OPENAI_API_KEY" in text and "DB_PASSWORD" in text  # what is not secret is there
    for secret in (KEY, OTHER, "th_live_nope", SECRET, CREDENTIAL, "whsec_"):
        assert secret not in text, secret
    assert {line["request"].get("auth") for line in _lines(scenario_cassette)} == {"key1", "key2", "live1", None}


def test_sse_is_recorded_event_by_event(scenario_cassette):
    [stream] = [line for line in _lines(scenario_cassette) if _is_agent_stream(line)]
    events = stream["response"]["events"]
    assert events[-1]["event"] == "output" and events[-1]["data"]["type"] == "done"
    assert all(e["id"].startswith("task_") for e in events) and "ended" not in stream["response"]


def test_health_journal_and_state_reads_are_not_recorded(tmp_path):
    path = tmp_path / "c.jsonl"
    with _recorder(path) as client:
        for admin in ("/_emu/health", "/_emu/requests", "/_emu/state/export"):
            client.get(admin)
        advance(client, 1)
    assert [line["request"]["path"] for line in _lines(path)] == ["/_emu/clock/advance"]
    assert "/_emu/health" not in path.read_text()


def test_the_sse_parser_reads_multiline_data_crlf_and_comments():
    parser = SseParser()
    events = parser.feed(b": heartbeat\r\nevent: a\r\nid: 1\r\ndata: {\"x\":\r\n")
    assert events == []
    assert parser.feed(b"data: 1}\r\n\r\ndata: plain\n\n") == [{"event": "a", "id": "1", "data": {"x": 1}},
                                                                 {"data": "plain"}]


def test_redaction_keeps_the_shape_and_blanks_leaves():
    redactor = Redactor()
    assert redactor.value({"credentials": {"apiKey": "k", "port": 5}, "name": "n", "list": [{"secret": "s"}]}) == \
        {"credentials": {"apiKey": "[REDACTED]", "port": 0}, "name": "n", "list": [{"secret": "[REDACTED]"}]}
    assert encode_body(b'{"value": "sk-1", "broken', redactor) == {"text": '{"value": "[REDACTED]", "broken'}


# ---- serve --replay ----

def test_replay_answers_from_the_cassette_consuming_repeats_in_order(tmp_path):
    path = tmp_path / "c.jsonl"
    with _recorder(path) as client:
        session = _ok(client.post("/v1/sessions", json={"userId": "u1"}, headers=AUTH), 201)
        agent = _ok(client.post(f"/v1/sessions/{session['id']}/agents", json={}, headers=AUTH), 201)
        _ok(client.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"}, headers=AUTH), 202)
        running = client.get(f"/v1/agents/{agent['id']}", headers=AUTH).content
        advance(client, 600)
        idle = client.get(f"/v1/agents/{agent['id']}", headers=AUTH).content
    with _replayer(path, clock="2030-01-01T00:00:00Z") as client:
        assert client.post("/v1/sessions", json={"userId": "u1"}, headers=AUTH).json() == session
        client.post(f"/v1/sessions/{session['id']}/agents", json={}, headers=AUTH)
        client.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"}, headers=AUTH)
        assert client.get(f"/v1/agents/{agent['id']}", headers=AUTH).content == running
        assert client.get(f"/v1/agents/{agent['id']}", headers=AUTH).content == idle
    assert json.loads(running)["status"] == "running" and json.loads(idle)["status"] == "idle"


def test_a_strict_miss_is_404_replay_miss_naming_the_closest_recording(scenario_cassette):
    with _replayer(scenario_cassette) as client:
        response = client.get("/v1/agent-definitions/adef_01JT4J97000000024DT7WQJ49N/versionz", headers=AUTH)
    body = assert_error(response, 404, "replay_miss")
    closest = body["error"]["details"]["closest"]
    assert closest["path"].endswith("/versions") and closest["method"] == "GET" and closest["line"] > 0
    assert f"(line {closest['line']})" in body["error"]["message"]
    assert body["error"]["details"]["request"]["path"].endswith("/versionz")


def test_a_request_whose_recordings_are_used_up_is_a_miss(tmp_path):
    path = tmp_path / "c.jsonl"
    with _recorder(path) as client:
        client.get("/v1/sessions", headers=AUTH)
    with _replayer(path) as client:
        assert client.get("/v1/sessions", headers=AUTH).status_code == 200
        body = assert_error(client.get("/v1/sessions", headers=AUTH), 404, "replay_miss")
    assert "were all used" in body["error"]["message"]


def test_the_body_takes_part_in_the_match_and_secrets_match_whatever_their_value(tmp_path):
    path = tmp_path / "c.jsonl"
    with _recorder(path) as client:
        client.post("/v1/secrets", json={"name": "K", "value": "first"}, headers=AUTH)
    with _replayer(path) as client:
        assert_error(client.post("/v1/secrets", json={"name": "OTHER", "value": "first"}, headers=AUTH),
                     404, "replay_miss")
        assert client.post("/v1/secrets", json={"name": "K", "value": "another"}, headers=AUTH).status_code == 201


def test_fallback_mode_lets_the_emulator_answer_a_miss(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("")
    with _replayer(path, replay_mode="fallback") as client:
        assert client.post("/v1/sessions", json={"userId": "live"}, headers=AUTH).json()["userId"] == "live"


def test_admin_routes_stay_local_in_replay_mode(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("")
    with _replayer(path) as client:
        assert advance(client, 60)["clock"]["now"] == "2025-05-01T00:01:00.000Z"
        assert client.get("/_emu/requests").json()["counts"]["total"] == 1


@pytest.mark.server
def test_replay_sends_sse_event_by_event_over_a_socket(scenario_cassette):
    [stream] = [line for line in _lines(scenario_cassette) if _is_agent_stream(line)]
    request = stream["request"]
    with serve_process("--replay", str(scenario_cassette)) as url:
        with httpx.stream("GET", url + request["path"], params=request["query"], headers=AUTH, timeout=10) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            got = [f for f in frames(response.iter_lines()) if "comment" not in f]
    assert got == stream["response"]["events"]


def test_a_broken_cassette_is_a_start_up_error_naming_the_line(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"request": {"method": "GET", "path": "/v1/x"}, "response": {"status": 200}}\n{oops\n')
    with pytest.raises(CassetteError, match=r"broken\.jsonl:2: not JSON"):
        create_app(Settings(replay=path))
    result = _replay(str(path))
    assert result.exit_code == 1 and "broken.jsonl:2: not JSON" in result.output


def test_record_and_replay_together_or_an_upstream_alone_are_refused(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("")
    with pytest.raises(ValueError, match="cannot be combined"):
        create_app(Settings(record=tmp_path / "new.jsonl", replay=path))
    with pytest.raises(ValueError, match="--upstream needs --record"):
        create_app(Settings(upstream="http://127.0.0.1:9"))


# ---- theazo-emu replay ----

def test_replay_verify_is_green_on_a_scenario_over_every_family(scenario_cassette):
    result = _replay(str(scenario_cassette), "--verify")
    assert result.exit_code == 0, result.output
    assert "all match the recording" in result.stdout


def test_replay_verify_is_red_naming_the_request_and_the_field_of_an_altered_answer(scenario_cassette, tmp_path):
    lines = _lines(scenario_cassette)
    index = next(n for n, line in enumerate(lines) if line["request"]["path"].endswith("/exec"))
    lines[index]["response"]["body"]["stdout"] = "41\n"
    altered = tmp_path / "altered.jsonl"
    _rewrite(altered, _header(scenario_cassette), lines)
    result = _replay(str(altered), "--verify")
    assert result.exit_code == 1
    assert f"#{index + 1} (line {index + 2}) POST {lines[index]['request']['path']}" in result.stdout
    assert '$.stdout: expected "41\\n", got "42\\n"' in result.stdout
    assert "1 differ from the recording" in result.stdout


def test_replay_without_verify_reports_differences_but_exits_zero(tmp_path):
    path = tmp_path / "c.jsonl"
    with _recorder(path) as client:
        client.post("/v1/sessions", json={"userId": "u1"}, headers=AUTH)
    line = _lines(path)[0]
    line["response"]["status"] = 200
    _rewrite(path, _header(path), [line])
    result = _replay(str(path))
    assert result.exit_code == 0 and "1 answers differ" in result.stdout
    verified = _replay(str(path), "--verify")
    assert verified.exit_code == 1 and "status: expected 200, got 201" in verified.stdout


def test_replay_rewrites_recorded_ids_and_maps_them_one_to_one(tmp_path):
    path = tmp_path / "c.jsonl"
    with _recorder(path) as client:
        first = _ok(client.post("/v1/sessions", json={"userId": "u1"}, headers=AUTH), 201)
        second = _ok(client.post("/v1/sessions", json={"userId": "u2"}, headers=AUTH), 201)
        client.get(f"/v1/sessions/{first['id']}", headers=AUTH)
    lines = _lines(path)
    lines[2]["response"]["body"]["id"] = second["id"]  # now claims the second session's id
    _rewrite(path, _header(path), lines)
    result = _replay(str(path), "--verify", "--seed", "3")
    assert result.exit_code == 1
    assert f'$.id: expected "{second["id"]}"' in result.stdout and result.stdout.count("$.") == 1


@pytest.mark.server
def test_replay_against_a_running_server(scenario_cassette):
    with serve_process("--clock", START) as url:
        result = _replay(str(scenario_cassette), "--verify", "--against", url)
    assert result.exit_code == 0, result.output


def test_replay_against_nothing_is_a_clear_error(scenario_cassette):
    result = _replay(str(scenario_cassette), "--against", "http://127.0.0.1:9")
    assert result.exit_code == 1 and "cannot reach http://127.0.0.1:9" in result.output


# ---- recording through a proxy ----

def test_an_unreachable_upstream_is_502_and_not_recorded(tmp_path):
    path = tmp_path / "c.jsonl"
    with _recorder(path, upstream="http://127.0.0.1:9") as client:
        body = assert_error(client.post("/v1/sessions", json={"userId": "u"}, headers=AUTH), 502, "provider_error")
    assert "http://127.0.0.1:9" in body["error"]["message"]
    assert _lines(path) == [] and _header(path)["cassette"] == "theazo-emu"


@pytest.mark.server
def test_each_interaction_is_on_disk_as_soon_as_it_completes(tmp_path):
    path = tmp_path / "c.jsonl"
    with serve_process("--clock", START, "--record", str(path)) as url:
        httpx.post(f"{url}/v1/sessions", json={"userId": "u1"}, headers=AUTH)
        assert [line["request"]["path"] for line in _lines(path)] == ["/v1/sessions"]  # the server still runs
        httpx.get(f"{url}/v1/sessions", headers=AUTH)
        assert len(_lines(path)) == 2


@pytest.mark.server
def test_record_through_a_proxy_streams_sse_as_it_arrives_and_replays_green(tmp_path):
    path = tmp_path / "proxied.jsonl"
    with serve_process("--clock", START, "--heartbeat", "0.2") as upstream, \
            serve_process("--clock", START, "--record", str(path), "--upstream", upstream) as proxy:
        session = _ok(httpx.post(f"{proxy}/v1/sessions", json={"userId": "u1"}, headers=AUTH), 201)
        agent = _ok(httpx.post(f"{proxy}/v1/sessions/{session['id']}/agents", json={"tools": ["web_search"]},
                               headers=AUTH), 201)
        opened, first_event, received = threading.Event(), threading.Event(), []

        def listen() -> None:
            with httpx.stream("GET", f"{proxy}/v1/agents/{agent['id']}/stream", headers=SDK, timeout=20) as stream:
                for frame in frames(stream.iter_lines()):
                    opened.set()
                    if "comment" not in frame:
                        received.append(frame)
                        first_event.set()

        thread = threading.Thread(target=listen)
        thread.start()
        assert opened.wait(10), "the stream's opening comment did not come through the proxy"
        run = _ok(httpx.post(f"{proxy}/v1/agents/{agent['id']}/run", json={"task": "Summarize"}, headers=AUTH), 202)
        _ok(httpx.post(f"{proxy}/_emu/clock/advance", json={"seconds": 0.001}))
        assert first_event.wait(10), "the first event was not passed on before the run ended"
        assert httpx.get(f"{proxy}/v1/agents/{agent['id']}", headers=AUTH).json()["status"] == "running"
        _ok(httpx.post(f"{proxy}/_emu/clock/advance", json={"seconds": 600}))
        thread.join(20)
        assert not thread.is_alive()
        upstream_paths = [e["path"] for e in httpx.get(f"{upstream}/_emu/requests").json()["data"]]
        local_sessions = httpx.get(f"{proxy}/_emu/state/export").json()["tables"]["sessions"]
    assert received[-1]["event"] == "output" and received[-1]["data"]["output"] == run["output"]
    assert f"/v1/agents/{agent['id']}/run" in upstream_paths and local_sessions == []  # proxied, not served
    [stream] = [line for line in _lines(path) if line["request"]["path"].endswith("/stream")]
    assert stream["response"]["events"] == received
    assert stream["seq"]["start"] < min(line["seq"]["start"] for line in _lines(path)
                                        if line["request"]["path"].endswith("/run"))
    result = _replay(str(path), "--verify")  # the stream overlapped the run; the replay does too
    assert result.exit_code == 0, result.output


@pytest.mark.server
def test_the_proxy_forwards_live_keys_and_never_records_them(tmp_path):
    path = tmp_path / "live.jsonl"
    live = "th_live_do_not_store_me_123"
    with serve_process("--clock", START) as upstream, \
            serve_process("--clock", START, "--record", str(path), "--upstream", upstream) as proxy:
        response = httpx.get(f"{proxy}/v1/sessions", headers={"Authorization": f"Bearer {live}"})
        upstream_journal = httpx.get(f"{upstream}/_emu/requests", params={"key": live}).json()["data"]
    assert response.status_code == 403 and "live keys" in response.json()["error"]["message"]
    assert [e["path"] for e in upstream_journal] == ["/v1/sessions"]
    assert live not in path.read_text() and _lines(path)[0]["request"]["auth"] == "live1"
