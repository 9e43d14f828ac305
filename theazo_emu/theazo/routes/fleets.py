"""Fleets: one agent over many inputs, `concurrency` at a time (sdk-compat "Fleet instance",
reference "Fleets (additional)").

The routes: dispatch, status, results (paged in item order), the SSE stream and cancel.
The engine (dispatching, harvesting, maxCost, failurePolicy) is domain/fleets.py's.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.errors import Conflict
from theazo_emu.core.http import LAST_EVENT, PAGE, Ctx, Cursor, PageParams, Where, api_route
from theazo_emu.core.sse import stream_response
from theazo_emu.theazo.bodies.fleets import CreateFleet
from theazo_emu.theazo.domain import fleets, orchestration
from theazo_emu.theazo.domain.fleets import (
    ITEM_STATUSES,
    ITEMS,
    KIND,
    TABLE,
    TERMINAL_EVENTS,
    fleet_to_api,
    item_to_api,
)
from theazo_emu.theazo.domain.sessions import require_active
from theazo_emu.theazo.routes.sessions import load as load_session
from theazo_emu.theazo.surface import page_body

_ITEM = Cursor("item", numeric=True)  # results page in item order


def _load(ctx: Ctx) -> dict:
    return ctx.store.get(TABLE, ctx.params["fleet_id"], KIND)


async def create_fleet(ctx: Ctx) -> dict:
    """Dispatch a fleet: the first `concurrency` items start now, the rest as slots free up."""
    body: CreateFleet = ctx.body
    session = load_session(ctx, ctx.params["session_id"])
    require_active(session, ctx.now_ms())
    orchestration.check_agent_ref(ctx.t, "agent", body.agent)
    orchestration.agent_request(ctx.t, body.agent, timeout=body.timeout)  # 422 on a bad inline config
    row = fleets.create(ctx.t, session, body)
    return {**fleet_to_api(ctx.t, row), "status": "dispatching" if row["status"] == "running" else row["status"]}


async def get_fleet(ctx: Ctx) -> dict:
    """The fleet's status with item counts and its cost so far."""
    return fleet_to_api(ctx.t, _load(ctx))


async def fleet_results(ctx: Ctx) -> dict:
    """Item results in item order (filter: status), paged with `cursor`."""
    row = _load(ctx)
    params = PageParams.from_query(ctx, _ITEM)
    where = Where(ctx).add("fleet_id = ? AND item_index > ?", row["id"], -1 if params.after is None else params.after)
    where.choice("status", "status", ITEM_STATUSES)
    items = ctx.store.rows(ITEMS, where.sql, where.params, order="item_index", limit=params.limit + 1)
    return page_body(params.cut(items, key=lambda item: item["item_index"]), item_to_api)


async def stream_fleet(ctx: Ctx) -> Any:
    """SSE of the fleet's items starting and finishing; closed after fleet:complete."""
    row = _load(ctx)
    last = ctx.request.headers.get("last-event-id") or ctx.query.get("lastEventId")
    follower = orchestration.EventFollower(ctx.t, row["id"], TERMINAL_EVENTS, last)
    return stream_response(ctx.emu, follower.poll)


async def cancel_fleet(ctx: Ctx) -> dict:
    """Cancel a fleet: pending items are dropped, running ones terminated."""
    row = _load(ctx)
    if row["completed_at"] or row["status"] in ("completed", "cancelled"):
        raise Conflict(f"Fleet {row['id']} is {row['status']} and cannot be cancelled.", {"status": row["status"]})
    fleets.cancel(ctx.t, row)
    return fleet_to_api(ctx.t, row)


routes = [
    api_route("/v1/sessions/{session_id}/fleets", create_fleet, "POST", body=CreateFleet, status=201),
    api_route("/v1/fleets/{fleet_id}", get_fleet),
    api_route("/v1/fleets/{fleet_id}/results", fleet_results, query=("status", *PAGE)),
    api_route("/v1/fleets/{fleet_id}/stream", stream_fleet, query=LAST_EVENT),
    api_route("/v1/fleets/{fleet_id}/cancel", cancel_fleet, "POST"),
]
