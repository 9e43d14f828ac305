"""Sessions: the one writer of the `sessions` table, and what other families ask of a session.

Reference "Sessions". Status is derived: an active session whose compute limit was reached
reads as paused from the instant it was reached (`auto_pause_at_ms`, set by start_run in
agents.py through `auto_pause`). `user_session()` is get-or-create by user id, used by the
by-user route, schedules, triggers, workflows, channels. Terminating a session terminates
its agents (runs.terminate).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Conflict
from theazo_emu.theazo.domain import events, runs

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE, KIND = "sessions", "session"
STATUSES = ("active", "paused", "terminated")


def session_status(row: dict, now_ms: int) -> str:
    auto = row.get("auto_pause_at_ms")
    if row["status"] == "active" and auto is not None and auto <= now_ms:
        return "paused"
    return row["status"]


def session_to_api(row: dict, now_ms: int) -> dict[str, Any]:
    status = session_status(row, now_ms)
    auto = row["auto_pause_at_ms"]
    paused_at = row["paused_at"] or (iso(auto) if status == "paused" and auto else None)
    return {
        "id": row["id"], "userId": row["user_id"], "status": status, "environment": row["environment"],
        "metadata": row["metadata"] or {}, "limits": row["limits"] or {}, "createdAt": row["created_at"],
        "updatedAt": row["updated_at"], "pausedAt": paused_at, "terminatedAt": row["terminated_at"],
    }


def load(t: "Tenant", session_id: str) -> dict:
    return t.store.get(TABLE, session_id, KIND)


def require_active(session: dict, now_ms: int) -> None:
    status = session_status(session, now_ms)
    if status != "active":
        raise Conflict(f"Session {session['id']} is {status}.", {"sessionId": session["id"], "status": status})


def create(t: "Tenant", user_id: str, *, environment: str | None = None,
           metadata: dict[str, Any] | None = None, limits: dict[str, Any] | None = None) -> dict:
    """A new active session (`development` unless another environment is given)."""
    now = t.now_iso()
    with t.store.atomic():
        row = t.store.insert(TABLE, {
            "id": t.new_id("ses"), "user_id": user_id, "status": "active",
            "environment": environment or "development", "metadata": metadata or {}, "limits": limits or {},
            "created_at": now, "updated_at": now, "paused_at": None, "terminated_at": None,
            "auto_pause_at_ms": None,
        })
        events.publish(t, events.session_event("created", row, t.now_ms()))
    return row


def user_session(t: "Tenant", user_id: str, **options: Any) -> tuple[dict, bool]:
    """The user's live (not terminated) session, created if none with `options` (create's): (row, created)."""
    # No await between the lookup and the insert: concurrent calls cannot both create.
    row = t.store.find(TABLE, "user_id = ? AND status != 'terminated'", [user_id])
    if row is not None:
        return row, False
    return create(t, user_id, **options), True


def pause(t: "Tenant", session: dict) -> None:
    now = t.now_iso()
    with t.store.atomic():
        t.store.update(TABLE, session["id"], {
            "status": "paused", "paused_at": now, "updated_at": now})
        events.publish(t, events.session_event("paused", session, t.now_ms()))


def resume(t: "Tenant", session: dict) -> None:
    with t.store.atomic():
        t.store.update(TABLE, session["id"], {
            "status": "active", "paused_at": None, "auto_pause_at_ms": None, "updated_at": t.now_iso()})
        events.publish(t, events.session_event("resumed", session, t.now_ms()))


def auto_pause(t: "Tenant", session: dict, at_ms: int) -> None:
    """The session pauses itself at `at_ms` (its compute limit is reached then)."""
    t.store.update(TABLE, session["id"], {"auto_pause_at_ms": at_ms})


def terminate(t: "Tenant", session: dict) -> None:
    """Terminate the session and every agent in it."""
    scoped, now = t.store, t.now_iso()
    with scoped.atomic():
        for agent in scoped.rows("agents", "session_id = ? AND status != 'terminated'", [session["id"]]):
            runs.terminate(t, agent)
        scoped.update(TABLE, session["id"], {"status": "terminated", "terminated_at": now, "updated_at": now})
        events.publish(t, events.session_event("terminated", session, t.now_ms()))


def set_limits(t: "Tenant", session: dict, limits: dict[str, Any]) -> None:
    t.store.update(TABLE, session["id"], {"limits": limits, "updated_at": t.now_iso()})
