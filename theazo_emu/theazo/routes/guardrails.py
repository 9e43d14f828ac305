"""Guardrails: the tenant's configuration and the violations it recorded (sdk-compat
"theazo.guardrails").

GET answers the configuration with its defaults filled in; PUT replaces it (and answers
it); the violations list is newest first, limited to those whose instant has come (a
run's output-side violation happens where its timeline is cut), all of them unless
`period` (`today`, `week`, `month`, `last_7_days`, `last_30_days`) or `from`/`until` narrow
them (read as for usage), filtered by `type`, `agentId`, `sessionId`. The checks and where they apply are domain/guardrails.py's.
"""

from __future__ import annotations

from theazo_emu.core.http import PAGE, Ctx, PageParams, Where, api_route
from theazo_emu.theazo.bodies.guardrails import GuardrailSettings
from theazo_emu.theazo.domain import guardrails
from theazo_emu.theazo.domain.guardrails import TYPES, VIOLATIONS, violation_to_api
from theazo_emu.theazo.routes.usage import window
from theazo_emu.theazo.surface import list_answer, page_body


async def get_guardrails(ctx: Ctx) -> dict:
    """The guardrail configuration (defaults when never set)."""
    return guardrails.config(ctx.t)


async def put_guardrails(ctx: Ctx) -> dict:
    """Replace the guardrail configuration; fields left out take their defaults."""
    body: GuardrailSettings = ctx.body
    return guardrails.configure(ctx.t, body.settings())


async def list_violations(ctx: Ctx) -> object:
    """Violations, newest first (period or from/until, type, agentId, sessionId; limit, cursor)."""
    narrowed = any(ctx.query.get(name) for name in ("period", "from", "until"))
    since, until = window(ctx) if narrowed else (0, ctx.now_ms())
    until = min(until, ctx.now_ms())  # a violation further along a run's timeline has not happened yet
    params = PageParams.from_query(ctx, "viol", default=50)
    where = (Where(ctx).add("at_ms >= ? AND at_ms <= ?", since, until).choice("type", "type", TYPES)
             .eq("agent_id", "agentId").eq("session_id", "sessionId"))
    rows = ctx.store.page(VIOLATIONS, where.sql, where.params, params.limit, params.after)
    return list_answer(ctx, page_body(params.cut(rows), violation_to_api))


routes = [
    api_route("/v1/guardrails", get_guardrails),
    api_route("/v1/guardrails", put_guardrails, "PUT", body=GuardrailSettings),
    api_route("/v1/guardrails/violations", list_violations,
              query=("period", "from", "until", "type", "agentId", "sessionId", *PAGE)),
]
