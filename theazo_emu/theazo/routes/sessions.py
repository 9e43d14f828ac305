"""Sessions: per-user isolation, get-or-create by user, lifecycle, usage and limits.

Reference section "Sessions", plus the SDK's GET /v1/sessions/:id, pause/resume/
terminate, /usage and /limits (sdk-compat.md §3). The table's writes and the status rules
are domain/sessions.py's; this module checks requests and shapes answers.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Conflict, invalid
from theazo_emu.core.http import PAGE, Ctx, Where, api_route, query_time, respond
from theazo_emu.theazo.bodies import CreateSession, SessionLimits, SessionOptions, check_user_id
from theazo_emu.theazo.domain import ledger, limits, pricing, sessions
from theazo_emu.theazo.domain.sessions import STATUSES, TABLE, require_active, session_status, session_to_api
from theazo_emu.theazo.surface import list_page

# A session's status is derived from the clock; lists filter on the same rule in SQL.
_STATUS_SQL = "(CASE WHEN status = 'active' AND auto_pause_at_ms <= ? THEN 'paused' ELSE status END)"


def load(ctx: Ctx, session_id: str) -> dict:
    return ctx.store.get(TABLE, session_id, "session")


def path_user_id(ctx: Ctx) -> str:
    """The `{user_id}` path value, checked like a body's userId (422 otherwise)."""
    try:
        return check_user_id(ctx.params["user_id"])
    except ValueError as exc:
        raise invalid("userId", str(exc)) from None


async def create_session(ctx: Ctx) -> dict:
    """Create a session."""
    return session_to_api(sessions.create(ctx.t, ctx.body.userId, **ctx.body.options()), ctx.now_ms())


async def session_for_user(ctx: Ctx) -> Any:
    """Get or create the session of a user (options apply only on creation)."""
    row, created = sessions.user_session(ctx.t, path_user_id(ctx), **ctx.body.options())
    return respond(session_to_api(row, ctx.now_ms()), 201 if created else 200)


async def list_sessions(ctx: Ctx) -> dict:
    """List sessions, newest first (filters: status, createdAfter, userId)."""
    now = ctx.now_ms()
    where = Where(ctx).choice("status", "status", STATUSES, _STATUS_SQL, now).eq("user_id", "userId")
    after = query_time(ctx, "createdAfter")
    if after is not None:
        where.add("created_at > ?", iso(after))
    return list_page(ctx, TABLE, where, "ses", lambda r: session_to_api(r, now))


async def get_session(ctx: Ctx) -> dict:
    """Get one session."""
    return session_to_api(load(ctx, ctx.params["session_id"]), ctx.now_ms())


async def pause_session(ctx: Ctx) -> dict:
    """Pause a session: no new agents or runs until it is resumed."""
    session = load(ctx, ctx.params["session_id"])
    require_active(session, ctx.now_ms())
    sessions.pause(ctx.t, session)
    return get_session_body(ctx, session["id"])


async def resume_session(ctx: Ctx) -> dict:
    """Resume a paused session (402 while its compute limit is still reached)."""
    session = load(ctx, ctx.params["session_id"])
    status = session_status(session, ctx.now_ms())
    if status != "paused":
        raise Conflict(f"Session {session['id']} is {status}, not paused.", {"status": status})
    limits.check(ctx.t, session, ("maxComputeMinutes",))
    sessions.resume(ctx.t, session)
    return get_session_body(ctx, session["id"])


async def terminate_session(ctx: Ctx) -> dict:
    """Terminate a session and every agent in it (irreversible)."""
    session = load(ctx, ctx.params["session_id"])
    if session["status"] == "terminated":
        raise Conflict(f"Session {session['id']} is already terminated.", {"status": "terminated"})
    sessions.terminate(ctx.t, session)
    return get_session_body(ctx, session["id"])


def get_session_body(ctx: Ctx, session_id: str) -> dict:
    return session_to_api(load(ctx, session_id), ctx.now_ms())


async def session_usage(ctx: Ctx) -> dict:
    """Usage of one session, from the ledger."""
    session = load(ctx, ctx.params["session_id"])
    totals = ledger.totals(ctx.store, session_id=session["id"])
    created = ctx.store.count("agents", "session_id = ?", [session["id"]])
    return {
        "sessionId": session["id"], "cost": pricing.cost(totals.total_cents),
        "computeMinutes": totals.compute_minutes, "activeAgents": limits.active_agents(ctx.t, session),
        "totalAgentsCreated": created,
        "compute": {"minutes": totals.compute_minutes, "cost": pricing.cost(totals.compute_cents)},
        "models": {"inputTokens": totals.input_tokens, "outputTokens": totals.output_tokens,
                   "calls": totals.model_calls, "cost": pricing.cost(totals.model_cents)},
        "storage": {"gb": totals.storage_gb, "cost": pricing.cost(totals.storage_cents)},
    }


async def get_limits(ctx: Ctx) -> dict:
    """The session's limits with what is used and what remains."""
    return limits.view(ctx.t, load(ctx, ctx.params["session_id"]))


async def update_limits(ctx: Ctx) -> dict:
    """Change some limits; a limit set to null is removed."""
    session = load(ctx, ctx.params["session_id"])
    merged = dict(session["limits"] or {})
    for name, value in ctx.body.model_dump(exclude_unset=True).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value
    sessions.set_limits(ctx.t, session, merged)
    return limits.view(ctx.t, load(ctx, session["id"]))


routes = [
    api_route("/v1/sessions", create_session, "POST", body=CreateSession, status=201),
    api_route("/v1/sessions", list_sessions, query=("status", "userId", "createdAfter", *PAGE)),
    api_route("/v1/sessions/by-user/{user_id:path}", session_for_user, "POST", body=SessionOptions, also=(201,)),
    api_route("/v1/sessions/{session_id}", get_session),
    api_route("/v1/sessions/{session_id}/pause", pause_session, "POST"),
    api_route("/v1/sessions/{session_id}/resume", resume_session, "POST"),
    api_route("/v1/sessions/{session_id}/terminate", terminate_session, "POST"),
    api_route("/v1/sessions/{session_id}/usage", session_usage),
    api_route("/v1/sessions/{session_id}/limits", get_limits),
    api_route("/v1/sessions/{session_id}/limits", update_limits, "PATCH", body=SessionLimits),
]
