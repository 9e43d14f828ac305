"""The record/replay loop as a user runs it, with real processes in a directory of their own:
`serve --record` with fixtures and a flowing clock, a run and its stream, stop, then
`replay --verify` with no options at all; then one recorded field edited, and the same
command fails with a readable diff. Also: the header, settings taken from it, and the
recording surviving fixture changes and reloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import serve_process
from sse_client import frames

AUTH = {"Authorization": "Bearer th_test_loop"}
RUN_FIXTURE = {"runs": [{
    "name": "quarterly", "match": {"task": "Quarterly report"}, "output": "Revenue is up 12%.",
    "duration": "1200ms", "usage": {"inputTokens": 300, "outputTokens": 80},
    "events": [{"offset": 0, "type": "thinking", "text": "Reading the ledger."},
               {"offset": "400ms", "type": "tool_call", "tool": "web_search", "input": {"query": "q3"}},
               {"offset": "700ms", "type": "tool_result", "tool": "web_search", "output": "3 results"}]}]}


def _interactions(path: Path) -> list[dict]:
    return [item for item in map(json.loads, path.read_text().splitlines()) if "request" in item]


def _replay(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THEAZO_EMU_")}
    return subprocess.run([sys.executable, "-m", "theazo_emu", "replay", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _record_a_run(url: str) -> tuple[dict, list[dict]]:
    """A session, an agent, its stream opened first, then a run; the stream read to its end."""
    with httpx.Client(base_url=url, headers=AUTH, timeout=20) as http:
        session = http.post("/v1/sessions", json={"userId": "u1"}).json()
        agent = http.post(f"/v1/sessions/{session['id']}/agents", json={"tools": ["web_search"]}).json()
        opened, received = threading.Event(), []

        def listen() -> None:
            with http.stream("GET", f"/v1/agents/{agent['id']}/stream") as stream:
                for frame in frames(stream.iter_lines()):
                    opened.set()
                    if "comment" not in frame:
                        received.append(frame)

        listener = threading.Thread(target=listen)
        listener.start()
        assert opened.wait(10)
        run = http.post(f"/v1/agents/{agent['id']}/run", json={"task": "Quarterly report"})
        assert run.status_code == 202, run.text
        listener.join(20)
        assert not listener.is_alive(), "the stream did not end after the run"
        assert http.get(f"/v1/agents/{agent['id']}").json()["status"] == "idle"
    return run.json(), received


@pytest.mark.server
def test_record_with_fixtures_and_a_flowing_clock_then_verify_with_no_options(tmp_path: Path) -> None:
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "10-runs.json").write_text(json.dumps(RUN_FIXTURE))
    cassette = tmp_path / "cassette.jsonl"
    with serve_process("--record", "cassette.jsonl", "--heartbeat", "0.2", cwd=str(tmp_path)) as url:
        run, events = _record_a_run(url)
    assert run["output"] == "Revenue is up 12%."  # the fixture answered, from ./fixtures
    assert [e["event"] for e in events][-1] == "output"

    header = json.loads(cassette.read_text().splitlines()[0])
    assert header["clock"]["mode"] == "flowing" and header["fixtures"]["directory"] == "fixtures"
    assert list(header["fixtures"]["files"]) == ["10-runs.json"]

    started = time.monotonic()
    verified = _replay(tmp_path, "cassette.jsonl", "--verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "5 interactions replayed against a fresh in-process emulator: all match the recording." \
        in verified.stdout
    assert time.monotonic() - started < 20  # the stream ended on the driven clock, not on a 30 s timeout
    assert "warning" not in verified.stderr

    lines = cassette.read_text().splitlines()
    index = next(n for n, line in enumerate(lines)
                 if json.loads(line).get("request", {}).get("path", "").endswith("/run"))
    edited = json.loads(lines[index])
    edited["response"]["body"]["output"] = "Revenue is down 3%."
    lines[index] = json.dumps(edited)
    cassette.write_text("\n".join(lines) + "\n")
    failed = _replay(tmp_path, "cassette.jsonl", "--verify")
    assert failed.returncode == 1
    assert f"(line {index + 1}) POST {edited['request']['path']}" in failed.stdout
    assert '$.output: expected "Revenue is down 3%.", got "Revenue is up 12%."' in failed.stdout
    assert "1 differ from the recording" in failed.stdout


@pytest.mark.server
def test_changed_fixtures_are_a_warning_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "10-runs.json").write_text(json.dumps(RUN_FIXTURE))
    with serve_process("--record", "c.jsonl", "--clock", "2025-05-01T00:00:00Z", cwd=str(tmp_path)) as url:
        httpx.post(f"{url}/v1/sessions", json={"userId": "u1"}, headers=AUTH)
    changed = {"runs": [{**RUN_FIXTURE["runs"][0], "output": "Another answer."}]}
    (tmp_path / "fixtures" / "10-runs.json").write_text(json.dumps(changed))
    (tmp_path / "fixtures" / "20-more.json").write_text("{}")
    result = _replay(tmp_path, "c.jsonl", "--verify")
    assert result.returncode == 0, result.stdout + result.stderr  # the session answer does not depend on them
    assert "warning: the fixtures in fixtures differ from the recording's: 10-runs.json changed, " \
           "20-more.json is new" in result.stderr


@pytest.mark.server
def test_the_recording_survives_fixture_reloads_and_documents(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "10-runs.json").write_text(json.dumps(RUN_FIXTURE))
    cassette = tmp_path / "c.jsonl"
    with serve_process("--record", "c.jsonl", "--clock", "2025-05-01T00:00:00Z", cwd=str(tmp_path)) as url, \
            httpx.Client(base_url=url, timeout=10) as http:
        assert http.post("/v1/sessions", json={"userId": "before"}, headers=AUTH).status_code == 201
        assert http.post("/_emu/fixtures", json={"key": "th_test_doc", "sessions": [{"userId": "d"}]}).status_code == 201
        assert http.post("/_emu/fixtures/reload").status_code == 200
        (fixtures / "20-keys.json").write_text(json.dumps({"keys": [{"key": "th_test_k", "sessions": [{"userId": "k"}]}]}))
        deadline = time.monotonic() + 10
        while http.get("/_emu/fixtures").json()["version"] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # the watcher's reload (version 1 at start, 2 after the explicit reload)
        assert http.get("/_emu/fixtures").json()["version"] >= 3
        assert http.post("/v1/sessions", json={"userId": "after"}, headers=AUTH).status_code == 201
    paths = [(i["request"]["method"], i["request"]["path"]) for i in _interactions(cassette)]
    assert paths[0] == ("POST", "/v1/sessions") and paths[-1] == ("POST", "/v1/sessions")
    assert ("POST", "/_emu/fixtures") in paths and ("POST", "/_emu/fixtures/reload") in paths
    assert json.loads(cassette.read_text().splitlines()[0])["cassette"] == "theazo-emu"
