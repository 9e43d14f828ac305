"""Schedules: cron-driven agent and workflow runs (reference "Schedules", sdk-compat "Schedules").

The /v1/schedules routes. Cron semantics and firing live in domain/scheduler.py (a
timers.TimerSource), never in a request; creating one is domain/schedules.py's, since
workflows schedule themselves too. Invariants: `next_run_ms` is the next occurrence
strictly after the moment it was computed (create, cron change, resume), NULL while
paused, so a resumed schedule never catches up on the occurrences it missed. Lists and
history answer a bare array to the SDK and `{data, ...}` to everyone else.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.clock import iso
from theazo_emu.core.cron import compile_cron
from theazo_emu.core.errors import Conflict
from theazo_emu.core.http import PAGE, Ctx, PageParams, Where, api_route
from theazo_emu.theazo.bodies.orchestration import CreateSchedule, UpdateSchedule, stored_action
from theazo_emu.theazo.domain import actions, runs, schedules
from theazo_emu.theazo.domain.pricing import cost
from theazo_emu.theazo.domain.schedules import KIND, STATUSES, TABLE, compile_checked, create_schedule, schedule_to_api
from theazo_emu.theazo.surface import list_answer, list_page, page_body


def execution_to_api(row: dict, now_ms: int) -> dict[str, Any]:
    """One firing: the SDK's `{executionId, agentId, status, cost, startedAt, completedAt}` and more."""
    body: dict[str, Any] = {
        "executionId": row["id"], "id": row["id"], "scheduleId": row["schedule_id"], "agentId": row["agent_id"],
        "sessionId": row["session_id"], "taskId": row["task_id"], "workflowRunId": row["workflow_run_id"],
        "scheduledAt": iso(row["scheduled_ms"]), "startedAt": iso(row["started_ms"]),
    } | actions.agent_resolution(row["agent"], row["agent_config"])
    if row["status"] == "failed":
        return body | {"status": "failed", "cost": cost(0), "completedAt": iso(row["started_ms"]),
                       "error": row["failure"]}
    if row["run_status"] is not None:
        status = runs.run_status({"status": row["run_status"], "outcome": row["run_outcome"],
                                  "end_ms": row["run_end_ms"]}, now_ms)
        done = status not in ("running", "paused")
        return body | {"status": status, "cost": row["result"]["cost"],
                       "completedAt": iso(row["run_end_ms"]) if done and row["run_end_ms"] is not None else None}
    if row["wf_status"] is not None:
        return body | {"status": row["wf_status"], "cost": cost(row["wf_cents"]), "completedAt": row["wf_completed_at"]}
    return body | {"status": "started", "cost": cost(0), "completedAt": None}


def _load(ctx: Ctx) -> dict:
    return ctx.store.get(TABLE, ctx.params["schedule_id"], KIND)


def _reload(ctx: Ctx, schedule_id: str) -> dict[str, Any]:
    return schedule_to_api(ctx.store.get(TABLE, schedule_id, KIND))


async def add_schedule(ctx: Ctx) -> dict:
    """Create a schedule (reference `action` or SDK `agent` + `userId` + `input`)."""
    body: CreateSchedule = ctx.body
    action = actions.normalize(stored_action(body.action), body.agent, body.userId, body.input)
    return create_schedule(ctx.t, name=body.name, cron=body.cron, action=action,
                           timezone=body.timezone, metadata=body.metadata)


async def list_schedules(ctx: Ctx) -> Any:
    """List schedules, newest first (filter: status)."""
    body = list_page(ctx, TABLE, Where(ctx).choice("status", "status", STATUSES), "sched", schedule_to_api)
    return list_answer(ctx, body)


