"""The surfaces the emulator serves, one module each; `SURFACES` is their mounting order."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Scope

from theazo_emu.admin.surface import ADMIN
from theazo_emu.core.auth import THEO_PREFIX
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


# Theo's OpenAI base URL (`https://api.hitheo.ai/v1`) on the emulator's host: Theazo serves
# neither path, so a Theo key there reaches Theo's routes (and Theo's envelope).
OPENAI_PATHS = frozenset({"/v1/chat/completions", "/v1/models"})


def edge_path(path: str, key: str | None) -> str:
    """The path a request is served on: Theo's for its OpenAI paths under /v1 with a Theo key."""
    if key and key.startswith(THEO_PREFIX) and path in OPENAI_PATHS:
        return "/api" + path
    return path


def error_response(scope: Scope, status: int, code: str, message: str, details: object = None) -> Response:
    """An error in the envelope of the surface the request is on, for middleware that answers
    before any route does (replay misses, an unreachable upstream)."""
    request_id = scope.get("state", {}).get("request_id", "")
    return surface_for(scope["path"]).render_error(request_id, status, code, message, details, {})
