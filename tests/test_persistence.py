"""Persistence with `--db FILE`: state survives a restart, and a process killed in the
middle of a write burst loses no request it answered 2xx and leaves a sound file."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import pytest
from conftest import START, serve_process

pytestmark = pytest.mark.server
KEY = {"Authorization": "Bearer th_test_persist"}


def test_state_survives_a_restart(tmp_path) -> None:
    db = str(tmp_path / "state.db")
    with serve_process("--db", db, "--clock", START) as url:
        session = httpx.post(f"{url}/v1/sessions", json={"userId": "keep"}, headers=KEY).json()
    with serve_process("--db", db, "--clock", START) as url:
        again = httpx.get(f"{url}/v1/sessions/{session['id']}", headers=KEY)
        assert again.status_code == 200 and again.json() == session
        fresh = httpx.post(f"{url}/v1/sessions", json={"userId": "new"}, headers=KEY).json()
    assert fresh["id"] != session["id"]  # the id sequence continued instead of repeating


def test_a_restart_keeps_the_virtual_time(tmp_path) -> None:
    db = str(tmp_path / "clock.db")
    with serve_process("--db", db, "--clock", START) as url:
        httpx.post(f"{url}/_emu/clock/advance", json={"seconds": 86400})
    with serve_process("--db", db, "--clock", START) as url:
        assert httpx.get(f"{url}/_emu/clock").json()["now"] == "2025-05-02T00:00:00.000Z"


def test_kill_during_writes_loses_no_answered_request(tmp_path) -> None:
    db = str(tmp_path / "crash.db")
    proc = subprocess.Popen([sys.executable, "-m", "theazo_emu", "serve", "--port", "0", "--db", db, "--clock", START],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    url = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline()).group(0)  # type: ignore[union-attr]
    answered: list[str] = []
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=url, headers=KEY, timeout=5) as client:
            while not stop.is_set():
                try:
                    response = client.post("/v1/sessions", json={"userId": f"u{len(answered)}"})
                except httpx.HTTPError:
                    return
                if response.status_code == 201:
                    answered.append(response.json()["id"])

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_emu/health")
            break
        except httpx.TransportError:
            time.sleep(0.02)
    writers = [threading.Thread(target=write) for _ in range(4)]
    for thread in writers:
        thread.start()
    while len(answered) < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    stop.set()
    for thread in writers:
        thread.join()
    assert len(answered) >= 200
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in conn.execute("SELECT id FROM sessions")}
    assert set(answered) <= stored


def test_a_file_database_is_wal_without_an_fsync_per_commit(tmp_path) -> None:
    from theazo_emu.core.store import Store

    store = Store(str(tmp_path / "modes.db"))
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA synchronous") == 1  # NORMAL: durable across a crash of the process
    assert store.scalar("PRAGMA wal_autocheckpoint") == 0  # no commit copies the log back on the event loop
    store.close()


def test_the_log_reaches_the_file_from_the_checkpointer_not_from_a_commit(tmp_path) -> None:
    """With autocheckpoint off, only the checkpointer's thread moves committed pages from the
    log into the database file. Once the log is past LIMIT frames, the writer's next commit
    copies what is left and the one after starts the log over, its file cut back to LIMIT."""
    from theazo_emu.core.checkpoint import EVERY, LIMIT, Checkpointer
    from theazo_emu.core.store import Store

    path, wal = tmp_path / "log.db", tmp_path / "log.db-wal"
    store = Store(str(path))
    store._checkpointer.stop()  # held back, to see that no commit checkpoints on its own
    before = path.stat().st_size
    blob = "x" * 3000  # about a page a row, more with the index

    def write(rows: range) -> None:
        for n in rows:
            with store.atomic():
                store.db.execute("INSERT INTO counters (tenant, seq) VALUES (?, ?)", [f"t{n}{blob}", n])

    write(range(3 * EVERY))  # about 5,000 frames
    assert wal.stat().st_size > LIMIT * 4096 and path.stat().st_size == before  # all of it still in the log
    store._checkpointer = Checkpointer(str(path), lambda: store.db.total_changes)
    deadline = time.monotonic() + 20
    while not store._checkpointer.wanted and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store._checkpointer.wanted  # the thread saw the log past LIMIT...
    assert path.stat().st_size - before >= 3 * EVERY * 3000  # ...after copying it into the file
    write(range(3 * EVERY, 3 * EVERY + 2))  # the writer copies the rest, then starts the log over
    assert not store._checkpointer.wanted
    assert wal.stat().st_size <= (LIMIT + 16) * 4096, wal.stat().st_size
    store.close()
    assert not wal.exists()  # the last close folds the rest in
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM counters").fetchone()[0] == 3 * EVERY + 2
