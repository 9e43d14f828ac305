"""Usage views: the reference's summary and the SDK's /v1/usage routes, all ledger aggregates.

Reference "GET /v1/usage/summary" (its fields and the SDK's in one body), plus the SDK's
/v1/usage/users/:userId, /daily, /by-provider and /export (sdk-compat.md §3). `window()`
is the one reading of `from`/`until`/`period` for these routes and billing.py: bounds
are inclusive, a plain-date `until` means the end of that day, the default is the
billing period (the current UTC month) until now. Export always answers JSON (the SDK
JSON-parses it): `format=csv` carries the CSV text in `data`, unless the client sends
`Accept: text/csv`, which gets the CSV itself.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any, Callable

from starlette.responses import Response

from theazo_emu.core.clock import iso, parse_iso, period_start_ms
from theazo_emu.core.errors import invalid
from theazo_emu.core.http import Ctx, api_route, query_choice, query_time
from theazo_emu.theazo.domain import ledger, pricing
from theazo_emu.theazo.routes.sessions import path_user_id
from theazo_emu.theazo.surface import is_sdk

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
MAX_DAYS = 1000
EARLIEST, LATEST = parse_iso("1970-01-01"), parse_iso("9999-12-31T23:59:59.999Z")
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
# Where a period starts, given now: the SDK's names, and the reference's defaults.
STARTS: dict[str, Callable[[int], int]] = {
    "today": lambda now: period_start_ms("day", now),
    "week": lambda now: now - WEEK_MS,
    "month": lambda now: period_start_ms("month", now),
    "last_7_days": lambda now: period_start_ms("day", now) - 6 * DAY_MS,
    "last_30_days": lambda now: period_start_ms("day", now) - 29 * DAY_MS,
}
PERIODS = tuple(STARTS)
THIRTY_DAYS_AGO = "30_days_ago"  # the reference's default for daily series


def _bound(ctx: Ctx, name: str) -> int | None:
    ms = query_time(ctx, name)
    if ms is None:
        return None
    if not EARLIEST <= ms <= LATEST:
        raise invalid(name, "must be between 1970-01-01 and 9999-12-31")
    if name == "until" and _DATE_ONLY.match(ctx.query[name]):
        ms += DAY_MS - 1  # a plain date includes that whole day
    return ms


WINDOW = ("from", "until", "period")  # the query window() reads


def window(ctx: Ctx, default: str = "month", *, daily: bool = False) -> tuple[int, int]:
    """(from, until) in ms from `from`/`until` or `period`; 422 when reversed, or when a
    daily series would pass MAX_DAYS entries."""
    now = ctx.now_ms()
    period = query_choice(ctx, "period", PERIODS)
    since, until = _bound(ctx, "from"), _bound(ctx, "until")
    if since is None:
        start = period or default
        since = now - 30 * DAY_MS if start == THIRTY_DAYS_AGO else STARTS[start](now)
    until = until if until is not None else now
    if since > until:
        raise invalid("from", "must not be after 'until'")
    if daily and (until - since) // DAY_MS >= MAX_DAYS:
        raise invalid("from", f"a daily series covers at most {MAX_DAYS} days; narrow 'from'..'until'")
    return since, until


def period_body(since: int, until: int) -> dict[str, str]:
    return {"from": iso(since), "until": iso(until)}


async def usage_summary(ctx: Ctx) -> dict:
    """Aggregated usage for a period: compute, model tokens, storage, total."""
    since, until = window(ctx)
    now = ctx.now_ms()
    totals = ledger.totals(ctx.store, since, until)
    top = ledger.top_user(ctx.store, since, until)
    active = ctx.store.count("sessions", "status = 'active' AND (auto_pause_at_ms IS NULL OR auto_pause_at_ms > ?)",
                             [now])
    running = ctx.store.count("agents", "status = 'running' AND busy_until_ms > ?", [now])
    total = pricing.cost(totals.total_cents)
    return {
        "period": period_body(since, until),
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


async def user_usage(ctx: Ctx) -> dict:
    """One user's usage for a period (SDK `period` today|week|month), with a daily breakdown."""
    user_id = path_user_id(ctx)
    since, until = window(ctx, daily=True)
    totals = ledger.totals(ctx.store, since, until, user_id=user_id)
    days = ledger.daily(ctx.store, since, until, user_id=user_id)
    return {
        "userId": user_id, "period": period_body(since, until),
        "compute": {"minutes": totals.compute_minutes, "cost": pricing.cost(totals.compute_cents)},
        "models": {"calls": totals.model_calls,
                   "tokens": {"input": totals.input_tokens, "output": totals.output_tokens},
                   "inputTokens": totals.input_tokens, "outputTokens": totals.output_tokens,
                   "cost": pricing.cost(totals.model_cents)},
        # The ledger books storage in GB per billing period; gbHours carries the same quantity.
        "storage": {"gbHours": totals.storage_gb, "gb": totals.storage_gb,
                    "cost": pricing.cost(totals.storage_cents)},
        "total": pricing.cost(totals.total_cents), "sessions": totals.sessions, "agents": totals.agents,
        "breakdown": [{"date": day, "total": pricing.cost(t.total_cents)} for day, t in days],
    }


