"""Usage summary: the reference's fields and the SDK's fields in one body.

Reference "GET /v1/usage/summary" (`from`/`until`, default: the billing period, i.e. the
current UTC month, until now) and the SDK's `?period=today|week|month` with
`{totalCost, activeSessions, runningAgents, topUser}`. Every number is a ledger
aggregate, so it agrees with session usage.
"""

from __future__ import annotations

from .. import ledger, pricing
from ..clock import iso
from ..errors import invalid
from ..http import Ctx, api_route, query_choice, query_time
from ..limits import period_start_ms

WEEK_MS = 7 * 86_400_000


def window(ctx: Ctx) -> tuple[int, int]:
    """(from, until) in ms from `from`/`until` or the SDK's `period`; 422 when reversed."""
    now = ctx.now_ms()
    period = query_choice(ctx, "period", ("today", "week", "month"))
    default_from = {"today": period_start_ms("day", now), "week": now - WEEK_MS}.get(period or "", None)
    since = query_time(ctx, "from")
    until = query_time(ctx, "until")
    since = since if since is not None else default_from if default_from is not None else period_start_ms("month", now)
    until = until if until is not None else now
    if since > until:
        raise invalid("from", "must not be after 'until'")
    return since, until


async def usage_summary(ctx: Ctx) -> dict:
    """Aggregated usage for a period: compute, model tokens, storage, total."""
    since, until = window(ctx)
    store, now = ctx.emu.store, ctx.now_ms()
    totals = ledger.totals(store, ctx.tenant, since, until)
    top = ledger.top_user(store, ctx.tenant, since, until)
    active = store.scalar("SELECT COUNT(*) FROM sessions WHERE tenant = ? AND status = 'active' "
                          "AND (auto_pause_at_ms IS NULL OR auto_pause_at_ms > ?)", [ctx.tenant, now])
    running = store.scalar("SELECT COUNT(*) FROM agents WHERE tenant = ? AND status = 'running' AND busy_until_ms > ?",
                           [ctx.tenant, now])
    total = pricing.cost(totals.total_cents)
    return {
        "period": {"from": iso(since), "until": iso(until)},
        "compute": {"minutes": totals.compute_minutes, "cost": pricing.cost(totals.compute_cents)},
        "models": {"inputTokens": totals.input_tokens, "outputTokens": totals.output_tokens,
                   "calls": totals.model_calls, "cost": pricing.cost(totals.model_cents)},
        "storage": {"gb": totals.storage_gb, "cost": pricing.cost(totals.storage_cents)},
        "total": total,
        "totalCost": total,
        "activeSessions": active,
        "runningAgents": running,
        "topUser": {"userId": top["user_id"], "cost": pricing.cost(top["cents"])} if top else None,
    }


routes = [api_route("/v1/usage/summary", usage_summary)]
