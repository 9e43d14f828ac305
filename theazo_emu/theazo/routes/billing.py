"""Billing usage: the reference's /v1/billing/usage, /daily, /users and /models.

Every figure is a ledger aggregate over the window usage.window() reads (default: the
current UTC month until now; 30 days ago for /daily), in integer cents. A model's or a
user's `cost` is every charge attributed to it (compute and tokens), so the users, the
models, the days and the total always add up to the same amount; `costByKind` splits it.
Charges without a user or model (storage booked at tenant level) appear under `null`.
`sessions` and `agents` count those with a charge in the window.
"""

from __future__ import annotations

from theazo_emu.core.http import PAGE, Ctx, Cursor, PageParams, api_route
from theazo_emu.theazo.domain import ledger, pricing
from theazo_emu.theazo.domain.ledger import Totals
from theazo_emu.theazo.routes.usage import THIRTY_DAYS_AGO, WINDOW, period_body, window
from theazo_emu.theazo.surface import page_body

MAX_LIMIT = 1000
_RANK = Cursor("rank", numeric=True)  # a ranked list pages by position


def _by_kind(totals: Totals) -> dict:
    return {"compute": pricing.cost(totals.compute_cents), "model": pricing.cost(totals.model_cents),
            "storage": pricing.cost(totals.storage_cents)}


def _by_cost(key: str | None, totals: Totals) -> tuple:
    """Costliest first; ties by name, the unattributed group last."""
    return -totals.total_cents, key is None, key or ""


async def billing_usage(ctx: Ctx) -> dict:
    """Totals for the billing period: cost, compute minutes, model calls, sessions, agents."""
    since, until = window(ctx)
    totals = ledger.totals(ctx.store, since, until)
    return {
        "period": period_body(since, until), "totalCost": pricing.cost(totals.total_cents),
        "computeMinutes": totals.compute_minutes, "modelCalls": totals.model_calls,
        "sessions": totals.sessions, "agents": totals.agents,
        "inputTokens": totals.input_tokens, "outputTokens": totals.output_tokens, "storageGb": totals.storage_gb,
        "costByKind": _by_kind(totals),
    }


async def billing_daily(ctx: Ctx) -> dict:
    """One entry per UTC day in the range, days without charges included."""
    since, until = window(ctx, THIRTY_DAYS_AGO, daily=True)
    days = ledger.daily(ctx.store, since, until)
    return {"data": [{"date": day, "cost": pricing.cost(t.total_cents)} for day, t in days],
            "period": period_body(since, until)}


async def billing_users(ctx: Ctx) -> dict:
    """Cost per userId across all their sessions, costliest first (`limit`, default 50; `cursor`)."""
    since, until = window(ctx)
    params = PageParams.from_query(ctx, _RANK, default=50, maximum=MAX_LIMIT)
    groups = sorted(ledger.grouped(ctx.store, "user", since, until), key=lambda g: _by_cost(*g))
    start = 0 if params.after is None else int(params.after) + 1
    ranked = list(enumerate(groups))[start:start + params.limit + 1]
    page = params.cut(ranked, key=lambda item: item[0])
    return page_body(page, lambda item: _user_line(*item[1])) | {"period": period_body(since, until)}


def _user_line(user: str | None, t: Totals) -> dict:
    return {"userId": user, "cost": pricing.cost(t.total_cents), "sessions": t.sessions, "agents": t.agents,
            "computeMinutes": t.compute_minutes, "modelCalls": t.model_calls, "costByKind": _by_kind(t)}


async def billing_models(ctx: Ctx) -> dict:
    """Cost per model id (its runs' compute and tokens), costliest first."""
    since, until = window(ctx)
    groups = sorted(ledger.grouped(ctx.store, "model", since, until), key=lambda g: _by_cost(*g))
    data = [{"model": model, "calls": t.model_calls, "inputTokens": t.input_tokens, "outputTokens": t.output_tokens,
             "cost": pricing.cost(t.total_cents), "computeMinutes": t.compute_minutes, "costByKind": _by_kind(t)}
            for model, t in groups]
    return {"data": data, "period": period_body(since, until)}


routes = [
    api_route("/v1/billing/usage", billing_usage, query=WINDOW),
    api_route("/v1/billing/usage/daily", billing_daily, query=WINDOW),
    api_route("/v1/billing/usage/users", billing_users, query=(*WINDOW, *PAGE)),
    api_route("/v1/billing/usage/models", billing_models, query=WINDOW),
]
