"""Discovery: GET /api/v1/health (public) and GET /api/v1/models (theo-api.md §1.1).

/health takes no key (a bad one is ignored, so the SDK's verify() can tell a bad key from
an unreachable server) and is cached 30 s (`X-Cache`); `PUT /_emu/theo/health` makes it
degraded or down (503, `Retry-After: 30`). /models lists the fourteen branded engines in
Theo's shape (`models`), and the same as an OpenAI model list (`object`, `data`) so that
an OpenAI client's `models.list()` sees them too.
"""

from __future__ import annotations

import calendar
from datetime import date

from starlette.responses import JSONResponse

from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theo.domain import health as health_state
from theazo_emu.theo.domain.engines import ENGINES, VERSION

_CREATED = calendar.timegm(date.fromisoformat(VERSION).timetuple())  # when the engines were released, as a date


async def health(ctx: Ctx) -> JSONResponse:
    """Health of the API and its engine subsystems (no key needed)."""
    body, hit = health_state.state(ctx.emu.extras).answer(ctx.emu.clock)
    headers = {"X-Cache": "HIT" if hit else "MISS", "Cache-Control": "public, max-age=30"}
    if body["status"] == "down":
        return JSONResponse(body, status_code=503, headers={**headers, "Retry-After": "30"})
    return JSONResponse(body, headers=headers)


async def list_models(ctx: Ctx) -> dict:
    """The branded engines and the mode each serves."""
    listed = [engine for engine in ENGINES if engine.listed]
    return {
        "object": "list",
        "models": [{"mode": e.mode, "model_id": e.id, "label": e.label, "engine": e.engine,
                    "description": e.description} for e in listed],
        "data": [{"id": e.id, "object": "model", "created": _CREATED, "owned_by": "theo", "mode": e.mode}
                 for e in listed],
    }


routes = [
    api_route("/api/v1/health", health, public=True),
    api_route("/api/v1/models", list_models),
]
