"""A loopback HTTP receiver for tests of what the emulator sends out (webhook deliveries,
custom tool handlers): it records every request and answers the statuses it is told to,
after the delays it is told to, counting how many requests it held at once."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator


class Received(dict):
    """One request: method, path, headers (lower-case names), raw body."""

    def json(self) -> Any:
        return json.loads(self["body"])


class Receiver:
    def __init__(self, statuses: list[int] | None = None, answer: Any = None,
                 delays: list[float] | None = None) -> None:
        self.requests: list[Received] = []
        self.statuses = list(statuses or [])  # answered in turn; 200 once used up
        self.delays = list(delays or [])  # seconds before each answer, in turn; none once used up
        self.open = self.most_open = 0  # requests being answered now, and the most at once
        self.answer = {"ok": True} if answer is None else answer
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._lock:
                    receiver.requests.append(Received(method="POST", path=self.path, body=body,
                                                      headers={k.lower(): v for k, v in self.headers.items()}))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    delay = receiver.delays.pop(0) if receiver.delays else 0.0
                    receiver.open += 1
                    receiver.most_open = max(receiver.most_open, receiver.open)
                time.sleep(delay)
                with receiver._lock:
                    receiver.open -= 1
                payload = json.dumps(receiver.answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests once at least `count` have arrived (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            time.sleep(0.01)
        return list(self.requests)


@contextmanager
def receiver(statuses: list[int] | None = None, answer: Any = None,
             delays: list[float] | None = None) -> Iterator[Receiver]:
    running = Receiver(statuses, answer, delays)
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()


def dead_url() -> str:
    """A loopback URL nothing listens on (a port just freed)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_port
    server.server_close()
    return f"http://127.0.0.1:{port}/gone"
