"""Observability: the SDK's `theazo.logs`, `theazo.metrics` and `theazo.traces`.

Everything here is derived from runs, their events and the ledger (domain/observability.py
says how), so it agrees with usage and billing. Lists are bare arrays for SDK requests and
`{data}` otherwise. `GET /v1/logs` is newest first; `GET /v1/logs/stream` is an SSE tail
(event `log`, one LogEntry per `data:` line, `id:` the log id for `Last-Event-ID`) that
stays open with heartbeats until the client leaves. Traces page newest first with
`limit` and `cursor` (the `nextCursor` of the envelope, or the last traceId seen).
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core import durations
from theazo_emu.core.clock import iso, parse_iso
from theazo_emu.core.errors import NotFound, invalid
from theazo_emu.core.http import (
    LAST_EVENT,
    PAGE,
    Ctx,
    Cursor,
    PageParams,
    api_route,
    query_choice,
    query_int,
    query_time,
)
from theazo_emu.core.sse import stream_response
from theazo_emu.theazo.domain import ledger, observability, pricing, runs
from theazo_emu.theazo.domain.limits import period_start_ms
from theazo_emu.theazo.domain.observability import LEVELS, LogFilter
from theazo_emu.theazo.surface import list_answer, one_page, page_body

DAY_MS = 86_400_000
YEAR_MS = 366 * DAY_MS
EARLIEST, LATEST = 0, parse_iso("9999-12-31T23:59:59.999Z")
MAX_POINTS = 10_000  # a year of hourly points
_TRACES = Cursor("task")


def _filter(ctx: Ctx, search: bool = True) -> LogFilter:
    text = ctx.query.get("search") if search else None
    if text is not None and len(text) > 200:
        raise invalid("search", "must be at most 200 characters")
    return LogFilter(ctx.query.get("sessionId") or None, ctx.query.get("agentId") or None,
                     query_choice(ctx, "level", LEVELS), text or None)


async def list_logs(ctx: Ctx) -> Any:
    """Log lines of the tenant's runs, newest first (sessionId, agentId, level and up, search, since, until, limit)."""
    flt = _filter(ctx)
    since, until = query_time(ctx, "since"), query_time(ctx, "until")
    now = ctx.now_ms()
    until = now if until is None else min(until, now)
    if since is not None and since > until:
        raise invalid("since", "must not be after 'until'")
    limit = query_int(ctx, "limit", 100, 1, 1000)
    return list_answer(ctx, one_page(observability.query_logs(ctx.t, flt, since, until, limit)))


async def stream_logs(ctx: Ctx) -> Any:
    """SSE: log lines as the clock releases them, until the client disconnects."""
    last = ctx.request.headers.get("last-event-id") or ctx.query.get("lastEventId")
    tail = observability.LogTail(ctx.t, _filter(ctx, search=False), last)
    return stream_response(ctx.emu, tail.poll)


async def metrics_summary(ctx: Ctx) -> dict:
    """Live agents and sessions, and today's cost, new agents and run error rate (UTC day)."""
    now = ctx.now_ms()
    today = period_start_ms("day", now)
    assert today is not None
    start = iso(today)
    ended = [runs.run_status(run, now) for run in ctx.store.rows("runs", "created_at >= ?", [start], order=None,
                                                                columns="status, outcome, end_ms")]
    finished = [s for s in ended if s not in ("running", "paused")]
    failed = sum(s in ("failed", "terminated") for s in finished)
    return {
        "activeAgents": ctx.store.count("agents", "status != 'terminated'"),
        "activeSessions": ctx.store.count("sessions", "status = 'active' AND (auto_pause_at_ms IS NULL OR "
                                                      "auto_pause_at_ms > ?)", [now]),
        "costToday": pricing.cost(ledger.totals(ctx.store, today, now).total_cents),
        "agentsCreatedToday": ctx.store.count("agents", "created_at >= ?", [start]),
        "runsToday": len(ended),
        "errorRate": round(failed / len(finished), 4) if finished else 0,
    }