async def usage_daily(ctx: Ctx) -> Any:
    """Daily cost series (SDK `period` last_7_days|last_30_days, default the last 30 days)."""
    since, until = window(ctx, "last_30_days", daily=True)
    data = [{"date": day, "cost": pricing.cost(t.total_cents), "computeMinutes": t.compute_minutes,
             "modelCalls": t.model_calls} for day, t in ledger.daily(ctx.store, since, until)]
    return data if is_sdk(ctx) else {"data": data, "period": period_body(since, until)}


async def usage_by_provider(ctx: Ctx) -> dict:
    """Cost per compute provider: `{provider: Cost}` (charges with no provider under "none")."""
    since, until = window(ctx)
    return {key or "none": pricing.cost(t.total_cents)
            for key, t in ledger.grouped(ctx.store, "provider", since, until)}


_CSV_COLUMNS = ("at", "kind", "userId", "sessionId", "agentId", "taskId", "model", "provider", "quantity",
                "inputTokens", "outputTokens", "calls", "amount", "currency")


def _line(row: dict) -> dict[str, Any]:
    return {"at": row["at"], "kind": row["kind"], "userId": row["user_id"], "sessionId": row["session_id"],
            "agentId": row["agent_id"], "taskId": row["run_id"], "model": row["model"], "provider": row["provider"],
            "quantity": row["quantity"], "inputTokens": row["input_tokens"], "outputTokens": row["output_tokens"],
            "calls": row["calls"], "cost": pricing.cost(row["amount"])}


def _csv(lines: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for line in lines:
        writer.writerow([line["cost"]["amount"] if c == "amount" else line["cost"]["currency"] if c == "currency"
                         else "" if line[c] is None else line[c] for c in _CSV_COLUMNS])
    return out.getvalue()


def _stripe(lines: list[dict]) -> list[dict]:
    """One Stripe meter event per user and day, valued in cents."""
    cents: dict[tuple[str, str], int] = {}
    for line in lines:
        key = (line["at"][:10], line["userId"] or "")
        cents[key] = cents.get(key, 0) + line["cost"]["amount"]
    return [{"object": "billing.meter_event", "event_name": "theazo_usage_cents",
             "identifier": f"{user or 'none'}:{day}", "timestamp": parse_iso(day) // 1000,
             "payload": {"stripe_customer_id": user or None, "value": str(value)}}
            for (day, user), value in sorted(cents.items())]


async def usage_export(ctx: Ctx) -> Any:
    """Every ledger line of a period as JSON (`format` json|csv|stripe; see the module docstring)."""
    since, until = window(ctx)
    fmt = query_choice(ctx, "format", ("json", "csv", "stripe")) or "json"
    lines = [_line(row) for row in ledger.entries(ctx.store, since, until)]
    if fmt == "csv" and "text/csv" in ctx.request.headers.get("accept", ""):
        return Response(_csv(lines), media_type="text/csv")
    data: Any = lines if fmt == "json" else _csv(lines) if fmt == "csv" else _stripe(lines)
    return {"period": period_body(since, until), "format": fmt, "currency": pricing.CURRENCY,
            "total": pricing.cost(sum(line["cost"]["amount"] for line in lines)), "count": len(lines),
            "contentType": "text/csv" if fmt == "csv" else "application/json", "data": data}


routes = [
    api_route("/v1/usage/summary", usage_summary, query=WINDOW),
    api_route("/v1/usage/daily", usage_daily, query=WINDOW),
    api_route("/v1/usage/by-provider", usage_by_provider, query=WINDOW),
    api_route("/v1/usage/export", usage_export, query=(*WINDOW, "format")),
    api_route("/v1/usage/users/{user_id:path}", user_usage, query=WINDOW),
]
