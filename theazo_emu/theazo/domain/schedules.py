"""Schedules as the other families use them: creating one, and showing one.

Reference "Schedules". `create_schedule()` is how the schedules API and workflows
(`POST /v1/workflows/:id/schedule`) make one: the cron and timezone are checked here (422
naming the field), the action by actions.check (404/409 for an unusable definition or
workflow). Firing is scheduler.py's; the routes are theazo/routes/schedules.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.cron import check_timezone, compile_cron
from theazo_emu.core.errors import invalid
from theazo_emu.theazo.domain import actions

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE, KIND, EXECUTIONS = "schedules", "schedule", "schedule_executions"


STATUSES = ("active", "paused")


def schedule_to_api(row: dict) -> dict[str, Any]:
    """The union of the reference's Schedule and the SDK's (`agent`, `userId`, `input`); the SDK
    types `agent` as a string, so a workflow schedule's is the workflow id it runs."""
    action, next_ms, last_ms = row["action"], row["next_run_ms"], row["last_run_ms"]
    config = action["config"]
    return {
        "id": row["id"], "name": row["name"], "cron": row["cron"], "timezone": row["timezone"],
        "status": row["status"], "action": action,
        "agent": actions.agent_ref(action) or config.get("workflowId"),
        "workflowId": config.get("workflowId"), "userId": actions.user_of(action, actions.SCHEDULE_USER),
        "input": config.get("input"), "nextRunAt": iso(next_ms) if next_ms is not None else None,
        "lastRunAt": iso(last_ms) if last_ms is not None else None, "metadata": row["metadata"] or {},
        "createdAt": row["created_at"], "updatedAt": row["updated_at"],
    }


def compile_checked(cron: str, timezone: str | None) -> scheduler.Cron:
    """The compiled cron, or a 422 naming `timezone` or `cron`."""
    try:
        check_timezone(timezone)
    except ValueError as exc:
        raise invalid("timezone", str(exc)) from None
    try:
        return compile_cron(cron, timezone)
    except ValueError as exc:
        raise invalid("cron", str(exc)) from None


def create_schedule(t: "Tenant", *, name: str, cron: str, action: dict[str, Any],
                    timezone: str | None = None, metadata: dict | None = None) -> dict[str, Any]:
    """Create an active schedule (422 bad cron/timezone, 404/409 unusable definition); the API body."""
    compiled = compile_checked(cron, timezone)
    actions.check(t, action)
    now_ms = t.now_ms()
    now = iso(now_ms)
    with t.store.atomic():
        row = t.store.insert(TABLE, {
            "id": t.new_id("sched"), "tenant": t.name, "name": name, "cron": compiled.expr,
            "timezone": timezone or "UTC", "status": "active", "action": action, "metadata": metadata or {},
            "next_run_ms": compiled.next_after(now_ms), "last_run_ms": None, "created_at": now, "updated_at": now,
        })
    t.changes.notify()  # the timers loop may now have an earlier instant to wait for
    return schedule_to_api(row)


def history(t: "Tenant", schedule: dict, limit: int, before: str | None) -> list[dict]:
    """Up to `limit` firings of the schedule, newest first, older than `before`; each with its
    run's or workflow run's status and cost."""
    where = "e.tenant = :tenant AND e.schedule_id = :schedule" + (" AND e.id < :before" if before is not None else "")
    return t.store.select(
        "SELECT e.*, r.status AS run_status, r.outcome AS run_outcome, r.end_ms AS run_end_ms, r.result, "
        "w.status AS wf_status, w.total_cents AS wf_cents, w.completed_at AS wf_completed_at "
        "FROM schedule_executions e LEFT JOIN runs r ON r.id = e.task_id AND r.tenant = :tenant "
        f"LEFT JOIN workflow_runs w ON w.id = e.workflow_run_id AND w.tenant = :tenant WHERE {where} "
        "ORDER BY e.id DESC LIMIT :limit", schedule=schedule["id"], before=before, limit=limit)
