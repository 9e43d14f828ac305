"""create_app(): routes, middleware and error handlers; no endpoint logic lives here.

The request-id middleware is plain ASGI (no BaseHTTPMiddleware): it numbers every
request with a deterministic `req_` id, puts it in the scope for the error renderer and
echoes it as `X-Request-Id` on every response. Starlette's debug mode stays off so an
unexpected exception is rendered as the `internal_error` envelope, never a traceback.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager, suppress
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__, faults, lazy, timers
from .auth import tenant_hint
from .emulator import Emulator
from .errors import HANDLERS
from .http import ApiRoute, Ctx, api_route
from .journal import JournalMiddleware
from .ratelimit import RateLimitHeaders
from .record import recording
from .settings import Settings


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


async def health(ctx: Ctx) -> dict:
    """Liveness, version and the clock."""
    return {"status": "ok", "version": __version__, "clock": ctx.emu.clock.describe(),
            "pace": ctx.emu.settings.pace, "dialect": ctx.emu.settings.dialect}


async def openapi_document(ctx: Ctx) -> dict:
    """The OpenAPI 3.1 description of every route."""
    from . import openapi  # loads every family

    return openapi.build(api_routes())


def core_routes() -> list[ApiRoute]:
    """The routes that belong to no family: always loaded."""
    return [api_route("/_emu/health", health, public=True),
            api_route("/v1/openapi.json", openapi_document, public=True)]


def api_routes() -> list[ApiRoute]:
    """Every route the emulator serves, loaded, in matching order (imports every family)."""
    return [*lazy.family_routes(), *core_routes()]


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Background work only: firing timers as a flowing clock passes them."""
    task = asyncio.create_task(timers.run_loop(app.state.emu))
    watcher = asyncio.create_task(app.state.emu.fixtures.watch())  # fixture hot reload, if --fixtures
    try:
        yield
    finally:
        app.state.emu.fixtures.stop_watching()
        for background in (task, watcher):
            background.cancel()
            with suppress(asyncio.CancelledError):
                await background


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    emu = Emulator(settings)
    routes = [*lazy.routes(), *core_routes()]
    emu.journal.redactor.learn(routes)  # body models name their secret fields (lazy.py lists them)
    app = Starlette(
        debug=False,
        routes=routes,
        # Outermost first; record/replay innermost, so the journal sees replayed and proxied requests.
        middleware=[Middleware(RequestIdMiddleware, emu=emu), Middleware(JournalMiddleware, emu=emu),
                    Middleware(RateLimitHeaders), *recording.middleware(emu)],
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )
    emu.guards.insert(0, emu.rate_limiter.guard)  # first: a refused request does no other work
    emu.timers += lazy.timers()
    app.state.emu = emu
    emu.fixtures.install(app, lambda: create_app(settings.with_(fixtures=None, db=":memory:")))  # loads, seeds
    emu.guards.append(faults.guard)
    return app
