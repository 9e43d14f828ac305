"""Shared fixtures: an in-process emulator on a frozen clock, and a real `serve` process.

`client` is Starlette's TestClient over a fresh in-memory emulator (seed 0, clock frozen
at 2025-05-01T00:00:00Z). Every test gets its own API key, hence its own tenant.
`serve_process(...)` starts `python -m theazo_emu serve --port 0` and parses the URL it
prints, for tests that need real sockets (SSE, headers, the CLI end to end).
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Any, Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.core.http import ApiRoute
from theazo_emu.settings import Settings

ApiRoute.strict_statuses = True  # a success status a route does not declare fails the test that meets it

START = "2025-05-01T00:00:00Z"
_keys = itertools.count(1)


@pytest.fixture
def settings() -> Settings:
    return Settings(clock=START, seed=0, heartbeat_s=0.5)


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
def emu(app):
    return app.state.emu


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def key() -> str:
    return f"th_test_key{next(_keys)}"


@pytest.fixture
def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_error(response: Any, status: int, code: str) -> dict:
    """The documented envelope, with the same requestId in body, error and header."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert body["requestId"] == body["error"]["requestId"] == response.headers["x-request-id"]
    assert body["requestId"].startswith("req_")
    return body


def make_session(client: Any, auth: dict, **body: Any) -> dict:
    response = client.post("/v1/sessions", json={"userId": "user_1", **body}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def make_agent(client: Any, auth: dict, session_id: str | None = None, **body: Any) -> dict:
    session_id = session_id or make_session(client, auth)["id"]
    response = client.post(f"/v1/sessions/{session_id}/agents", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def advance(client: Any, seconds: float) -> dict:
    response = client.post("/_emu/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text
    return response.json()


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate, and kill if it has not exited within 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def serve_process(*args: str, env: dict[str, str] | None = None, stderr: Any = None,
                  cwd: str | None = None) -> Iterator[str]:
    """Run the real CLI on a free loopback port; yield its base URL. It runs in `cwd`, by
    default an empty directory (so the repository's ./fixtures is not auto-loaded);
    `stderr` may capture its log."""
    command = [sys.executable, "-m", "theazo_emu", "serve", "--port", "0", *args]
    log = tempfile.TemporaryFile(mode="w+")
    workdir = tempfile.TemporaryDirectory()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr or log, text=True,
                            env={**os.environ, **(env or {})}, cwd=cwd or workdir.name)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        if not match:
            proc.wait(timeout=10)
            log.seek(0)
            raise AssertionError(f"no URL in {line!r}; stderr: {log.read()}")
        url = match.group(0)
        deadline = time.monotonic() + 10
        while True:
            try:
                if httpx.get(f"{url}/_emu/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield url
    finally:
        stop_process(proc)
        proc.stdout.close()
        log.close()
        workdir.cleanup()


@pytest.fixture
def server() -> Iterator[str]:
    """A real emulator process with a frozen clock."""
    with serve_process("--clock", START) as url:
        yield url
