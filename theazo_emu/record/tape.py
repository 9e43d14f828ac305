"""The record/replay switch: always in the app, free when off, flipped on a running server.

`TapeMiddleware` sits innermost of the app-wide middleware (so the journal sees replayed
and proxied requests) and costs one attribute read per request while nothing is recorded
or replayed. `Tape` holds what is in force: a recorder (`serve --record`, or
`POST /_emu/record {file}` on a running server, as WireMock does), a replayer
(`serve --replay`), or nothing. record/ is imported only when one starts, so a server that
never records does not pay for it at start-up. A handler has `handle(app, scope, receive,
send, error_response)`, `rewind()` (POST /_emu/reset rewinds a replay), `describe()` and
`aclose()`. A handler that answers a request itself (a replay miss, an unreachable
upstream) renders the error with `error_response(scope, status, code, message, details)`
in the envelope of the request's surface; the app passes it in (surfaces.error_response),
so record/ imports none of the surfaces.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from theazo_emu.core.errors import Conflict

if TYPE_CHECKING:
    from starlette.responses import Response

    from theazo_emu.core.host import Host

ErrorResponse = Callable[..., "Response"]


class Handler(Protocol):
    async def handle(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send,
                     error_response: ErrorResponse) -> None: ...

    def rewind(self) -> None: ...

    def describe(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


class Tape:
    """What the emulator records or replays now, if anything."""

    def __init__(self, emu: "Host") -> None:
        self.emu = emu
        self.handler: Handler | None = None

    def start_from_settings(self) -> None:
        """`--record FILE [--upstream URL]` or `--replay FILE`, checked at start-up."""
        settings = self.emu.settings
        if settings.record is not None and settings.replay is not None:
            raise ValueError("--record and --replay cannot be combined")
        if settings.upstream and settings.record is None:
            raise ValueError("--upstream needs --record FILE")
        if settings.record is not None:
            self.record(settings.record, settings.upstream)
        elif settings.replay is not None:
            self.replay(settings.replay)

    def record(self, path: Path, upstream: str | None = None) -> dict[str, Any]:
        """Start recording to `path` (truncated, then a header line); 409 if a tape is in force."""
        self._refuse_if_busy()
        from theazo_emu.record.recording import Recorder  # only a recording server pays for it

        self.handler = Recorder(self.emu, path, upstream)
        return self.describe()

    def replay(self, path: Path) -> dict[str, Any]:
        """Answer from the cassette at `path` from now on."""
        self._refuse_if_busy()
        from theazo_emu.record.replaying import Replayer

        self.handler = Replayer(self.emu, path)
        return self.describe()

    async def stop(self) -> dict[str, Any]:
        """Stop what is in force; what it was, for the answer."""
        handler = self.handler
        if handler is None or handler.describe()["mode"] != "recording":
            raise Conflict("Nothing is being recorded; start with POST /_emu/record {\"file\": \"...\"}.",
                           {"mode": self.describe()["mode"]})
        self.handler = None
        await handler.aclose()
        return handler.describe() | {"mode": "off"}

    def rewind(self) -> None:
        if self.handler is not None:
            self.handler.rewind()

    def describe(self) -> dict[str, Any]:
        return self.handler.describe() if self.handler is not None else {"mode": "off"}

    async def aclose(self) -> None:
        """Release what the handler holds open (the upstream's connections) at shutdown."""
        if self.handler is not None:
            await self.handler.aclose()

    def _refuse_if_busy(self) -> None:
        if self.handler is not None:
            state = self.handler.describe()
            raise Conflict(f"Already {state['mode']} {state.get('file')}; DELETE /_emu/record first.",
                           {"mode": state["mode"], "file": state.get("file")})


class TapeMiddleware:
    """Plain ASGI: hands a request to the tape's handler when one is in force."""

    def __init__(self, app: ASGIApp, emu: "Host", error_response: ErrorResponse) -> None:
        self.app, self.emu, self.error_response = app, emu, error_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.emu.tape.handler
        if handler is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await handler.handle(self.app, scope, receive, send, self.error_response)
