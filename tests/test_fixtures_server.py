"""Fixtures and faults against a real `theazo-emu serve` process: hot reload (a changed
file applies from the next request; a broken one is logged and the last good set stays),
auto-loading ./fixtures, refusing to start on a broken set, a live stream cut, and
determinism with the example fixtures and fault rules (two servers, identical bytes).

Waiting on the file watcher polls with a deadline; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import httpx
import pytest
from conftest import START, serve_process
from sse_client import frames

pytestmark = pytest.mark.server
EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures"
KEY = {"Authorization": "Bearer th_test_reload"}


def _until(check: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _agent(http: httpx.Client, headers: dict, **body) -> str:
    session = http.post("/v1/sessions", json={"userId": "u1"}, headers=headers).json()
    return http.post(f"/v1/sessions/{session['id']}/agents", json=body, headers=headers).json()["id"]


def _output(http: httpx.Client, agent: str) -> str:
    response = http.post(f"/v1/agents/{agent}/run", json={"task": "report"}, headers=KEY)
    assert response.status_code == 202, response.text
    return response.json()["output"]


def _runs(output: str) -> str:
    return f'[[runs]]\nmatch = {{ task = "report" }}\noutput = "{output}"\n'


def test_hot_reload_applies_a_change_and_keeps_the_last_good_set_on_a_broken_one(tmp_path: Path) -> None:
    directory = tmp_path / "fx"
    directory.mkdir()
    script = directory / "runs.toml"
    script.write_text(_runs("first"))
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log, serve_process("--clock", START, "--pace", "instant", "--fixtures",
                                                  str(directory), stderr=log) as url, \
            httpx.Client(base_url=url, timeout=10) as http:
        agent = _agent(http, KEY)
        assert _output(http, agent) == "first"
        script.write_text(_runs("second"))
        _until(lambda: _output(http, agent) == "second", "the changed file to apply")
        script.write_text('[[runs]]\nmatch = { task = "report" }\noutput = \n')
        _until(lambda: "not reloaded" in log_path.read_text(), "the log to report the broken file")
        assert f"{script}:3: invalid TOML: Invalid value (column 10)" in log_path.read_text()
        assert _output(http, agent) == "second"
        problems = http.get("/_emu/fixtures").json()["problems"]
        assert [(p["file"], p["line"]) for p in problems] == [(str(script), 3)]
        script.write_text(_runs("third"))
        _until(lambda: _output(http, agent) == "third", "the fixed file to apply")
        assert http.get("/_emu/fixtures").json()["problems"] == []


def test_serve_loads_dot_fixtures_when_present(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "fixtures")
    with serve_process("--clock", START, cwd=str(tmp_path)) as url:
        summary = httpx.get(f"{url}/_emu/fixtures").json()
        assert summary["directory"] == "fixtures"
        assert summary["files"] == ["10-keys.toml", "20-runs.toml", "25-chat.toml", "30-exec.json", "40-faults.toml",
                                    "50-theo.toml"]
        seeded = httpx.get(f"{url}/v1/sessions", headers={"Authorization": "Bearer th_test_seeded"}).json()
        assert [s["userId"] for s in seeded["data"]] == ["user_123"]


def test_serve_refuses_to_start_on_a_broken_fixture_set(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"runs": [{"match": {}, "events": [{"offset": -5, "type": "thinking"}]}]}')
    result = subprocess.run([sys.executable, "-m", "theazo_emu", "serve", "--port", "0", "--fixtures", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, cwd=tempfile.gettempdir())
    assert result.returncode == 1
    assert "cannot start:" in result.stderr
    assert f"{tmp_path / 'bad.json'}:1: runs[0].events[0].offset: Input should be greater than or equal to 0" \
        in result.stderr


def test_a_live_stream_is_cut_after_n_events(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as http:
        agent = _agent(http, KEY, tools=["web_search", "write_file"])
    run = httpx.post(f"{server}/v1/agents/{agent}/run", json={"task": "Find papers"}, headers=KEY).json()
    seen = []
    with httpx.stream("GET", f"{server}/v1/agents/{agent}/stream", timeout=10,
                      headers={**KEY, "X-Theazo-Emu-Fault": "stream_cut=2"}) as stream:
        for frame in frames(stream.iter_lines()):
            if "event" in frame:
                seen.append(frame["event"])
                if len(seen) == 1:  # the first event is out; release the rest of the timeline
                    httpx.post(f"{server}/_emu/clock/advance", json={"seconds": run["durationMs"] / 1000})
    assert seen == ["thinking", "tool_call"]  # the stream ended there; the run went on to its `output`


def scenario(url: str) -> list[tuple[int, bytes]]:
    """Seeded keys, the example run and exec, header faults, counted and probable rules, a
    stream cut, scopes and a reset; (status, body) for every answer."""
    out: list[tuple[int, bytes]] = []
    seeded = {"Authorization": "Bearer th_test_seeded"}
    with httpx.Client(base_url=url, timeout=10) as http:

        def call(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> httpx.Response:
            response = http.request(method, path, json=body, headers=headers or seeded)
            out.append((response.status_code, response.content))
            return response

        session = call("GET", "/v1/sessions").json()["data"][0]
        agent = call("GET", f"/v1/sessions/{session['id']}/agents").json()["data"][0]
        call("GET", "/v1/agent-definitions")
        call("GET", "/v1/providers")
        call("POST", f"/v1/agents/{agent['id']}/run", {"task": "Summarize the top 5 AI research papers from this week"})
        call("POST", "/_emu/clock/advance", {"seconds": 10})
        with httpx.stream("GET", f"{url}/v1/agents/{agent['id']}/stream", timeout=10,
                          headers={**seeded, "X-Theazo-Emu-Fault": "stream_cut=3"}) as stream:
            out.append((stream.status_code, stream.read()))
        call("POST", f"/v1/agents/{agent['id']}/exec", {"lang": "python", "code": "print(2 + 2)"})
        call("POST", f"/v1/agents/{agent['id']}/run", {"task": "Report a provider outage"})
        call("POST", "/_emu/faults", {"fault": "timeout", "probability": 0.5, "match": {"path": "/v1/usage/*"}})
        call("POST", "/_emu/faults", {"fault": "internal_error", "times": 2,
                                      "match": {"method": "GET", "path": "^/v1/sess"}})
        for _ in range(8):
            call("GET", "/v1/usage/summary")
        for _ in range(3):
            call("GET", "/v1/sessions")
        call("GET", "/v1/sessions", headers={**seeded, "X-Theazo-Emu-Fault": "rate_limited"})
        flaky = {"Authorization": "Bearer th_test_flaky"}
        flaky_session = call("POST", "/v1/sessions", {"userId": "f"}, headers=flaky).json()
        flaky_agent = call("POST", f"/v1/sessions/{flaky_session['id']}/agents", {}, headers=flaky).json()
        call("POST", f"/v1/agents/{flaky_agent['id']}/run", {"task": "go"}, headers=flaky)
        call("POST", f"/v1/agents/{flaky_agent['id']}/run", {"task": "go"}, headers=flaky)
        call("POST", "/v1/sessions", {"userId": "nope"}, headers={"Authorization": "Bearer th_test_readonly"})
        call("GET", "/_emu/faults")
        call("POST", "/_emu/reset", {})
        call("GET", "/v1/sessions")
        call("GET", "/_emu/faults")
    return out


def test_fixtures_and_faults_give_identical_bytes_on_two_servers() -> None:
    args = ("--clock", START, "--seed", "3", "--fixtures", str(EXAMPLES))
    with serve_process(*args) as first:
        one = scenario(first)
    with serve_process(*args) as second:
        two = scenario(second)
    assert len(one) == len(two) > 30
    for index, (a, b) in enumerate(zip(one, two)):
        assert a == b, f"answer {index} differs:\n{a}\n{b}"
    statuses = [status for status, _ in one]
    assert {429, 500, 502, 504, 403} <= set(statuses)  # the faults and scopes did happen