def _updated_action(current: dict[str, Any], body: UpdateSchedule) -> dict[str, Any] | None:
    """The new action: a whole `action`, or the SDK fields applied to the current one."""
    if body.action is not None:
        return actions.normalize(stored_action(body.action), None, None)
    given = body.model_fields_set & {"agent", "userId", "input"}
    if not given:
        return None
    kind, config = current["type"], dict(current["config"])
    if body.agent is not None:
        if kind != "agent-run":
            kind, config = "agent-run", {}
        config.pop("definitionId", None)
        config.pop("agent", None)
        config |= actions.agent_config(body.agent)
    for name in sorted(given - {"agent"}):
        config[name] = getattr(body, name)
    return {"type": kind, "config": {k: v for k, v in config.items() if v is not None}}


async def update_schedule(ctx: Ctx) -> dict:
    """Change the name, cron, timezone, action or metadata; a new cron counts from now."""
    body: UpdateSchedule = ctx.body
    row = _load(ctx)
    changes: dict[str, Any] = {}
    if body.name is not None:
        changes["name"] = body.name
    if body.metadata is not None:
        changes["metadata"] = body.metadata
    action = _updated_action(row["action"], body)
    if action is not None:
        actions.check(ctx.t, action)
        changes["action"] = action
    if body.cron is not None or body.timezone is not None:
        zone = body.timezone if body.timezone is not None else row["timezone"]
        compiled = compile_checked(body.cron if body.cron is not None else row["cron"], zone)
        changes |= {"cron": compiled.expr, "timezone": zone}
        if row["status"] == "active":
            changes["next_run_ms"] = compiled.next_after(ctx.now_ms())
    if changes:
        ctx.store.update(TABLE, row["id"], changes | {"updated_at": ctx.now_iso()})
        ctx.emu.changes.notify()
    return _reload(ctx, row["id"])


async def delete_schedule(ctx: Ctx) -> dict:
    """Delete a schedule and its history; no further firings."""
    row = _load(ctx)
    with ctx.store.atomic():
        ctx.store.delete(schedules.EXECUTIONS, "schedule_id = ?", [row["id"]])
        ctx.store.delete(TABLE, "id = ?", [row["id"]])
    return {"ok": True, "id": row["id"], "deleted": True}


async def pause_schedule(ctx: Ctx) -> dict:
    """Pause: nothing fires until resumed (409 if already paused)."""
    row = _load(ctx)
    if row["status"] != "active":
        raise Conflict(f"Schedule {row['id']} is already paused.", {"status": row["status"]})
    ctx.store.update(TABLE, row["id"], {"status": "paused", "next_run_ms": None, "updated_at": ctx.now_iso()})
    return _reload(ctx, row["id"])


async def resume_schedule(ctx: Ctx) -> dict:
    """Resume: the next firing is the first occurrence after now; missed ones are skipped."""
    row = _load(ctx)
    if row["status"] != "paused":
        raise Conflict(f"Schedule {row['id']} is not paused.", {"status": row["status"]})
    next_ms = compile_cron(row["cron"], row["timezone"]).next_after(ctx.now_ms())
    ctx.store.update(TABLE, row["id"], {"status": "active", "next_run_ms": next_ms, "updated_at": ctx.now_iso()})
    ctx.emu.changes.notify()
    return _reload(ctx, row["id"])


async def schedule_history(ctx: Ctx) -> Any:
    """The schedule's firings, newest first, with each run's status and cost."""
    row, params, now = _load(ctx), PageParams.from_query(ctx, "exec"), ctx.now_ms()
    rows = schedules.history(ctx.t, row, params.limit + 1, params.after)
    return list_answer(ctx, page_body(params.cut(rows), lambda r: execution_to_api(r, now)))


routes = [
    api_route("/v1/schedules", add_schedule, "POST", body=CreateSchedule, status=201),
    api_route("/v1/schedules", list_schedules, query=("status", *PAGE)),
    api_route("/v1/schedules/{schedule_id}", update_schedule, "PATCH", body=UpdateSchedule),
    api_route("/v1/schedules/{schedule_id}", delete_schedule, "DELETE"),
    api_route("/v1/schedules/{schedule_id}/pause", pause_schedule, "POST"),
    api_route("/v1/schedules/{schedule_id}/resume", resume_schedule, "POST"),
    api_route("/v1/schedules/{schedule_id}/history", schedule_history, query=PAGE),
]
