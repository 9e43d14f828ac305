"""Agents: making them and running tasks on them, for every path that does (the API, schedules,
triggers, workflows, fleets, channels).

Reference "Agents". `new_agent()` applies a definition (definitions.py), checks the session
is active and within `maxAgents`, that named secrets exist, and resolves the provider;
`start_run()` checks state and limits, then hands the task to runs.submit, whose timeline
decides the status from then on. Illegal transitions are 409 `conflict`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Conflict
from theazo_emu.theazo.domain import (
    agent_io,
    budgets,
    extras,
    guardrails,
    limits,
    pricing,
    providers,
    runs,
    secrets,
    sessions,
)
from theazo_emu.theazo.domain.agent_config import AgentConfig
from theazo_emu.theazo.domain.definitions import agent_settings
from theazo_emu.theazo.domain.sessions import require_active

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE, KIND = "agents", "agent"

STATUSES = ("idle", "running", "paused", "terminated")
SDK_STATUS = {"idle": "ready"}  # the SDK's AgentStatus has no `idle`: its word is `ready`


DEFAULT_TIMEOUT_S = 300


def status_to_api(status: str, sdk: bool) -> str:
    """The agent status in the caller's dialect: the reference's `idle` is the SDK's `ready`."""
    return SDK_STATUS.get(status, status) if sdk else status


def agent_to_api(row: dict, now_ms: int, sdk: bool = False) -> dict[str, Any]:
    return {
        "id": row["id"], "sessionId": row["session_id"], "userId": row["user_id"],
        "status": status_to_api(runs.agent_status(row, now_ms), sdk), "provider": row["provider"],
        "compute": row["compute"],
        "model": row["model"], "browser": bool(row["browser"]), "region": row["region"],
        "instructions": row["instructions"], "tools": row["tools"] or [], "timeout": row["timeout_s"],
        "definitionId": row["definition_id"], "definitionVersion": row["definition_version"],
        "secrets": row["secrets"] or [], "metadata": row["metadata"] or {},
        "currentTaskId": row["current_task_id"], "createdAt": row["created_at"], "updatedAt": row["updated_at"],
        "terminatedAt": row["terminated_at"],
    }


def new_agent(t: "Tenant", session: dict, config: AgentConfig) -> dict:
    """Create an agent row in an active session, within its limits (used by every path
    that makes agents: the API, schedules, triggers, workflows, fleets)."""
    now_ms = t.now_ms()
    require_active(session, now_ms)
    from_definition = agent_settings(t, config)  # 404 unknown, 409 archived
    limits.check(t, session, ("maxAgents",))
    shape, now = config.normalized(), iso(now_ms)
    secrets.require_known(t, session["id"], config.secrets)  # 422 naming unknown ones
    with t.store.atomic(savepoint=False):  # every refusal is above: the insert is all it does
        return t.store.insert("agents", {
            "id": t.new_id("agt"), "tenant": t.name, "session_id": session["id"],
            "user_id": session["user_id"], "status": "idle",
            "provider": providers.resolve(t, shape["provider"]),
            "compute": shape["compute"], "model": shape["model"] or pricing.DEFAULT_MODEL,
            "browser": int(config.browser), "region": config.region or "local", "instructions": config.instructions,
            "tools": config.tools, "timeout_s": shape["timeout_s"] or DEFAULT_TIMEOUT_S,
            "definition_id": config.definition, "definition_version": None, "secrets": config.secrets,
            "metadata": config.metadata or {}, "config": {}, "snapshot": None, "current_task_id": None,
            "busy_until_ms": None, "created_at": now, "updated_at": now, "terminated_at": None,
        } | from_definition)


def start_run(t: "Tenant", agent: dict, task: str, session: dict | None = None) -> dict:
    """Run a task on an idle or running agent of an active session, within the session's
    limits and the billing account's budgets (used by the API and by everything that runs
    agents on its own: schedules, triggers, workflows, fleets); on a running agent it queues
    behind the run in flight (runs.submit). Paused and terminated agents are 409. Returns the
    run row. `session` is the agent's session row when the caller has just read it (it is
    read here otherwise)."""
    now = t.now_ms()
    status = runs.agent_status(agent, now)
    if status not in ("idle", "running"):
        raise Conflict(f"Agent {agent['id']} is {status}; resume it before running a task."
                       if status == "paused" else f"Agent {agent['id']} is {status}.", {"status": status})
    if session is None:
        session = sessions.load(t, agent["session_id"])
    require_active(session, now)
    limits.check(t, session, ("maxCost", "maxComputeMinutes"))
    guardrails.check_input(t, task, field="task", source="run", agent_id=agent["id"],
                           session_id=session["id"])
    configured = extras.configured(t)  # webhooks, budgets, MCP: one lookup for none
    account = budgets.check(t, session) if configured else None
    run = runs.submit(t, agent, task, configured)
    if account is not None:
        budgets.after_run(t, account, run)
    agent_io.deliver_queued(t, agent, run)
    if limits.compute_reached(t, session):
        sessions.auto_pause(t, session, run["end_ms"])
    return run


def load(t: "Tenant", agent_id: str) -> dict:
    return t.store.get(TABLE, agent_id, KIND)


def require_usable(t: "Tenant", agent: dict) -> str:
    """The agent's status, after refusing work on a terminated agent or a stopped session."""
    now = t.now_ms()
    status = runs.agent_status(agent, now)
    if status == "terminated":
        raise Conflict(f"Agent {agent['id']} is terminated.", {"status": status})
    require_active(sessions.load(t, agent["session_id"]), now)
    return status
