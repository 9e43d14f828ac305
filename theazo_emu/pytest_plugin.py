"""pytest plugin: an emulator per test session, a fresh tenant per test.

Registered through the `pytest11` entry point, so installing theazo-emu is enough.
One emulator runs per pytest process (per xdist worker) in a background thread on a free
loopback port, with a frozen clock; the function-scoped `theazo_emu` fixture hands each
test its own API key, hence its own tenant: isolation with no reset (`theo_emu` does the
same with a Theo key, for the /api/v1 surface). Settings come from
ini options (`theazo_emu_seed`, `theazo_emu_clock`, `theazo_emu_pace`,
`theazo_emu_fixtures`). Nothing is started unless a test asks for the fixture.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Iterator

import httpx
import pytest

from . import durations

DEFAULT_CLOCK = "2025-01-01T00:00:00Z"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("theazo_emu_seed", "seed of the emulator started for the tests", default="0")
    parser.addini("theazo_emu_clock", "instant the emulator's frozen clock starts at", default=DEFAULT_CLOCK)
    parser.addini("theazo_emu_pace", "run timelines: realtime or instant", default="realtime")
    parser.addini("theazo_emu_fixtures", "fixture directory to load", default="")


class EmulatorServer:
    """A real emulator in a background thread, on a free 127.0.0.1 port."""

    def __init__(self, settings: Any) -> None:
        # Imported here rather than at the top: the plugin loads in every pytest run of a
        # project that installs theazo-emu, and only tests that use it should pay for it.
        import uvicorn

        from .app import create_app

        self.app = create_app(settings)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="theazo-emu", daemon=True)

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> "EmulatorServer":
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("theazo-emu failed to start")
            self._thread.join(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()


@dataclass
class TheazoEmu:
    """What a test gets: a base URL, its own key, and control of the emulator."""

    base_url: str
    api_key: str
    http: httpx.Client = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for this test's tenant (close it, or use it in a `with`)."""
        return httpx.Client(base_url=self.base_url, headers=self.headers, **kwargs)

    def _admin(self, verb: str, path: str, body: dict | None = None, params: dict | None = None) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        response = self.http.request(verb, path, json=body, params=query)
        if response.status_code >= 400:
            raise AssertionError(f"{verb} {path} answered {response.status_code}: {response.text}")
        return response.json()

    # -- the clock --
    def now(self) -> str:
        return self._admin("GET", "/_emu/clock")["now"]

    def advance(self, by: float | str | timedelta) -> list[dict]:
        """Move the clock forward (seconds, '90s', '15m', '1h', '2d' or a timedelta); returns what fired."""
        return self._admin("POST", "/_emu/clock/advance", {"seconds": _seconds(by)})["fired"]

    def freeze(self) -> None:
        self._admin("POST", "/_emu/clock/freeze")

    def resume_clock(self) -> None:
        self._admin("POST", "/_emu/clock/resume")

    def settle(self) -> list[dict]:
        """Run this tenant's in-flight timelines to their end."""
        return self._admin("POST", "/_emu/settle", {"key": self.api_key})["fired"]

    # -- the journal, fixtures and faults --
    def requests(self, **filters: Any) -> list[dict]:
        """This tenant's journal entries (filters: method, path, kind, since, until)."""
        return self._admin("GET", "/_emu/requests", params={**filters, "key": self.api_key, "limit": 100})["data"]

    def add_fixture(self, document: dict) -> dict:
        """Add a fixture document (same format as the files) in force for this tenant."""
        return self._admin("POST", "/_emu/fixtures", {"key": self.api_key, **document})

    def fault(self, fault: str, times: int | None = None, **match: Any) -> dict:
        """Inject a fault on this tenant's requests (`match`: method, path...)."""
        rule = {"fault": fault, "match": {**match, "key": self.api_key}}
        if times is not None:
            rule["times"] = times
        return self._admin("POST", "/_emu/faults", rule)


def _seconds(by: float | str | timedelta) -> float:
    return by.total_seconds() if isinstance(by, timedelta) else durations.to_seconds(by)


@pytest.fixture(scope="session")
def theazo_emu_server(pytestconfig: pytest.Config) -> Iterator[EmulatorServer]:
    """The emulator shared by this pytest process's tests."""
    from .settings import Settings  # see EmulatorServer.__init__

    fixtures = pytestconfig.getini("theazo_emu_fixtures")
    settings = Settings(
        port=0, seed=int(pytestconfig.getini("theazo_emu_seed")), clock=pytestconfig.getini("theazo_emu_clock"),
        pace=pytestconfig.getini("theazo_emu_pace"),
        fixtures=pytestconfig.rootpath / fixtures if fixtures else None,
    )
    server = EmulatorServer(settings).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _theazo_emu_http(theazo_emu_server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=theazo_emu_server.base_url, timeout=30) as client:
        yield client


_serial = itertools.count(1)


@pytest.fixture
def theazo_emu(theazo_emu_server: EmulatorServer, _theazo_emu_http: httpx.Client,
               request: pytest.FixtureRequest) -> TheazoEmu:
    """A fresh tenant on the shared emulator: its own key, so no other test's state."""
    digest = hashlib.blake2b(request.node.nodeid.encode(), digest_size=6).hexdigest()
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    key = f"th_test_pytest_{worker}_{digest}_{next(_serial)}"
    return TheazoEmu(theazo_emu_server.base_url, key, _theazo_emu_http)


@dataclass
class TheoEmu(TheazoEmu):
    """The same control for the Theo API (/api/v1): a `theo_sk_test_` key of this test's own."""

    @property
    def openai_base_url(self) -> str:
        """The base URL an OpenAI client takes (`OpenAI(base_url=..., api_key=theo_emu.api_key)`)."""
        return f"{self.base_url}/api/v1"


@pytest.fixture
def theo_emu(theazo_emu_server: EmulatorServer, _theazo_emu_http: httpx.Client,
             request: pytest.FixtureRequest) -> TheoEmu:
    """A fresh Theo tenant on the shared emulator: its own theo_sk_test_ key."""
    digest = hashlib.blake2b(request.node.nodeid.encode(), digest_size=6).hexdigest()
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return TheoEmu(theazo_emu_server.base_url, f"theo_sk_test_pytest_{worker}_{digest}_{next(_serial)}",
                   _theazo_emu_http)
