"""pytest plugin: an emulator per test session, a fresh tenant per test.

Registered through the `pytest11` entry point, so installing theazo-emu is enough.
One emulator runs per pytest process (per xdist worker) in a background thread on a free
loopback port, with a frozen clock; the function-scoped `theazo_emu` fixture hands each
test its own API key, hence its own tenant: isolation with no reset (`theazo_emu_other`
is a second tenant for the same test; `theo_emu` does the same with a Theo key, for the
/api/v1 surface). Settings come from ini options (`theazo_emu_seed`, `theazo_emu_clock`,
`theazo_emu_pace`, `theazo_emu_fixtures`); a test marked
`@pytest.mark.theazo_emu(pace=, clock=, seed=, fixtures=, key=)` gets a server with those
settings, shared by every test of this process that asks for the same ones (`key=` only
picks the test's key). The marker is registered, so `--strict-markers` accepts it.
Nothing is started unless a test asks for the fixture.
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

from theazo_emu.core import durations

DEFAULT_CLOCK = "2025-01-01T00:00:00Z"


MARKER_ARGS = ("pace", "clock", "seed", "fixtures", "key")
MARKER = ("theazo_emu(pace=None, clock=None, seed=None, fixtures=None, key=None): run this test against an "
          "emulator with these settings (shared by the tests that ask for the same ones), as this key")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


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

        from theazo_emu.app import create_app

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

    @property
    def theo_key(self) -> str:
        """This test's key on the Theo surface (/api/v1): its own tenant there."""
        return "theo_sk_test_" + self.api_key.removeprefix("th_test_")

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for this test's tenant (close it, or use it in a `with`)."""
        return httpx.Client(base_url=self.base_url, headers=self.headers, **kwargs)

    def theo_client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for this test's Theo tenant."""
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.theo_key}"}, **kwargs)

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


class Servers:
    """This pytest process's emulators, one per distinct settings, started on first use."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._servers: dict[tuple, tuple[EmulatorServer, httpx.Client]] = {}

    def settings(self, overrides: dict[str, Any]) -> tuple:
        """(seed, clock, pace, fixtures): the ini options, then the marker's."""
        ini = self.config.getini
        fixtures = overrides.get("fixtures", ini("theazo_emu_fixtures") or None)
        return (int(overrides.get("seed", ini("theazo_emu_seed"))), str(overrides.get("clock", ini("theazo_emu_clock"))),
                str(overrides.get("pace", ini("theazo_emu_pace"))),
                str(self.config.rootpath / fixtures) if fixtures else None)

    def get(self, overrides: dict[str, Any] | None = None) -> tuple[EmulatorServer, httpx.Client]:
        chosen = self.settings(overrides or {})
        if chosen not in self._servers:
            from pathlib import Path

            from theazo_emu.settings import Settings  # see EmulatorServer.__init__

            seed, clock, pace, fixtures = chosen
            source = ("the marker's fixtures=" if "fixtures" in (overrides or {})
                      else "the ini option theazo_emu_fixtures")
            if fixtures and not Path(fixtures).is_dir():
                pytest.fail(f"theazo_emu: {source} names {fixtures}, which is not a directory (a relative path is "
                            f"taken from the rootdir, {self.config.rootpath})", pytrace=False)
            from theazo_emu.fixtures.loader import FixtureError

            try:
                server = EmulatorServer(Settings(port=0, seed=seed, clock=clock, pace=pace,  # type: ignore[arg-type]
                                                 fixtures=Path(fixtures) if fixtures else None)).start()
            except FixtureError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                pytest.fail(f"theazo_emu: the fixtures in {fixtures} ({source}) do not load: {first}", pytrace=False)
            self._servers[chosen] = (server, httpx.Client(base_url=server.base_url, timeout=30))
        return self._servers[chosen]

    def stop(self) -> None:
        for server, http in self._servers.values():
            http.close()
            server.stop()
        self._servers.clear()


@pytest.fixture(scope="session")
def theazo_emu_servers(pytestconfig: pytest.Config) -> Iterator[Servers]:
    """The emulators of this pytest process (per xdist worker), stopped at its end."""
    servers = Servers(pytestconfig)
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="session")
def theazo_emu_server(theazo_emu_servers: Servers) -> EmulatorServer:
    """The emulator with the ini options' settings, shared by this pytest process's tests."""
    return theazo_emu_servers.get()[0]


_serial = itertools.count(1)


def _marker_args(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("theazo_emu")
    if marker is None:
        return {}
    unknown = sorted(set(marker.kwargs) - set(MARKER_ARGS))
    if marker.args or unknown:
        raise pytest.UsageError(f"@pytest.mark.theazo_emu takes only the keywords {', '.join(MARKER_ARGS)}"
                                + (f"; got {', '.join(unknown)}" if unknown else "; got positional arguments"))
    return dict(marker.kwargs)


@pytest.fixture
def theazo_emu(theazo_emu_servers: Servers, request: pytest.FixtureRequest) -> TheazoEmu:
    """A fresh tenant on the shared emulator: its own key, so no other test's state."""
    args = _marker_args(request)
    key = args.pop("key", None)
    server, http = theazo_emu_servers.get(args)
    return TheazoEmu(server.base_url, key or _test_key("th_test_pytest", request), http)


def _test_key(prefix: str, request: pytest.FixtureRequest) -> str:
    """A key of this test's own (so a tenant of its own), stable across runs of the same test."""
    digest = hashlib.blake2b(request.node.nodeid.encode(), digest_size=6).hexdigest()
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return f"{prefix}_{worker}_{digest}_{next(_serial)}"


@pytest.fixture
def theazo_emu_other(theazo_emu: TheazoEmu) -> TheazoEmu:
    """A second tenant on the same emulator as `theazo_emu`, for testing isolation."""
    return TheazoEmu(theazo_emu.base_url, f"{theazo_emu.api_key}_other", theazo_emu.http)


@dataclass
class TheoEmu(TheazoEmu):
    """The same control for the Theo API (/api/v1): a `theo_sk_test_` key of this test's own."""

    @property
    def openai_base_url(self) -> str:
        """The base URL an OpenAI client takes (`OpenAI(base_url=..., api_key=theo_emu.api_key)`)."""
        return f"{self.base_url}/api/v1"


@pytest.fixture
def theo_emu(theazo_emu_servers: Servers, request: pytest.FixtureRequest) -> TheoEmu:
    """A fresh Theo tenant on the emulator its marker's settings ask for: its own theo_sk_test_ key."""
    args = _marker_args(request)
    key = args.pop("key", None)
    server, http = theazo_emu_servers.get(args)
    return TheoEmu(server.base_url, key or _test_key("theo_sk_test_pytest", request), http)
