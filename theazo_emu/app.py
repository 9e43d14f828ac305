"""create_app(): one Emulator, its surfaces mounted on their prefixes, the app-wide middleware.

Each surface (surfaces.py: /_emu admin, /api/v1 Theo, /v1 Theazo) is a Starlette `Mount`
whose router renders that surface's errors (surface.py), with the surface's own middleware
if it has any. App-wide, outermost first: front.py (request id, journal, response headers,
and the catch of last resort), then the record/replay switch (tape.py: free while off, and
record/ is imported only once something records). A path under no prefix answers in
Theazo's envelope. Starlette's debug mode stays off, and its own error layers are left
out: every error is rendered as an envelope, never a traceback. No endpoint logic lives here.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager, suppress
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from theazo_emu.core import lazy, timers
from theazo_emu.core.front import Front
from theazo_emu.core.http import ApiRoute
from theazo_emu.core.surface import Dispatcher, mount
from theazo_emu.record.tape import TapeMiddleware
from theazo_emu.surfaces import SURFACES, THEAZO, edge_path, error_response, surface_for

from .emulator import Emulator
from .settings import Settings


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
            from theazo_emu.core.snapshot import write_export  # only a server asked to export pays for it

            write_export(app.state.emu, app.state.emu.settings.export_on_exit)
        await app.state.emu.tape.aclose()
        app.state.emu.fixtures.stop_watching()
        for background in (task, watcher):
            background.cancel()
            with suppress(asyncio.CancelledError):
                await background


class _App(Starlette):
    """Starlette, less its own error middleware: every error is rendered by the surfaces'
    routers and routes, or by front.py for a failure outside them, so those two layers would
    only cost time on every request."""

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = self.router
        for cls, args, kwargs in reversed(self.user_middleware):
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
        middleware=[Middleware(Front, emu=emu, surface_for=surface_for, edge_path=edge_path),
                    Middleware(TapeMiddleware, emu=emu, error_response=error_response)],
    )
    app.router = Dispatcher(mounts, THEAZO, lifespan, home="/_emu/ui")
    emu.timers += lazy.timers()
    app.state.emu = emu
    emu.fixtures.install(app, lambda: create_app(settings.dry_run()))  # loads, seeds
    emu.tape.start_from_settings()  # after the fixtures: the header names them
    return app
