"""Sessions: per-user isolation, get-or-create by user, lifecycle, usage and limits.

Reference section "Sessions", plus the SDK's GET /v1/sessions/:id, pause/resume/
terminate, /usage and /limits (sdk-compat.md §3). Status is derived: an active session
whose compute limit was reached reads as paused from the instant it was reached
(`auto_pause_at_ms`). Terminating a session terminates its agents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..clock import iso
from ..domain import ledger, limits, pricing, runs
from ..errors import Conflict, invalid
from ..http import Ctx, PageParams, api_route, page_body, query_choice, query_time, respond
from ..models import CreateSession, SessionLimits, SessionOptions, check_user_id

if TYPE_CHECKING:
    from ..emulator import Emulator

STATUSES = ("active", "paused", "terminated")


def session_status(row: dict, now_ms: int) -> str:
    auto = row.get("auto_pause_at_ms")
    if row["status"] == "active" and auto is not None and auto <= now_ms:
        return "paused"
    return row["status"]


def session_to_api(row: dict, now_ms: int) -> dict[str, Any]:
    status = session_status(row, now_ms)
    paused_at = row["paused_at"] or (iso(row["auto_pause_at_ms"]) if status == "paused" and row["auto_pause_at_ms"] else None)
    return {
        "id": row["id"], "userId": row["user_id"], "status": status, "environment": row["environment"],
        "metadata": row["metadata"] or {}, "limits": row["limits"] or {}, "createdAt": row["created_at"],
        "updatedAt": row["updated_at"], "pausedAt": paused_at, "terminatedAt": row["terminated_at"],
    }


def load(ctx: Ctx, session_id: str) -> dict:
    return ctx.emu.store.get("sessions", ctx.tenant, session_id, "session")


def require_active(session: dict, now_ms: int) -> None:
    status = session_status(session, now_ms)
    if status != "active":
        raise Conflict(f"Session {session['id']} is {status}.", {"sessionId": session["id"], "status": status})


def _create(emu: "Emulator", tenant: str, user_id: str, options: SessionOptions) -> dict:
    now = emu.clock.now_iso()
    with emu.store.atomic():
        row = emu.store.insert("sessions", {
            "id": emu.new_id("ses", tenant), "tenant": tenant, "user_id": user_id, "status": "active",
            "environment": options.environment or "development", "metadata": options.metadata or {},
            "limits": options.limits.model_dump(exclude_none=True) if options.limits else {},
            "created_at": now, "updated_at": now, "paused_at": None, "terminated_at": None,
            "auto_pause_at_ms": None,
        })
    return row


async def create_session(ctx: Ctx) -> dict:
    """Create a session."""
    return session_to_api(_create(ctx.emu, ctx.tenant, ctx.body.userId, ctx.body), ctx.now_ms())


def user_session(emu: "Emulator", tenant: str, user_id: str,
                 options: SessionOptions | None = None) -> tuple[dict, bool]:
    """The user's live (not terminated) session, created if none: (row, created)."""
    # No await between the lookup and the insert: concurrent calls cannot both create.
    row = emu.store.one("SELECT * FROM sessions WHERE tenant = ? AND user_id = ? AND status != 'terminated' "
                        "ORDER BY id LIMIT 1", [tenant, user_id])
    if row is not None:
        return row, False
    return _create(emu, tenant, user_id, options or SessionOptions()), True


async def session_for_user(ctx: Ctx) -> Any:
    """Get or create the session of a user (options apply only on creation)."""
    try:
        user_id = check_user_id(ctx.params["user_id"])
    except ValueError as exc:
        raise invalid("userId", str(exc)) from None
    row, created = user_session(ctx.emu, ctx.tenant, user_id, ctx.body)
    return respond(session_to_api(row, ctx.now_ms()), 201 if created else 200)


async def list_sessions(ctx: Ctx) -> dict:
    """List sessions, newest first (filters: status, createdAfter, userId)."""
    page = PageParams.from_query(ctx, "ses")
    where, params = "tenant = ?", [ctx.tenant]
    status = query_choice(ctx, "status", STATUSES)
    now = ctx.now_ms()
    if status:
        where += (" AND (CASE WHEN status = 'active' AND auto_pause_at_ms <= ? THEN 'paused' ELSE status END) = ?")
        params += [now, status]
    after = query_time(ctx, "createdAfter")
    if after is not None:
        where += " AND created_at > ?"
        params.append(iso(after))
    if ctx.query.get("userId"):
        where += " AND user_id = ?"
        params.append(ctx.query["userId"])
    rows = ctx.emu.store.page("sessions", where, params, page.limit, page.after)
    return page_body(rows, page, lambda r: session_to_api(r, now))


