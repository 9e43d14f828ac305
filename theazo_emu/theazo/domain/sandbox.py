"""The sandbox bridge: what code inside an agent's sandbox reports through the
`theazo-sandbox` package (POST /v1/sandbox/{log,model,span,progress,complete}; the routes
are theazo/routes/sandbox.py).

Reports land on the agent's *sandbox run*: a run (`task` "sandbox") opened by the first
report while none is open, whose events are the reports in the order they arrive, each
released at once at the virtual instant it arrived. So they show where a user looks, with
no second store: a log line is a `log` event (GET /v1/logs and its stream), a model call a
`model` event plus a ledger charge of its tokens (usage, billing, the run's cost), a span a
`span` event (a span of the run's trace), progress a `progress` event (the SDK's progress
StreamEvent, and GET /v1/agents/:id/progress), and `complete` the run's `output` event, the
SDK's `done`, which ends the run and its streams. A report after that opens a new run.
An open sandbox run is the one run that is `running` with no end (runs.open_sandbox_run);
it is off the agent's timeline, so pause leaves it alone and terminate ends it. Exec is
not billed, so a sandbox run charges only the model calls it reports.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.theazo.domain import ledger, pricing, runs

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TASK = "sandbox"


def environment(agent: dict, endpoint: str) -> dict[str, str]:
    """What the `theazo-sandbox` package reads inside the agent's sandbox (`endpoint`: the
    root URL the bridge answers at; the package appends /v1/sandbox/...)."""
    return {"THEAZO_AGENT_ID": agent["id"], "THEAZO_SESSION_ID": agent["session_id"], "THEAZO_ENDPOINT": endpoint}


def _open(t: "Tenant", agent: dict) -> dict:
    """The agent's open sandbox run, opened now if there is none (call inside a write)."""
    run = runs.open_sandbox_run(t, agent)
    if run is not None:
        return run
    now = t.now_ms()
    result = {"output": "", "artifacts": [], "toolCalls": [], "cost": pricing.cost(0),
              "duration": pricing.duration_text(0), "durationMs": 0, "usage": {"inputTokens": 0, "outputTokens": 0},
              "computeMinutes": 0, "error": None}
    run = t.store.insert("runs", {
        "id": t.new_id("task"), "tenant": t.name, "agent_id": agent["id"], "session_id": agent["session_id"],
        "user_id": agent["user_id"], "task": TASK, "status": "running", "outcome": "completed", "result": result,
        "created_at": iso(now), "start_ms": now, "end_ms": None, "paused_offset_ms": None, "delivered": 0})
    t.store.update("agents", agent["id"], {"current_task_id": run["id"], "updated_at": iso(now)})
    return run


def report(t: "Tenant", agent: dict, event: str, data: dict[str, Any], *, tokens: tuple[int, int] = (0, 0),
           cents: int = 0, model: str | None = None, ends: bool = False) -> dict:
    """Add one report to the agent's sandbox run as `event` now; a call of `model` is
    charged its `tokens` and `cents`, which add to the run's usage and cost; `ends` closes the run.
    Returns the event as stored (`seq`, `at`)."""
    now = t.now_ms()
    with t.store.atomic():
        run = _open(t, agent)
        result = dict(run["result"])
        usage = result["usage"]
        result["usage"] = {"inputTokens": usage["inputTokens"] + tokens[0],
                           "outputTokens": usage["outputTokens"] + tokens[1]}
        result["cost"] = pricing.cost(result["cost"]["amount"] + cents)
        result["durationMs"] = max(0, now - run["start_ms"])
        result["duration"] = pricing.duration_text(result["durationMs"])
        if ends:
            result.update(output=data["output"], artifacts=data["artifacts"])
            data = data | {"cost": result["cost"], "duration": result["duration"], "durationMs": result["durationMs"],
                           "usage": result["usage"]}
        seq = runs.append_event(t, run, event, data, now)
        t.store.update("runs", run["id"], {"result": result, **({"end_ms": now} if ends else {})})
        if model is not None:
            ledger.book(t.store, ledger.charge(
                t.name, now, "model", cents, input_tokens=tokens[0], output_tokens=tokens[1], calls=1,
                run_id=run["id"], user_id=agent["user_id"], session_id=agent["session_id"], agent_id=agent["id"],
                model=pricing.model_key(model), provider=agent["provider"]))
    t.changes.notify()
    return {"taskId": run["id"], "seq": seq, "event": event, "at": iso(now)}


def model_cents(model: str, input_tokens: int, output_tokens: int, reported: float | None) -> int:
    """A model call's charge: the cents the sandbox reported (fractions round up), else its
    tokens at the price table's rate for the model."""
    if reported is not None:
        return math.ceil(reported)
    return pricing.model_cents(model, input_tokens, output_tokens)


def latest_progress(t: "Tenant", agent_id: str) -> dict | None:
    """The agent's last reported progress (`percentage`, `message`, `at_ms`), or None."""
    row = runs.last_event(t, agent_id, "progress")
    if row is None:
        return None
    return {"percentage": row["data"]["percentage"], "message": row["data"]["message"], "at_ms": row["at_ms"]}
