"""The timer that fires due schedules (their cron expressions are core/cron.py's).

Reference section "Schedules". `ScheduleTimer` fires every active schedule whose
`next_run_ms` (indexed; NULL while paused) is due, in time order, exactly once each: the
action runs, one history row is written, `next_run_ms` moves on.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from theazo_emu.core import timers
from theazo_emu.core.clock import iso
from theazo_emu.core.cron import compile_cron
from theazo_emu.core.errors import ApiError
from theazo_emu.theazo.domain import actions

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Store
    from theazo_emu.core.tenant import Tenant


class ScheduleTimer:
    """The timers.TimerSource of schedules (registered on every emulator by create_app)."""

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        return store.scalar("SELECT MIN(next_run_ms) FROM schedules")

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        """Fire what is due at `at_ms`, then later occurrences up to the horizon, in (instant,
        id) order, while every firing so far was an agent-run: that writes agents, runs and
        the ledger, which no other timer source waits on, whereas a workflow-run may make a
        workflow step due, so after one every source is asked again."""
        rows = store.all("SELECT * FROM schedules WHERE next_run_ms <= ? ORDER BY next_run_ms, id", [horizon_ms])
        queue = [(row["next_run_ms"], row["id"], row) for row in rows]  # sorted, so already a heap
        fired: list[dict[str, Any]] = []
        sessions: dict[tuple[str, str], dict] = {}  # see actions.run
        ahead = True
        while queue and (queue[0][0] <= at_ms or ahead):
            due, ident, schedule = heapq.heappop(queue)
            timers.reach(emu, due)
            following = compile_cron(schedule["cron"], schedule["timezone"]).next_after(due)
            fired.append(fire_one(emu.tenant(schedule["tenant"]), schedule, following, sessions))
            ahead = ahead and schedule["action"]["type"] == "agent-run"
            if following is not None and following <= horizon_ms:
                moved = schedule | {"next_run_ms": following, "last_run_ms": due}  # as _record wrote it
                heapq.heappush(queue, (following, ident, moved))
        return fired


def fire_one(t: "Tenant", schedule: dict, following: int | None,
             sessions: dict[tuple[str, str], dict]) -> dict[str, Any]:
    """Run one due occurrence: its action, its history row and the next occurrence
    (`following`) commit together; a refused action is rolled back and its refusal recorded.
    `sessions` carries users' sessions from firing to firing (see actions.run)."""
    due = schedule["next_run_ms"]
    fired = {"type": "schedule", "scheduleId": schedule["id"], "scheduledAt": iso(due)}
    try:
        with t.store.atomic():
            started = actions.run(t, schedule["action"], default_user=actions.SCHEDULE_USER,
                                  fallback_task=f"Scheduled run: {schedule['name']}", sessions=sessions)
            exec_id = _record(t, schedule, following, started, None)
    except ApiError as exc:
        failure = {"code": exc.code, "message": exc.message}
        with t.store.atomic():
            exec_id = _record(t, schedule, following, None, failure)
        return fired | {"executionId": exec_id, "status": "failed", "error": failure}
    return fired | {"executionId": exec_id, "status": "started", "taskId": started.task_id} \
        | actions.agent_resolution(started.agent, started.resolved)


def _record(t: "Tenant", schedule: dict, following: int | None, started: actions.Started | None,
            failure: dict | None) -> str:
    """Write the history row and move the schedule to its next occurrence; the execution id."""
    exec_id = t.new_id("exec")
    t.store.insert("schedule_executions", {
        "id": exec_id, "tenant": t.name, "schedule_id": schedule["id"],
        "scheduled_ms": schedule["next_run_ms"], "started_ms": t.now_ms(),
        "status": "failed" if failure else "started", "task_id": started.task_id if started else None,
        "agent_id": started.agent_id if started else None, "session_id": started.session_id if started else None,
        "workflow_run_id": started.workflow_run_id if started else None, "failure": failure,
        "agent": actions.agent_ref(schedule["action"]), "agent_config": started.resolved if started else None,
    })
    t.store.update("schedules", schedule["id"], {"next_run_ms": following, "last_run_ms": schedule["next_run_ms"]})
    return exec_id