async def get_session(ctx: Ctx) -> dict:
    """Get one session."""
    return session_to_api(load(ctx, ctx.params["session_id"]), ctx.now_ms())


async def pause_session(ctx: Ctx) -> dict:
    """Pause a session: no new agents or runs until it is resumed."""
    session, now = load(ctx, ctx.params["session_id"]), ctx.now_iso()
    require_active(session, ctx.now_ms())
    ctx.emu.store.update("sessions", session["id"], {"status": "paused", "paused_at": now, "updated_at": now})
    return get_session_body(ctx, session["id"])


async def resume_session(ctx: Ctx) -> dict:
    """Resume a paused session (402 while its compute limit is still reached)."""
    session, now = load(ctx, ctx.params["session_id"]), ctx.now_iso()
    status = session_status(session, ctx.now_ms())
    if status != "paused":
        raise Conflict(f"Session {session['id']} is {status}, not paused.", {"status": status})
    limits.check(ctx.emu, session, ("maxComputeMinutes",))
    ctx.emu.store.update("sessions", session["id"], {"status": "active", "paused_at": None, "auto_pause_at_ms": None,
                                                     "updated_at": now})
    return get_session_body(ctx, session["id"])


async def terminate_session(ctx: Ctx) -> dict:
    """Terminate a session and every agent in it (irreversible)."""
    session, now = load(ctx, ctx.params["session_id"]), ctx.now_iso()
    if session["status"] == "terminated":
        raise Conflict(f"Session {session['id']} is already terminated.", {"status": "terminated"})
    store = ctx.emu.store
    with store.atomic():
        for agent in store.all("SELECT * FROM agents WHERE tenant = ? AND session_id = ? AND status != 'terminated'",
                               [ctx.tenant, session["id"]]):
            runs.terminate(ctx.emu, agent)
        store.update("sessions", session["id"], {"status": "terminated", "terminated_at": now, "updated_at": now})
    return get_session_body(ctx, session["id"])


def get_session_body(ctx: Ctx, session_id: str) -> dict:
    return session_to_api(load(ctx, session_id), ctx.now_ms())


async def session_usage(ctx: Ctx) -> dict:
    """Usage of one session, from the ledger."""
    session = load(ctx, ctx.params["session_id"])
    totals = ledger.totals(ctx.emu.store, ctx.tenant, session_id=session["id"])
    created = ctx.emu.store.scalar("SELECT COUNT(*) FROM agents WHERE tenant = ? AND session_id = ?",
                                   [ctx.tenant, session["id"]])
    return {
        "sessionId": session["id"], "cost": pricing.cost(totals.total_cents),
        "computeMinutes": totals.compute_minutes, "activeAgents": limits.active_agents(ctx.emu, session),
        "totalAgentsCreated": created,
        "compute": {"minutes": totals.compute_minutes, "cost": pricing.cost(totals.compute_cents)},
        "models": {"inputTokens": totals.input_tokens, "outputTokens": totals.output_tokens,
                   "calls": totals.model_calls, "cost": pricing.cost(totals.model_cents)},
        "storage": {"gb": totals.storage_gb, "cost": pricing.cost(totals.storage_cents)},
    }


async def get_limits(ctx: Ctx) -> dict:
    """The session's limits with what is used and what remains."""
    return limits.view(ctx.emu, load(ctx, ctx.params["session_id"]))


async def update_limits(ctx: Ctx) -> dict:
    """Change some limits; a limit set to null is removed."""
    session = load(ctx, ctx.params["session_id"])
    merged = dict(session["limits"] or {})
    for name, value in ctx.body.model_dump(exclude_unset=True).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value
    ctx.emu.store.update("sessions", session["id"], {"limits": merged, "updated_at": ctx.now_iso()})
    return limits.view(ctx.emu, load(ctx, session["id"]))


routes = [
    api_route("/v1/sessions", create_session, "POST", body=CreateSession, status=201),
    api_route("/v1/sessions", list_sessions),
    api_route("/v1/sessions/by-user/{user_id:path}", session_for_user, "POST", body=SessionOptions),
    api_route("/v1/sessions/{session_id}", get_session),
    api_route("/v1/sessions/{session_id}/pause", pause_session, "POST"),
    api_route("/v1/sessions/{session_id}/resume", resume_session, "POST"),
    api_route("/v1/sessions/{session_id}/terminate", terminate_session, "POST"),
    api_route("/v1/sessions/{session_id}/usage", session_usage),
    api_route("/v1/sessions/{session_id}/limits", get_limits),
    api_route("/v1/sessions/{session_id}/limits", update_limits, "PATCH", body=SessionLimits),
]
