"""Session tasks and one-shot session runs: a fresh agent per task, released when it ends.

The SDK's `session.run(agent, task)` (POST /v1/sessions/:id/run) and `session.tasks`
(POST/GET /v1/sessions/:id/tasks, get, wait, cancel); the one writer of `session_tasks`.
Each task makes an agent from its reference (orchestration.agent_request: a definition id,
a definition name, an ad-hoc role name or an inline config) and runs it at once through
agents.new_agent/start_run, so limits, guardrails and the ledger apply as to any run; a
refusal stores nothing. The task's id is its run's id (`task_...`), and its status is the
run's (`running` until the timeline ends, then `completed` or `failed`; a terminated run
is `cancelled`). `TaskTimer` harvests a task when its run ends: the agent is terminated
(so it stops counting against `maxAgents`), the final status is written, and the task's
`webhook`, if any, gets the Task as JSON (a real POST through httpx, journaled as
`webhook`). Tasks never wait for a slot, so `queued` is never reported; `priority` is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core import outbound
from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Conflict, NotFound
from theazo_emu.core.journal import record_event
from theazo_emu.theazo.domain import guardrails, orchestration, pricing, runs
from theazo_emu.theazo.domain.agents import new_agent, start_run
from theazo_emu.theazo.domain.sessions import require_active

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.store import Store
    from theazo_emu.core.tenant import Tenant

TABLE, KIND = "session_tasks", "task"
STATUSES = ("queued", "running", "completed", "failed", "cancelled")
FINAL = ("completed", "failed", "cancelled")
_FROM_RUN = {"running": "running", "paused": "running", "completed": "completed", "failed": "failed",
             "terminated": "cancelled"}
# The task's status in SQL, for lists filtered by it (the same rule as task_status).
STATUS_SQL = ("(CASE WHEN t.status != 'open' THEN t.status "
              "WHEN r.status = 'paused' OR (r.status = 'running' AND (r.end_ms IS NULL OR r.end_ms > :now)) "
              "THEN 'running' WHEN r.status = 'terminated' THEN 'cancelled' "
              "WHEN r.status = 'running' THEN r.outcome ELSE r.status END)")
WEBHOOK_TIMEOUT_S = 10.0


def task_status(row: dict, run: dict, now_ms: int) -> str:
    return row["status"] if row["status"] != "open" else _FROM_RUN[runs.run_status(run, now_ms)]


def _message(t: "Tenant", run: dict, status: str) -> str:
    """What the task is doing, from its newest released event."""
    last = next(iter(t.store.select(f"SELECT event, data FROM run_events WHERE {runs.OF_RUN} AND at_ms IS NOT NULL "
                                    "AND at_ms <= :now ORDER BY seq DESC LIMIT 1", run=run["id"], now=t.now_ms())),
                None)
    if status == "cancelled":
        return "Cancelled."
    if last is None:
        return "Starting."
    data = last["data"]
    return {"tool_call": lambda: f"Calling {data.get('tool')}.", "tool_result": lambda: f"{data.get('tool')} returned.",
            "output": lambda: "Completed.", "error": lambda: data.get("message") or "Failed.",
            "input": lambda: f"Received input ({data.get('inputType')})."}.get(
        last["event"], lambda: data.get("message") or data.get("text") or "Working.")()


def task_to_api(t: "Tenant", row: dict, run: dict) -> dict[str, Any]:
    """The SDK's Task (`taskId`, `status`, `progress`, `message`, `output` once completed,
    `cost`), with the agent, input and timing beside it."""
    now = t.now_ms()
    status = task_status(row, run, now)
    result = run["result"]
    duration = result["durationMs"]
    elapsed = runs.elapsed_ms(run, now)
    body: dict[str, Any] = {
        "taskId": row["id"], "id": row["id"], "status": status,
        "progress": 100 if status == "completed" else min(99, 100 * elapsed // duration) if duration else 0,
        "message": _message(t, run, status), "cost": result["cost"], "agentId": row["agent_id"],
        "sessionId": row["session_id"], "kind": row["kind"], "agent": row["agent_ref"], "input": row["input"],
        "priority": row["priority"], "createdAt": row["created_at"], "startedAt": row["created_at"],
        "duration": pricing.duration_text(elapsed), "durationMs": elapsed,
    }
    if status == "completed":
        body["output"] = result["output"]
    if status in FINAL:
        body["completedAt"] = row["completed_at"] or iso(run["end_ms"] if run["end_ms"] is not None else now)
    error = result.get("error") if status == "failed" else None
    if status == "cancelled":
        error = {"code": "cancelled", "message": "The task was cancelled before it ended."}
    if error:
        body["error"] = error
    if row["webhook"]:
        body["webhook"] = row["webhook"]
    return body


def load(t: "Tenant", session_id: str, task_id: str) -> tuple[dict, dict]:
    """The session's task and its run (404 for another session's or tenant's)."""
    row = t.store.find(TABLE, "id = ? AND session_id = ?", [task_id, session_id])
    if row is None:
        raise NotFound(KIND, task_id)
    return row, _run(t, row["id"])


def _run(t: "Tenant", run_id: str) -> dict:
    return t.store.find("runs", "id = ?", [run_id], order=None)


