"""What the secret-leak tests share: a real `serve` whose output goes to a file we own (which
`conftest.serve_process` does not offer), the bytes of a database's files, and a search for
secret values that also looks inside base64 fields and JSON escapes."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
from conftest import stop_process


@contextmanager
def serve_logged(log: Path, *args: str) -> Iterator[str]:
    """`theazo-emu serve --port 0 ...` with stdout and stderr in `log`; yields its URL."""
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "theazo_emu", "serve", "--port", "0", *args],
                                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 15
        while not (match := re.search(r"http://127\.0\.0\.1:\d+", log.read_text(errors="replace"))):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "no URL printed"
            time.sleep(0.02)
        url = match.group(0)
        while httpx.get(f"{url}/_emu/health", timeout=2).status_code != 200:
            time.sleep(0.02)
        yield url
    finally:
        stop_process(proc)


def db_files(db: Path) -> bytes:
    return b"".join(Path(f"{db}{suffix}").read_bytes() for suffix in ("", "-wal", "-shm")
                    if Path(f"{db}{suffix}").exists())


def assert_absent(haystack: bytes, values: list[str], where: str) -> None:
    hits = [value for value in values if value.encode() in unpacked(haystack)]
    assert hits == [], f"{where} contains secret values: {hits}"


def unpacked(haystack: bytes) -> bytes:
    """The haystack plus what its base64 fields and JSON escapes hold (a body kept as base64,
    a BLOB exported as {"$base64": ...}, or as an escaped string still carries its secret)."""
    extra = [base64.b64decode(m) for m in re.findall(rb'"\$?base64":\s*"([A-Za-z0-9+/=]+)"', haystack)]
    text = haystack.decode("utf-8", "replace")
    extra += [_unescaped(m) for m in re.findall(r'"((?:[^"\\]|\\.)*)"', text) if "\\u" in m]
    return b"\n".join([haystack, *extra])


def _unescaped(quoted: str) -> bytes:
    """A JSON string's value; raw SQLite pages also hold quote-delimited binary noise that is no
    JSON string (control characters, bad escapes): it is searched as it is."""
    try:
        return json.loads(f'"{quoted}"').encode("utf-8", "replace")
    except ValueError:
        return b""
