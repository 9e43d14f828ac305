"""`theazo-emu serve` guides the person who runs it, over a real process: Ctrl-C and SIGTERM
stop it cleanly (exit 0) with a last line saying what was kept; a taken port names
`--port 0`; a server not on the default URL prints the THEAZO_EMU_URL line the other
commands need; `GET /` leads to the inspector."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.server


def _start(*args: str, cwd: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "theazo_emu", "serve", "--port", "0", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    match = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline())
    assert match, "no URL printed"
    url = match.group(0)
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(f"{url}/_emu/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            assert time.monotonic() < deadline
            time.sleep(0.02)


def _stop(proc: subprocess.Popen, sig: signal.Signals = signal.SIGINT) -> str:
    """Everything the server printed. Read through the same buffered reader `_start` used:
    `communicate()` reads the raw pipe and would miss lines that reader already holds."""
    proc.send_signal(sig)
    proc.wait(timeout=20)
    assert proc.stdout is not None
    with proc.stdout:
        return proc.stdout.read()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_exits_zero_and_says_what_was_kept(tmp_path: Path, stop: signal.Signals) -> None:
    proc, url = _start("--db", "state.db", "--record", "run.jsonl", cwd=tmp_path)
    for user in ("a", "b"):
        assert httpx.post(f"{url}/v1/sessions", json={"userId": user},
                          headers={"Authorization": "Bearer th_test_guides"}).status_code == 201
    output = _stop(proc, stop)
    assert proc.returncode == 0, output
    assert "Aborted" not in output and "Traceback" not in output
    last = output.strip().splitlines()[-1]
    assert last == f"stopped: state kept in state.db; cassette {tmp_path / 'run.jsonl'} with 2 interactions", last
    assert (tmp_path / "state.db").exists() and not (tmp_path / "state.db-wal").exists()  # the log folded in


def test_an_in_memory_server_says_nothing_was_kept(tmp_path: Path) -> None:
    proc, _ = _start(cwd=tmp_path)
    output = _stop(proc)
    assert proc.returncode == 0 and output.strip().splitlines()[-1] == "stopped: state in memory, not kept"


def test_a_taken_port_names_port_zero(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "theazo_emu", "serve", "--port", str(port)], cwd=tmp_path,
                              capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert f"cannot bind 127.0.0.1:{port}" in done.stderr and "--port 0" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_server_off_the_default_url_prints_the_line_to_export_and_leads_slash_to_the_inspector(
        tmp_path: Path) -> None:
    proc, url = _start(cwd=tmp_path)
    try:
        root = httpx.get(f"{url}/", follow_redirects=False)
        assert root.status_code == 307 and root.headers["location"] == "/_emu/ui"
        assert httpx.get(f"{url}/", follow_redirects=True).headers["content-type"].startswith("text/html")
    finally:
        output = _stop(proc)
    assert f"export THEAZO_EMU_URL={url}\n" in output


def _comments(url: str, agent: str, headers: dict[str, str], query: str = "") -> list[str]:
    """The stream's comment lines up to the first heartbeat (the stream itself never ends)."""
    seen: list[str] = []
    with httpx.stream("GET", f"{url}/v1/agents/{agent}/stream{query}", headers=headers, timeout=10) as stream:
        for line in stream.iter_lines():
            if line.startswith(":"):
                seen.append(line)
            if line == ": heartbeat" or len(seen) > 5:
                return seen
    return seen


def test_an_idle_agents_stream_says_it_is_idle_and_how_to_replay_the_last_run(tmp_path: Path) -> None:
    proc, url = _start("--clock", "2025-05-01T00:00:00Z", "--heartbeat", "0.2", cwd=tmp_path)
    headers = {"Authorization": "Bearer th_test_idle_stream"}
    try:
        session = httpx.post(f"{url}/v1/sessions", json={"userId": "u"}, headers=headers).json()
        agent = httpx.post(f"{url}/v1/sessions/{session['id']}/agents", json={}, headers=headers).json()["id"]
        assert _comments(url, agent, headers) == [
            ": stream open",
            f": agent {agent} is idle and has run nothing yet; this stream shows its next run "
            f"(POST /v1/agents/{agent}/run starts one)",
            ": heartbeat"]
        run = httpx.post(f"{url}/v1/agents/{agent}/run", json={"task": "t"}, headers=headers).json()
        httpx.post(f"{url}/_emu/clock/advance", json={"seconds": 600})
        with httpx.stream("GET", f"{url}/v1/agents/{agent}/stream", headers=headers, timeout=10) as stream:
            assert any(line == "event: output" for line in stream.iter_lines())  # read to its end once
        idle = _comments(url, agent, headers)
        assert idle[1] == (f": agent {agent} is idle; this stream shows its next run. Its last run replays with "
                           f"GET /v1/agents/{agent}/stream?taskId={run['taskId']}")
        with httpx.stream("GET", f"{url}/v1/agents/{agent}/stream?taskId={run['taskId']}", headers=headers,
                          timeout=10) as stream:  # the hint, followed as printed, replays the run to its end
            lines = list(stream.iter_lines())
        assert lines[0] == ": stream open" and "event: output" in lines and not any("idle" in x for x in lines)
    finally:
        _stop(proc)
