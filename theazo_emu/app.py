"""create_app(): one Emulator, its surfaces mounted on their prefixes, the app-wide middleware.

Each surface (surfaces/: /_emu admin, /api/v1 Theo, /v1 Theazo) is a Starlette `Mount` with
its own routes, exception handlers and middleware (surface.py). App-wide, outermost first:
the request id (plain ASGI, no BaseHTTPMiddleware: it numbers every request with a
deterministic `req_` id, puts it in the scope for the renderers and echoes it as
`X-Request-Id`), the journal, the rate-limit headers, then the record/replay switch
(tape.py: free while off, and record/ is imported only once something records). A path under
no prefix answers in Theazo's envelope. Starlette's debug mode stays off so an unexpected
exception is rendered as an error envelope, never a traceback. No endpoint logic lives here.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager, suppress
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import lazy, timers
from .auth import tenant_hint
from .emulator import Emulator
from .errors import log
from .http import ApiRoute
from .journal import JournalMiddleware
from .ratelimit import RateLimitHeaders
from .settings import Settings
from .surface import Dispatcher, mount
from .surfaces import SURFACES, THEAZO, error_response, surface_for
from .tape import TapeMiddleware


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, emu: Emulator) -> None:
        self.app, self.emu = app, emu

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        auth = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        request_id = self.emu.ids.request_id(tenant_hint(auth), self.emu.clock.now_ms())
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers["X-Request-Id"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


def api_routes(app: Starlette | None = None) -> list[ApiRoute]:
    """Every route the emulator serves, surface by surface, in matching order."""
    app = app or create_app(Settings(db=":memory:"))
    return [route for mounted in app.router.routes for route in mounted.routes if isinstance(route, ApiRoute)]


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Background work only: firing timers as a flowing clock passes them, the fixture
    watcher; at shutdown, `--export-on-exit`."""
    task = asyncio.create_task(timers.run_loop(app.state.emu))
    watcher = asyncio.create_task(app.state.emu.fixtures.watch())  # fixture hot reload, if --fixtures
    try:
        yield
    finally:
        if app.state.emu.settings.export_on_exit is not None:
            from .snapshot import write_export  # only a server asked to export pays for it

            write_export(app.state.emu, app.state.emu.settings.export_on_exit)
        await app.state.emu.tape.aclose()
        app.state.emu.fixtures.stop_watching()
        for background in (task, watcher):
            background.cancel()
            with suppress(asyncio.CancelledError):
                await background


class ServerErrors:
    """The outermost layer, for a failure no surface rendered (one in the app-wide middleware).
    Nothing sent yet: the 500 in the envelope of the surface the path is on. Either way the
    exception is logged here and not raised on: Starlette's ServerErrorMiddleware re-raises,
    and the server then closes the client's keep-alive connection. Only an answer cut off
    mid-body must end its connection, so that exception goes on to the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = complete = False

        async def watched(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if started and not complete:
                raise
            log.exception("unexpected error on %s %s (%s)", scope["method"], scope["path"],
                          scope.get("state", {}).get("request_id", ""))
            if not started:
                status, code = surface_for(scope["path"]).generic.get("internal", (500, "internal_error"))
                await error_response(scope, status, code, "Unexpected server error. The requestId helps with "
                                     "support.")(scope, receive, send)


class _App(Starlette):
    """Starlette, less its innermost ExceptionMiddleware: every error is rendered by the
    surfaces' own handlers or by the Dispatcher, so that layer would only cost time. The
    outermost layer is ServerErrors, for a failure in the app-wide middleware."""

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = self.router
        middleware = [Middleware(ServerErrors), *self.user_middleware]
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
        return app


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    emu = Emulator(settings)
    mounts = [mount(surface, emu) for surface in SURFACES]
    emu.journal.redactor.learn(route for mounted in mounts for route in mounted.routes)  # secret fields
    app = _App(
        debug=False,
        # Outermost first; record/replay innermost, so the journal sees replayed and proxied requests.
        middleware=[Middleware(RequestIdMiddleware, emu=emu), Middleware(JournalMiddleware, emu=emu),
                    Middleware(RateLimitHeaders), Middleware(TapeMiddleware, emu=emu)],
    )
    app.router = Dispatcher(mounts, THEAZO, lifespan)
    emu.timers += lazy.timers()
    app.state.emu = emu
    emu.fixtures.install(app, lambda: create_app(settings.dry_run()))  # loads, seeds
    emu.tape.start_from_settings()  # after the fixtures: the header names them
    return app
