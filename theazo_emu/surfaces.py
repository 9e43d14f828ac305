"""The surfaces the emulator serves, one module each; `SURFACES` is their mounting order."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Scope

from theazo_emu.admin.surface import ADMIN
from theazo_emu.core.surface import Surface
from theazo_emu.theazo.surface import THEAZO
from theazo_emu.theo.surface import THEO

SURFACES: tuple[Surface, ...] = (THEAZO, ADMIN, THEO)  # the busiest first: mounts match in order


def surface_for(path: str) -> Surface:
    """The surface a path belongs to; paths under no prefix answer in Theazo's envelope."""
    for surface in SURFACES:
        if path == surface.prefix or path.startswith(surface.prefix + "/"):
            return surface
    return THEAZO


def error_response(scope: Scope, status: int, code: str, message: str, details: object = None) -> Response:
    """An error in the envelope of the surface the request is on, for middleware that answers
    before any route does (replay misses, an unreachable upstream)."""
    request_id = scope.get("state", {}).get("request_id", "")
    return surface_for(scope["path"]).render_error(request_id, status, code, message, details, {})
