"""The commands that talk to a running server (`call`, `clock`, `reset`, `state`, `coverage`),
`serve --import/--export-on-exit`, and what a user sees when something is off: a bad
instant, an unknown key, an unwritable path, a database that cannot be opened, a package
reinstalled under a running server, a stream waiting on a frozen clock."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import START, serve_process

import theazo_emu
from theazo_emu.cli import coverage
from theazo_emu.cli.main import main

KEY = "th_test_cli_remote"


def _cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner(env=env).invoke(main, list(args))


@pytest.mark.server
def test_call_talks_to_the_running_server(tmp_path: Path) -> None:
    with serve_process("--clock", START) as url:
        created = _cli("call", "POST", "/v1/sessions", "--data", '{"userId": "u1"}', "--key", KEY, "--url", url)
        assert created.exit_code == 0, created.output
        listed = _cli("call", "GET", "/v1/sessions", "--key", KEY, env={"THEAZO_EMU_URL": url})
        assert [s["userId"] for s in json.loads(listed.output)["data"]] == ["u1"]  # the server's state, not a fresh one
        sdk = _cli("call", "GET", "/v1/agent-definitions", "--key", KEY, "-H", "X-SDK-Version: 0.1.0", "--url", url)
        assert isinstance(json.loads(sdk.output), list)  # the header went out: the SDK's bare array
        (tmp_path / "body.json").write_text('{"userId": "from-file"}')
        assert _cli("call", "POST", "/v1/sessions", "-d", f"@{tmp_path / 'body.json'}", "--key", KEY,
                    "--url", url).exit_code == 0
        theo = _cli("call", "GET", "/api/v1/no-such-thing", "--url", url)  # a Theo key by default there
        assert theo.exit_code == 1 and json.loads(theo.output)["error"]["type"] == "not_found_error"
        missing = _cli("call", "GET", "/v1/sessions/ses_missing", "--key", KEY, "--url", url)
        assert missing.exit_code == 1 and json.loads(missing.output)["error"]["code"] == "not_found"
        journal = httpx.get(f"{url}/_emu/requests", params={"key": KEY, "kind": "request"}).json()["data"]
        assert [e["method"] for e in journal] == ["POST", "GET", "GET", "POST", "GET"]
        session = json.loads(created.output)
        agent = httpx.post(f"{url}/v1/sessions/{session['id']}/agents", json={}, headers={"Authorization": f"Bearer {KEY}"})
        run = httpx.post(f"{url}/v1/agents/{agent.json()['id']}/run", json={"task": "t"},
                         headers={"Authorization": f"Bearer {KEY}"}).json()
        httpx.post(f"{url}/_emu/clock/advance", json={"seconds": 600})
        stream = _cli("call", "GET", f"/v1/agents/{run['agentId']}/stream?taskId={run['taskId']}", "--key", KEY,
                      "--url", url)
        assert stream.exit_code == 0 and "event: output" in stream.output  # a stream printed until it ends
        assert stream.output.count("event: ") >= 2


def test_call_without_a_server_says_how_to_get_one() -> None:
    result = _cli("call", "GET", "/v1/sessions", "--url", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert "cannot reach the emulator at http://127.0.0.1:9" in result.output and "--in-process" in result.output
    stray = _cli("call", "GET", "/v1/sessions", "--seed", "3", "--url", "http://127.0.0.1:9")
    assert stray.exit_code == 2 and "--seed shape an in-process emulator: add --in-process" in stray.output
    bad = _cli("call", "GET", "/v1/sessions", "-H", "no colon", "--url", "http://127.0.0.1:9")
    assert bad.exit_code == 2 and "'no colon' is not 'Name: value'" in bad.output


@pytest.mark.server
def test_clock_reset_and_state_commands_speak_of_what_the_user_typed(tmp_path: Path) -> None:
    with serve_process("--clock", START) as url:
        assert json.loads(_cli("clock", "resume", "--url", url).output)["frozen"] is False
        assert json.loads(_cli("clock", "freeze", "--url", url).output)["frozen"] is True
        typo = _cli("clock", "set", "yesterday", "--url", url)
        assert typo.exit_code == 2 and "'yesterday' is not an ISO 8601 instant such as" in typo.output
        assert "'to'" not in typo.output
        _cli("call", "POST", "/v1/sessions", "--data", '{"userId": "u"}', "--key", KEY, "--url", url)
        unknown = _cli("reset", "--key", "th_test_never_seen", "--url", url)
        assert unknown.exit_code == 1 and "has never seen the key th_test_never_seen" in unknown.output
        known = _cli("reset", "--key", KEY, "--url", url)
        assert known.exit_code == 0 and json.loads(known.output)["known"] is True
        nowhere = _cli("state", "export", str(tmp_path / "no" / "such" / "dir.json"), "--url", url)
        assert nowhere.exit_code == 1 and f"cannot write {tmp_path / 'no' / 'such' / 'dir.json'}" in nowhere.output
        assert "Traceback" not in nowhere.output


def test_a_database_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    where = tmp_path / "missing" / "state.db"
    result = subprocess.run([sys.executable, "-m", "theazo_emu", "serve", "--port", "0", "--db", str(where)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1 and f"cannot open the database {where}" in result.stderr
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all, " * 100)
    result = _cli("call", "--in-process", "GET", "/v1/sessions", "--db", str(garbage))
    assert result.exit_code == 1 and f"cannot open the database {garbage}" in result.output


@pytest.mark.server
def test_serve_imports_a_state_and_exports_on_exit(tmp_path: Path) -> None:
    seeded, exported = tmp_path / "seeded.json", tmp_path / "out" / "exported.json"
    with serve_process("--clock", START) as url:
        httpx.post(f"{url}/v1/sessions", json={"userId": "kept"}, headers={"Authorization": f"Bearer {KEY}"})
        assert _cli("state", "export", str(seeded), "--url", url).exit_code == 0
    exported.parent.mkdir()
    with serve_process("--clock", START, "--import", str(seeded), "--export-on-exit", str(exported)) as url:
        sessions = httpx.get(f"{url}/v1/sessions", headers={"Authorization": f"Bearer {KEY}"}).json()["data"]
        assert [s["userId"] for s in sessions] == ["kept"]
        httpx.post(f"{url}/v1/sessions", json={"userId": "added"}, headers={"Authorization": f"Bearer {KEY}"})
    rows = json.loads(exported.read_text())["tables"]["sessions"]
    assert sorted(r["user_id"] for r in rows) == ["added", "kept"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something-else"}')
    result = subprocess.run([sys.executable, "-m", "theazo_emu", "serve", "--port", "0", "--import", str(bad)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1 and f"cannot import {bad}: not a state document (format" in result.stderr
    result = subprocess.run([sys.executable, "-m", "theazo_emu", "serve", "--port", "0", "--export-on-exit",
                             str(tmp_path / "nowhere" / "x.json")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "its directory does not exist" in result.stderr


def test_coverage_counts_catalogued_routes_per_family(tmp_path: Path) -> None:
    table = coverage.tally([("POST", "/v1/sessions", 201), ("POST", "/v1/sessions/by-user/u1/x", 200),
                            ("GET", "/v1/sessions/ses_1", 404), ("POST", "/v1/teams/t1/run", 501),
                            ("GET", "/v1/agents/agt_1/files/data/a.txt", 200), ("GET", "/nowhere", 404)])
    report = coverage.report(table)["surfaces"]["theazo"]
    sessions = report["families"]["sessions"]
    assert sessions["exercised"] == 3 and "GET /v1/sessions" in sessions["never"]
    assert report["families"]["teams"]["notEmulated"] == ["POST /v1/teams/:id/run"]
    assert report["families"]["agents"]["exercised"] == 1
    assert report["exercised"] == 4 and report["routes"] == len([r for r in table if r.surface == "theazo"]) > 150
    summary = coverage.text(coverage.report(table))
    assert summary.startswith("Theazo API (/v1): your suite touched 4 of ") and "never called: " not in summary
    assert "  sessions" in summary and "  teams" in summary and "  fleets" not in summary  # touched families only
    assert "families not touched (--all lists every route never called)" in summary
    assert len(summary.splitlines()) < 15
    full = coverage.text(coverage.report(table), every=True)
    assert "never called: " in full and "  fleets" in full and len(full.splitlines()) > len(summary.splitlines())


@pytest.mark.server
def test_coverage_reads_a_servers_journal_or_a_cassette(tmp_path: Path) -> None:
    cassette = tmp_path / "c.jsonl"
    with serve_process("--clock", START, "--record", str(cassette)) as url:
        headers = {"Authorization": f"Bearer {KEY}"}
        httpx.post(f"{url}/v1/sessions", json={"userId": "u"}, headers=headers)
        httpx.get(f"{url}/v1/sessions", headers=headers)
        live = _cli("coverage", "--url", url, "--json")
    from_file = _cli("coverage", str(cassette), "--json")
    for result in (live, from_file):
        assert result.exit_code == 0, result.output
        sessions = json.loads(result.output)["surfaces"]["theazo"]["families"]["sessions"]
        assert sessions["exercised"] == 2 and "POST /v1/sessions" not in sessions["never"]
    assert "your suite touched 2 of" in _cli("coverage", str(cassette)).output


@pytest.mark.server
def test_a_reinstalled_package_answers_restart_required(tmp_path: Path) -> None:
    copy = tmp_path / "site"
    shutil.copytree(Path(theazo_emu.__file__).parent, copy / "theazo_emu",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(copy)}
    with serve_process("--clock", START, env=env) as url:
        headers = {"Authorization": f"Bearer {KEY}"}
        assert httpx.get(f"{url}/v1/sessions", headers=headers).status_code == 200
        routes = copy / "theazo_emu" / "core" / "routes.txt"
        routes.write_text(routes.read_text())  # a reinstall rewrites the package's files
        (copy / "theazo_emu" / "theazo" / "routes" / "schedules.py").unlink()
        response = httpx.get(f"{url}/v1/schedules", headers=headers)
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "restart_required" and "restart `theazo-emu serve`" in error["message"]
        assert httpx.get(f"{url}/v1/sessions", headers=headers).status_code == 200  # loaded families still answer


@pytest.mark.server
def test_a_stream_waiting_on_a_frozen_clock_says_so_in_its_heartbeat() -> None:
    with serve_process("--clock", START, "--heartbeat", "0.1") as url, httpx.Client(base_url=url, timeout=10) as http:
        headers = {"Authorization": f"Bearer {KEY}"}
        session = http.post("/v1/sessions", json={"userId": "u"}, headers=headers).json()
        agent = http.post(f"/v1/sessions/{session['id']}/agents", json={}, headers=headers).json()
        http.post(f"/v1/agents/{agent['id']}/run", json={"task": "t"}, headers=headers)
        comments = []
        with http.stream("GET", f"/v1/agents/{agent['id']}/stream", headers=headers) as stream:
            for line in stream.iter_lines():
                if line.startswith(":"):
                    comments.append(line)
                    if "clock frozen" in line:
                        break
    assert comments[-1] == ": clock frozen at 2025-05-01T00:00:00.000Z; POST /_emu/clock/advance to move it"


@pytest.mark.server
def test_requests_limit_shows_the_newest_entries_oldest_first() -> None:
    with serve_process("--clock", START) as url:
        headers = {"Authorization": f"Bearer {KEY}"}
        for user in ("first", "second", "third"):
            httpx.post(f"{url}/v1/sessions", json={"userId": user}, headers=headers)
        result = _cli("requests", "--url", url, "--key", KEY, "--limit", "2")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "/v1/sessions" in line]
    seqs = [int(line.split()[0]) for line in lines]
    assert len(lines) == 2 and seqs == sorted(seqs) and seqs[-1] == 3  # the second and third requests