def start(t: "Tenant", session: dict, ref: Any, text: str, *, kind: str, task_input: Any = None,
          priority: str = "normal", webhook: str | None = None, timeout: Any = None, browser: bool | None = None
          ) -> tuple[dict, dict, dict]:
    """A task on a fresh agent of the session: (task row, agent row, run row). Every refusal
    (409 session, 402 limits, 404/409/422 agent reference, 422 guardrails) stores nothing."""
    require_active(session, t.now_ms())
    body = orchestration.agent_request(t, ref, timeout=timeout)
    if browser is not None:
        body = body.model_copy(update={"browser": browser})
    guardrails.check_input(t, text, field="task" if kind == "run" else "input", source=kind,
                           session_id=session["id"])
    with t.store.atomic():  # a refused run takes its agent with it
        agent = new_agent(t, session, body)
        run = start_run(t, agent, text, session)
        row = t.store.insert(TABLE, {
            "id": run["id"], "tenant": t.name, "session_id": session["id"], "agent_id": agent["id"], "kind": kind,
            "agent_ref": ref, "input": task_input, "priority": priority, "webhook": webhook, "status": "open",
            "created_at": run["created_at"], "completed_at": None})
    if run["end_ms"] is not None and run["end_ms"] <= t.now_ms():
        row = finish(t, row)  # --pace instant: the run has already ended
    return row, t.store.find("agents", "id = ?", [agent["id"]], order=None), run


def finish(t: "Tenant", row: dict) -> dict:
    """Harvest a task whose run has ended: release its agent, write its final status, call its webhook."""
    run = _run(t, row["id"])
    now = t.now_ms()
    status = task_status(row, run, now)
    end = run["end_ms"] if run["end_ms"] is not None else now
    with t.store.atomic():
        orchestration.release(t, row["agent_id"])
        t.store.update(TABLE, row["id"], {"status": status, "completed_at": iso(min(end, now))})
    row = t.store.find(TABLE, "id = ?", [row["id"]], order=None)
    if row["webhook"]:
        _notify(t, row, run)
    return row


def cancel(t: "Tenant", row: dict, run: dict) -> tuple[dict, dict]:
    """Stop a running task (its agent is terminated); 409 once it has ended. The task and its run."""
    status = task_status(row, run, t.now_ms())
    if status in FINAL:
        if row["status"] == "open":
            finish(t, row)
        raise Conflict(f"Task {row['id']} is {status} and cannot be cancelled.", {"status": status})
    with t.store.atomic():
        agent = t.store.find("agents", "id = ?", [row["agent_id"]], order=None)
        if agent is not None and agent["status"] != "terminated":
            runs.terminate(t, agent)
        t.store.update(TABLE, row["id"], {"status": "cancelled"})
    row = finish(t, t.store.find(TABLE, "id = ?", [row["id"]], order=None))
    return row, _run(t, row["id"])


def _notify(t: "Tenant", row: dict, run: dict) -> None:
    """POST the finished Task to its webhook in the background; the outcome goes to the journal."""
    body = task_to_api(t, row, _run(t, run["id"]))
    request = {"method": "POST", "url": row["webhook"], "body": {"event": f"task.{body['status']}", "task": body},
               "headers": {"User-Agent": "theazo-emu", "X-Theazo-Event": f"task.{body['status']}"},
               "timeoutS": WEBHOOK_TIMEOUT_S}
    entry = {"source": "task", "taskId": row["id"], "url": row["webhook"], "tenant": row["tenant"]}

    def done(outcome: dict[str, Any]) -> None:
        status = (outcome.get("output") or {}).get("status")
        record_event(t, "webhook", **entry, ok=outcome["ok"], status=status, error=outcome.get("message"))

    outcome = outbound.launch(t, request, done)
    if outcome is not None:
        done(outcome)


def list_rows(t: "Tenant", session_id: str, status: str | None, limit: int,
              after: str | None) -> list[tuple[dict, dict]]:
    """Up to limit+1 of the session's tasks, newest first, with their runs."""
    where = "t.tenant = :tenant AND t.session_id = :session"
    if status is not None:
        where += f" AND {STATUS_SQL} = :status"
    if after is not None:
        where += " AND t.id < :after"
    rows = t.store.select(f"SELECT t.* FROM {TABLE} t JOIN runs r ON r.id = t.id AND r.tenant = :tenant "
                          f"WHERE {where} ORDER BY t.id DESC LIMIT :limit", session=session_id, now=t.now_ms(),
                          status=status, after=after, limit=limit + 1)
    found = {r["id"]: r for r in t.store.rows(
        "runs", f"id IN ({','.join('?' * len(rows))})", [r["id"] for r in rows], order=None)} if rows else {}
    return [(row, found[row["id"]]) for row in rows]


class TaskTimer:
    """The timers.TimerSource of tasks: a task's run timeline ends."""

    def next_due(self, emu: "Host", store: "Store") -> int | None:  # every tenant's tasks
        return store.scalar(f"SELECT MIN(r.end_ms) FROM {TABLE} t JOIN runs r ON r.id = t.id "
                            "WHERE t.status = 'open' AND r.end_ms IS NOT NULL")

    def fire(self, emu: "Host", store: "Store", at_ms: int, horizon_ms: int) -> list[dict[str, Any]]:
        due = store.all(f"SELECT t.* FROM {TABLE} t JOIN runs r ON r.id = t.id WHERE t.status = 'open' "
                        "AND r.end_ms <= ? ORDER BY r.end_ms, t.id", [at_ms])
        fired = []
        for row in due:
            done = finish(emu.tenant(row["tenant"]), row)
            fired.append({"type": "task", "taskId": done["id"], "status": done["status"]})
        if fired:
            emu.changes.notify()
        return fired
