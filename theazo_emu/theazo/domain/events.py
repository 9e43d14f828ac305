"""Platform events: what sessions and runs announce, for the webhooks subscribed to them.

Domain code calls `publish(t, Event(...), ...)` with the tenant's handle where something happens (a
session is created, paused, resumed or terminated; a run starts; a run's timeline ends;
a run's charges cross a budget alert's threshold; a workflow approval opens or is decided).
An event may be due later on the virtual clock (`run.completed` at the run's end), and
runs.py tells webhooks when that instant moves (pause, resume) or goes (terminate).
Webhooks are the one subscriber (domain/webhooks.py); a tenant without webhook endpoints
pays one indexed lookup per publish and nothing else. `Event` lives in platform_event.py
(it is also `events.Event`), where webhooks.py, which this module calls, can name it without
importing this module back. Call inside the transaction that made the change, so an event
is never announced for a change that rolled back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from theazo_emu.theazo.domain import webhooks
from theazo_emu.theazo.domain.platform_event import Event

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TYPES = ("session.created", "session.paused", "session.resumed", "session.terminated",
         "run.started", "run.completed", "run.failed", "approval.requested", "approval.resolved", "budget.alert")
# Endpoints may subscribe to any `<family>.<action>` of the platform's families; the emulator
# emits TYPES (and webhook.test), so other names of these families are accepted and never sent.
FAMILIES = ("session", "run", "agent", "approval", "workflow", "fleet", "budget", "schedule", "trigger", "channel")
# The SDK's examples subscribe with agent.* names: they stand for the run events.
ALIASES = {"agent.started": "run.started", "agent.completed": "run.completed", "agent.failed": "run.failed"}
TEST = "webhook.test"


def publish(t: "Tenant", *events: Event) -> None:
    """Announce events to the tenant's webhook endpoints that subscribe to them."""
    if webhooks.has_endpoints(t):
        webhooks.enqueue(t, events)


def publish_run(t: "Tenant", run: dict) -> None:
    """Announce a submitted run: `run.started` now, its end at its end (built only when a
    webhook endpoint could want them: this is on every run's path)."""
    if webhooks.has_endpoints(t):
        webhooks.enqueue(t, run_events(run))


def run_paused(t: "Tenant", run_id: str) -> None:
    """A paused run's end is no longer due at any instant."""
    webhooks.hold(t, run_id)


def run_resumed(t: "Tenant", run_id: str, end_ms: int) -> None:
    """A resumed run's end is due at its new instant."""
    webhooks.release(t, run_id, end_ms)


def run_terminated(t: "Tenant", run: dict, at_ms: int) -> None:
    """A terminated run never reaches its planned end: it fails now, with code `terminated`."""
    webhooks.cancel(t, run["id"])
    data = run_data(run, "terminated") | {"error": {"code": "terminated", "message": "The agent was terminated."}}
    publish(t, Event("run.failed", data, at_ms))


def run_data(run: dict, status: str) -> dict[str, Any]:
    """What run events carry: the ids, the status and the settled result."""
    result = run["result"]
    data = {"taskId": run["id"], "agentId": run["agent_id"], "sessionId": run["session_id"],
            "userId": run["user_id"], "status": status, "task": run["task"]}
    if status != "running":
        data.update(output=result["output"], cost=result["cost"], durationMs=result["durationMs"],
                    usage=result["usage"])
        if result.get("error"):
            data["error"] = result["error"]
    return data


def run_events(run: dict) -> tuple[Event, Event]:
    """`run.started` now and `run.completed` / `run.failed` at the run's end."""
    outcome = run["outcome"]
    end = Event("run.failed" if outcome == "failed" else "run.completed", run_data(run, outcome), run["end_ms"],
                run["id"])
    return Event("run.started", run_data(run, "running"), run["start_ms"]), end


_SESSION_STATUS = {"created": "active", "paused": "paused", "resumed": "active", "terminated": "terminated"}


def session_event(kind: str, session: dict, at_ms: int) -> Event:
    """`session.<kind>`: created, paused, resumed or terminated."""
    return Event(f"session.{kind}", {"sessionId": session["id"], "userId": session["user_id"],
                                     "status": _SESSION_STATUS[kind]}, at_ms)