async def query_metrics(ctx: Ctx) -> Any:
    """p50/p95/p99 of a run metric per interval (metric, since, until, interval)."""
    name = ctx.query.get("metric")
    if not name:
        raise invalid("metric", f"is required: one of {', '.join(observability.METRICS)}")
    metric = observability.METRIC_ALIASES.get(name, name)
    if metric not in observability.METRICS:
        raise invalid("metric", f"unknown metric '{name[:60]}'; known: {', '.join(observability.METRICS)}")
    now = ctx.now_ms()
    until = query_time(ctx, "until") or now
    since = query_time(ctx, "since")
    since = until - DAY_MS if since is None else since
    for name, value in (("since", since), ("until", until)):
        if not EARLIEST <= value <= LATEST:
            raise invalid(name, "must be between 1970-01-01 and 9999-12-31")
    try:
        interval = int(durations.to_ms(ctx.query.get("interval") or "1h"))
    except (ValueError, OverflowError) as exc:
        raise invalid("interval", str(exc)) from None
    if not 1000 <= interval <= YEAR_MS:
        raise invalid("interval", "must be between 1 second and 366 days")
    if since >= until:
        raise invalid("since", "must be before 'until'")
    if (until - since) / interval > MAX_POINTS:
        raise invalid("interval", f"gives more than {MAX_POINTS} points between 'since' and 'until'; widen it")
    points = observability.series(ctx.t, metric, since, until, interval)
    return list_answer(ctx, one_page(points))


async def list_traces(ctx: Ctx) -> Any:
    """One trace per run, newest first (agentId, sessionId, limit, cursor)."""
    where, params = "1", []
    for column, name in (("agent_id", "agentId"), ("session_id", "sessionId")):
        if ctx.query.get(name):
            where, params = f"{where} AND {column} = ?", [*params, ctx.query[name]]
    raw = ctx.query.get("cursor")
    run_id = observability.run_of_trace(raw) if raw else None
    if run_id is not None:  # the SDK's bare array has no cursor to hand back: the last traceId stands for it
        where, params = f"{where} AND id < ?", [*params, run_id]
    paging = PageParams.from_query(ctx, _TRACES, 25, 100) if run_id is None else PageParams(
        query_int(ctx, "limit", 25, 1, 100), None, _TRACES)
    page = paging.cut(ctx.store.page("runs", where, params, paging.limit, paging.after))
    agents = _agents(ctx, {run["agent_id"] for run in page.items})
    now = ctx.now_ms()
    return list_answer(ctx, page_body(page, lambda run: observability.trace_summary(run, agents.get(run["agent_id"]),
                                                                                     now)))


def _agents(ctx: Ctx, ids: set[str]) -> dict[str, dict]:
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    return {row["id"]: row for row in ctx.store.rows("agents", f"id IN ({marks})", sorted(ids),
                                                     columns="id, provider, model")}


async def get_trace(ctx: Ctx) -> dict:
    """One trace with its spans."""
    ident = ctx.params["trace_id"]
    run_id = observability.run_of_trace(ident)
    run = ctx.store.find("runs", "id = ?", [run_id]) if run_id else None
    if run is None:
        raise NotFound("trace", ident)
    agent = _agents(ctx, {run["agent_id"]}).get(run["agent_id"])
    return observability.trace_detail(ctx.t, run, agent)


routes = [
    api_route("/v1/logs", list_logs,
              query=("sessionId", "agentId", "level", "search", "since", "until", "limit")),
    api_route("/v1/logs/stream", stream_logs, query=("sessionId", "agentId", "level", *LAST_EVENT)),
    api_route("/v1/metrics/summary", metrics_summary),
    api_route("/v1/metrics", query_metrics, query=("metric", "since", "until", "interval")),
    api_route("/v1/traces", list_traces, query=("agentId", "sessionId", *PAGE)),
    api_route("/v1/traces/{trace_id}", get_trace),
]
