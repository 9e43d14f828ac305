"""Theo workflows: triggered step lists, run on the virtual clock. Owns theo_workflows and
theo_workflow_runs.

theo-api.md §1.2. A workflow's trigger is `manual` (POST /workflows/:id/run), `schedule`
(`triggerConfig.cron`, 5 fields or a macro, in `triggerConfig.timezone`, fired by
`TheoWorkflowTimer` as the clock reaches each occurrence, as Theazo schedules are) or
`event` (`triggerConfig.eventType`: an event published through POST /events starts it).
A run executes its steps in order, at once (their work is mocked): each step succeeds with
an output, unless its `config.fail` is true (a scripted failure), in which case the run goes
to the step its `onFailure` names or fails; `onSuccess` names the next step instead of the
following one. A run ends `completed` or `failed` and publishes workflow.completed or
workflow.failed.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.cron import check_timezone, compile_cron
from theazo_emu.theo.domain import events
from theazo_emu.theo.domain.keys import user_id

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Store
    from theazo_emu.core.tenant import Tenant

TABLE, RUNS, KIND = "theo_workflows", "theo_workflow_runs", "workflow"
MAX_STEPS_RUN = 200  # a run stops (failed) after this many steps: onSuccess/onFailure may loop


def workflow_to_api(row: dict[str, Any]) -> dict[str, Any]:
    next_ms = row["next_run_ms"]
    return {"id": row["id"], "userId": user_id(row["tenant"]), "name": row["name"],
            "triggerType": row["trigger_type"], "triggerConfig": row["trigger_config"], "steps": row["steps"],
            "enabled": bool(row["enabled"]), "nextRunAt": iso(next_ms) if next_ms is not None else None,
            "createdAt": row["created_at"], "updatedAt": row["updated_at"]}


def run_to_api(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "workflowId": row["workflow_id"], "status": row["status"], "trigger": row["trigger"],
            "triggerData": row["trigger_data"], "stepsCompleted": row["steps_completed"],
            "steps": row["step_results"] or [], "error": row["error"], "startedAt": row["started_at"],
            "completedAt": row["completed_at"]}


def next_run(trigger_type: str, config: dict[str, Any], after_ms: int) -> int | None:
    """The next firing of a schedule trigger after `after_ms` (None for other triggers)."""
    if trigger_type != "schedule":
        return None
    return compile_cron(config["cron"], config.get("timezone")).next_after(after_ms)


def check_trigger(trigger_type: str, config: dict[str, Any]) -> str | None:
    """What is wrong with a trigger's config (None: it is fine); ValueError for a bad cron."""
    if trigger_type == "schedule":
        if not isinstance(config.get("cron"), str):
            return "a schedule trigger needs triggerConfig.cron"
        zone = config.get("timezone")
        if zone is not None and not isinstance(zone, str):
            raise ValueError("triggerConfig.timezone must be an IANA timezone name")
        check_timezone(zone)
        compile_cron(config["cron"], zone)
    if trigger_type == "event" and not isinstance(config.get("eventType"), str):
        return "an event trigger needs triggerConfig.eventType"
    return None


def create(t: "Tenant", *, name: str, trigger_type: str, config: dict[str, Any],
           steps: list[dict[str, Any]], enabled: bool) -> dict[str, Any]:
    now = t.now_ms()
    row = {"id": t.new_id("wf"), "name": name, "trigger_type": trigger_type,
           "trigger_config": config, "steps": steps, "enabled": int(enabled),
           "next_run_ms": next_run(trigger_type, config, now) if enabled else None, "created_at": iso(now),
           "updated_at": iso(now)}
    t.store.insert(TABLE, row)
    t.changes.notify()  # the timers loop may have an earlier instant now
    return {**row, "tenant": t.name}


def _output(run_id: str, step: dict[str, Any], data: Any) -> dict[str, Any]:
    digest = hashlib.sha256(f"{run_id}|{step['name']}|{step['type']}".encode()).hexdigest()[:8]
    return {"type": step["type"], "summary": f"{step['type']} step '{step['name']}' done (mock, ref {digest})",
            "input": data}


def run(t: "Tenant", workflow: dict[str, Any], trigger: str, data: Any) -> dict[str, Any]:
    """Run a workflow now (call inside a transaction): its run row, steps executed."""
    run_id = t.new_id("wfrun")
    steps: list[dict[str, Any]] = workflow["steps"]
    by_name = {step["name"]: i for i, step in enumerate(steps)}
    results, error, index, completed = [], None, 0, 0
    while 0 <= index < len(steps) and len(results) < MAX_STEPS_RUN:
        step = steps[index]
        failed = bool((step.get("config") or {}).get("fail"))
        results.append({"name": step["name"], "type": step["type"], "status": "failed" if failed else "completed",
                        "output": None if failed else _output(run_id, step, data),
                        "error": f"step '{step['name']}' failed (config.fail)" if failed else None})
        target = step.get("onFailure") if failed else step.get("onSuccess")
        if failed and target is None:
            error = results[-1]["error"]
            break
        completed += not failed
        index = by_name.get(target, len(steps)) if target else index + 1
    else:
        if len(results) >= MAX_STEPS_RUN:
            error = f"the run stopped after {MAX_STEPS_RUN} steps (onSuccess/onFailure loop)"
    now = t.now_iso()
    row = {"id": run_id, "workflow_id": workflow["id"], "status": "failed" if error else "completed",
           "trigger": trigger, "trigger_data": data, "steps_completed": completed, "step_results": results,
           "error": error, "started_at": now, "completed_at": now}
    t.store.insert(RUNS, row)
    events.emit(t, "workflow.failed" if error else "workflow.completed", {
        "workflow_id": workflow["id"], "run_id": run_id, "status": row["status"], "steps_completed": completed,
        "error": error})
    return row


def run_for_event(t: "Tenant", event_type: str, event: dict[str, Any]) -> list[dict]:
    """Start every enabled workflow of the tenant whose event trigger is `event_type`."""
    rows = t.store.rows(TABLE, "enabled = 1 AND trigger_type = 'event'")
    return [run(t, row, "event", event) for row in rows
            if row["trigger_config"].get("eventType") == event_type]


class TheoWorkflowTimer:
    """The timers.TimerSource of scheduled workflows: an occurrence of a cron falls due."""

    def next_due(self, emu: "Host", store: "Store") -> int | None:
        return store.scalar(f"SELECT MIN(next_run_ms) FROM {TABLE} WHERE enabled = 1")

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        rows = store.all(f"SELECT * FROM {TABLE} WHERE enabled = 1 AND next_run_ms <= ? ORDER BY next_run_ms, id",
                         [at_ms])
        fired = []
        for row in rows:
            following = next_run(row["trigger_type"], row["trigger_config"], row["next_run_ms"])
            t = emu.tenant(row["tenant"])
            with store.atomic():
                t.store.update(TABLE, row["id"], {"next_run_ms": following})
                done = run(t, row, "schedule", {"scheduledAt": iso(row["next_run_ms"])})
            fired.append({"type": "theo_workflow", "workflowId": row["id"], "runId": done["id"],
                          "status": done["status"], "scheduledAt": iso(row["next_run_ms"])})
        return fired
