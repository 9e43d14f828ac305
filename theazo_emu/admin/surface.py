"""The emulator's own admin surface (`/_emu`): no key (it binds loopback and serves the test
suite that started it), Theazo's envelope, no guards: admin calls are never limited or faulted.
Health (the probe of a cold start) and its OpenAPI document are its routes served from the start."""

from __future__ import annotations

from theazo_emu import registry
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.core.openapi import openapi_document
from theazo_emu.core.surface import Surface
from theazo_emu.core.version import __version__
from theazo_emu.theazo.surface import authenticate, render_error


async def health(ctx: Ctx) -> dict:
    """Liveness, version and the clock."""
    return {"status": "ok", "version": __version__, "clock": ctx.emu.clock.describe(),
            "pace": ctx.emu.settings.pace, "dialect": ctx.emu.settings.dialect}


ADMIN = Surface(
    name="admin", prefix="/_emu", title="theazo-emu admin API", families=registry.ADMIN,
    authenticate=authenticate, render_error=render_error,
    openapi="/_emu/openapi.json",
    core=lambda: [api_route("/_emu/health", health, public=True),
                  api_route("/_emu/openapi.json", openapi_document, public=True)],
)
